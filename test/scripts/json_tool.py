#!/usr/bin/env python3
"""Writes a changed copy of a JSON file, for tests of gemc's error handling.

  json_tool.py SRC DST set PATH JSON    set the value at PATH (dotted; list indices as numbers)
  json_tool.py SRC DST delete PATH      remove the value at PATH
  json_tool.py SRC DST text TEXT        write TEXT instead (SRC is ignored)

Only the Python standard library is used.
"""
import json
import sys


def walk(root, path):
    keys = path.split(".")
    node = root
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    return node, int(last) if isinstance(node, list) else last


def main():
    src, dst, action = sys.argv[1:4]
    if action == "text":
        text = sys.argv[4]
    else:
        with open(src, encoding="utf-8") as f:
            root = json.load(f)
        node, key = walk(root, sys.argv[4])
        if action == "set":
            node[key] = json.loads(sys.argv[5])
        elif action == "delete":
            del node[key]
        else:
            sys.exit("unknown action " + action)
        text = json.dumps(root, ensure_ascii=False)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
