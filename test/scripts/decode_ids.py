#!/usr/bin/env python3
"""Decodes token ids with a tokenizer.json, independently of gemc, for tests of its streaming.

  decode_ids.py TOKENIZER_JSON IDS_FILE [STOP_IDS]
      IDS_FILE holds comma-separated ids; prints their text and a newline. With STOP_IDS
      (comma-separated), stops before the first of them, as generation does.

Pieces are the vocabulary's (and added tokens') strings with "\u2581" as a space; `<0xNN>`
pieces are raw bytes. The bytes are decoded as UTF-8 with invalid sequences replaced (Python's
"replace": one U+FFFD per maximal invalid subpart). Only the Python standard library is used.
"""
import json
import re
import sys


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        tokenizer = json.load(f)
    pieces = {i: p for p, i in tokenizer["model"]["vocab"].items()}
    pieces.update({t["id"]: t["content"] for t in tokenizer.get("added_tokens", [])})
    out = bytearray()
    with open(sys.argv[2]) as f:
        ids = [int(t) for t in f.read().strip().split(",") if t]
    stops = {int(t) for t in sys.argv[3].split(",")} if len(sys.argv) > 3 else set()
    for token in ids:
        if token in stops:
            break
        piece = pieces[token]
        if re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", piece):
            out.append(int(piece[3:5], 16))
        else:
            out += piece.replace("\u2581", " ").encode("utf-8")
    sys.stdout.buffer.write(out.decode("utf-8", errors="replace").encode("utf-8") + b"\n")


if __name__ == "__main__":
    main()
