#!/usr/bin/env python3
"""Checks that the library graph points one way (design.md, "Layout"), from `cmake --graphviz`.

  check_layers.py GRAPH.dot

Every rule names a library and what it must not reach through any chain of link dependencies:
the dialect and its interpreter depend on MLIR and the common library only (not the checkpoint
reader, not sentencepiece); the common library on nothing of LLVM's or MLIR's; the runtime on no
LLVM or MLIR; the frontends on no MLIR. Prints one line per rule and exits 1 on a violation or
when a library a rule names is missing from the graph. Standard library only.
"""
import re
import sys

RULES = {
    "gemc_gemma_dialect": ["gemc_frontends", "sentencepiece"],
    "gemc_interpreter": ["gemc_frontends", "sentencepiece"],
    "gemc_common": ["LLVM", "MLIR", "gemc_frontends", "sentencepiece"],
    "gemc_runtime": ["LLVM", "MLIR"],
    "gemc_frontends": ["MLIR", "gemc_gemma_dialect"],
}


def read_graph(path):
    labels, edges = {}, {}
    for line in open(path):
        node = re.match(r'\s*"(node\d+)" \[ label = "([^"]*)"', line)
        if node:
            labels[node.group(1)] = node.group(2)
        edge = re.match(r'\s*"(node\d+)" -> "(node\d+)"', line)
        if edge:
            edges.setdefault(edge.group(1), set()).add(edge.group(2))
    return labels, edges


def reachable(start, edges):
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def main():
    labels, edges = read_graph(sys.argv[1])
    ids = {label: node for node, label in labels.items()}
    failed = False
    for library, forbidden in RULES.items():
        if library not in ids:
            print("%s: not in the graph" % library)
            failed = True
            continue
        reached = {labels[n] for n in reachable(ids[library], edges)}
        bad = sorted(r for r in reached for f in forbidden if f.lower() in r.lower())
        failed |= bool(bad)
        print("%s: %s" % (library, "reaches " + ", ".join(bad) if bad else
                          "reaches none of " + ", ".join(forbidden)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
