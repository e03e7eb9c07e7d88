#!/usr/bin/env python3
"""Checks compiled quantized artifacts against the oracle, case by case.

  check_quant.py FORMAT TARGET=RUNNER [TARGET=RUNNER ...] -- CASE_DIR ...

For each checkpoint CASE_DIR: `gemc eval CASE --quant FORMAT` (the reference interpreter on the
values FORMAT stores) gives the reference logits and greedy tokens once; then for each TARGET,
`gemc compile CASE --quant FORMAT --target TARGET` and RUNNER (a command line that runs an
artifact, e.g. "gemc run" or a qemu command for gemc-run-aarch64) evaluate the same prompt.
Prints "CASE TARGET: max abs difference D, tokens match|differ" per pair and exits 1 if any
difference exceeds 1e-3 or any token differs. `gemc` must be on PATH.
"""
import array
import os
import shlex
import subprocess
import sys
import tempfile

PROMPT = "2,283,443,368,455,377,362,409,295,397,441,373,362,496,490,302,295,298,363,508,382,492,432,510"
TOLERANCE = 1e-3


def evaluate(command, dump):
    """Runs a gemc eval/run command with --dump-logits; returns (logits, tokens)."""
    out = subprocess.run(command + ["--tokens", PROMPT, "-n", "8", "--dump-logits", dump],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    values = array.array("f")
    with open(dump, "rb") as f:
        values.frombytes(f.read())
    return values, out.split()


def main():
    separator = sys.argv.index("--")
    fmt, targets, cases = sys.argv[1], sys.argv[2:separator], sys.argv[separator + 1:]
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            name = os.path.basename(case.rstrip("/"))
            reference = evaluate(["gemc", "eval", case, "--quant", fmt],
                                 os.path.join(tmp, "eval.f32"))
            for spec in targets:
                target, runner = spec.split("=", 1)
                artifact = os.path.join(tmp, name + ".gemc")
                subprocess.run(["gemc", "compile", case, "--quant", fmt, "--target", target,
                                "-o", artifact], check=True, stderr=subprocess.DEVNULL)
                logits, tokens = evaluate(shlex.split(runner) + [artifact],
                                          os.path.join(tmp, "run.f32"))
                if len(logits) != len(reference[0]):
                    sys.exit("%s %s: %d logits, expected %d" % (name, target, len(logits),
                                                                 len(reference[0])))
                worst = max(abs(x - y) for x, y in zip(logits, reference[0]))
                same = tokens == reference[1]
                failed |= worst > TOLERANCE or not same
                print("%s %s: max abs difference %.3g, tokens %s" %
                      (name, target, worst, "match" if same else "differ"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
