#!/usr/bin/env python3
"""Checks compiled quantized artifacts against the oracle, case by case.

  check_quant.py [--positions N] [--context C] FORMAT TARGET=RUNNER [TARGET=RUNNER ...] -- CASE_DIR ...

For each checkpoint CASE_DIR: `gemc eval CASE --quant FORMAT` (the reference interpreter on the
values FORMAT stores; a FORMAT that is a file is a quantization config, --quant-config) gives
the reference logits and greedy tokens once; then for each TARGET,
`gemc compile CASE --quant FORMAT --target TARGET` and RUNNER (a command line that runs an
artifact, e.g. "gemc run" or a qemu command for gemc-run-aarch64) evaluate the same prompt.
TARGET may carry more compile flags after the target name ("host --max-chunk 1").
The prompt is the 24 ids of the refdata cases with 8 greedy tokens; `--positions N` makes it N
ids (a fixed pseudo-random sequence below 512, for long-context checks) with one generated token,
and `--context C` passes the context length to RUNNER.
Prints "CASE TARGET: max abs difference D, tokens match|differ" per pair and exits 1 if any
difference exceeds 1e-3, a value is NaN or infinite, or any token differs. `gemc` must be on PATH.
"""
import os
import shlex
import subprocess
import sys
import tempfile

from numeric_compare import Difference, read_f32

PROMPT = "2,283,443,368,455,377,362,409,295,397,441,373,362,496,490,302,295,298,363,508,382,492,432,510"
TOLERANCE = 1e-3


def evaluate(command, prompt, generate, dump):
    """Runs a gemc eval/run command with --dump-logits; returns (logits, tokens)."""
    out = subprocess.run(command + ["--tokens", prompt, "-n", str(generate), "--dump-logits", dump],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return read_f32(dump), out.split()


def options(args):
    """Strips the leading --positions/--context options; returns (prompt, -n, runner args, rest)."""
    prompt, generate, runner_args = PROMPT, 8, []
    while args and args[0] in ("--positions", "--context"):
        flag, value, args = args[0], int(args[1]), args[2:]
        if flag == "--positions":
            prompt, generate = ",".join(str((i * 7919 + 13) % 512) for i in range(value)), 1
        else:
            runner_args = ["--context", str(value)]
    return prompt, generate, runner_args, args


def main():
    prompt, generate, runner_args, args = options(sys.argv[1:])
    separator = args.index("--")
    fmt, targets, cases = args[0], args[1:separator], args[separator + 1:]
    quant = ["--quant-config" if os.path.isfile(fmt) else "--quant", fmt]
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            name = os.path.basename(case.rstrip("/"))
            reference = evaluate(["gemc", "eval", case] + quant, prompt, generate,
                                 os.path.join(tmp, "eval.f32"))
            for spec in targets:
                target, runner = spec.split("=", 1)
                artifact = os.path.join(tmp, name + ".gemc")
                subprocess.run(["gemc", "compile", case] + quant + ["--target"] +
                               shlex.split(target) + ["-o", artifact],
                               check=True, stderr=subprocess.DEVNULL)
                logits, tokens = evaluate(shlex.split(runner) + [artifact] + runner_args, prompt,
                                          generate, os.path.join(tmp, "run.f32"))
                if len(logits) != len(reference[0]):
                    sys.exit("%s %s: %d logits, expected %d" % (name, target, len(logits),
                                                                 len(reference[0])))
                difference = Difference(logits, reference[0])
                same = tokens == reference[1]
                failed |= not difference.within(TOLERANCE) or not same
                print("%s %s: %s, tokens %s" %
                      (name, target, difference, "match" if same else "differ"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
