#!/usr/bin/env python3
"""Runs the broken-input corpus (test/corpus/broken-inputs.ini) against gemc.

  run_corpus.py CORPUS.ini DATA_DIR WORK_DIR [--show]

Each section of the corpus is one case: `input` says what is broken (`checkpoint BASE` with
BASE under DATA_DIR, or `artifact TARGET`: e2b-tiny compiled for TARGET), `steps` make it
broken (one per line, below), `error` is the text gemc must print ("..." stands for any text,
such as a path). A case passes when gemc
exits with status 1 (not a signal, not an abort), prints exactly one line besides any
"note: " lines, starting "gemc: error: " and containing `error`, and leaves nothing in its output directory (no partial
or temporary file). Checkpoints are run through `gemc compile -o OUT/model.gemc`, artifacts
through `gemc run ARTIFACT --tokens 2,3 -n 1`. --show prints each case's output instead.

Steps (FILE is relative to the case's checkpoint directory or is the artifact):
  ckpt ACTION ARGS...        test/scripts/ckpt_tool.py ACTION on the base (starts over from
                             the base's config.json and model.safetensors, as each case does)
  copy FILE                  copy FILE from the base checkpoint
  json FILE set PATH JSON    test/scripts/json_tool.py on FILE in place (also: delete PATH)
  write FILE TEXT            replace FILE by TEXT
  replace FILE OLD NEW       replace the first OLD in FILE (bytes; \\xNN escapes allowed)
  rm FILE                    delete FILE
  fill TENSOR INDEX HEX      overwrite element INDEX of a tensor (hex bytes, little-endian)
  damage WHERE [TEXT]        test/scripts/artifact_tool.py WHERE on the artifact
Only the Python standard library is used.
"""
import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artifact_tool  # noqa: E402
import ckpt_tool  # noqa: E402
import json_tool  # noqa: E402


def unescape(text):
    return text.encode("utf-8").decode("unicode_escape").encode("latin-1")


def fill(ckpt, tensor, element, hex_bytes):
    path = os.path.join(ckpt, "model.safetensors")
    header, data = ckpt_tool.read_st(path)
    value = bytes.fromhex(hex_bytes)
    begin = header[tensor]["data_offsets"][0] + int(element) * len(value)
    data = data[:begin] + value + data[begin + len(value):]
    ckpt_tool.write_st(path, header, data)


def apply_step(step, base, target):
    """Applies one step to `target` (a checkpoint directory or an artifact file)."""
    op, args = step[0], step[1:]
    path = lambda name: target if os.path.isfile(target) else os.path.join(target, name)
    if op == "ckpt":
        ckpt_tool.main(["ckpt_tool.py", base, target] + args)
    elif op == "copy":
        shutil.copyfile(os.path.join(base, args[0]), path(args[0]))
    elif op == "json":
        saved = sys.argv
        sys.argv = ["json_tool.py", path(args[0]), path(args[0])] + args[1:]
        try:
            json_tool.main()
        finally:
            sys.argv = saved
    elif op == "write":
        with open(path(args[0]), "w") as f:
            f.write(args[1])
    elif op == "replace":
        with open(path(args[0]), "rb") as f:
            data = f.read()
        old, new = unescape(args[1]), unescape(args[2])
        if old not in data:
            sys.exit("run_corpus.py: %r is not in %s" % (old, args[0]))
        with open(path(args[0]), "wb") as f:
            f.write(data.replace(old, new, 1))
    elif op == "rm":
        os.remove(path(args[0]))
    elif op == "fill":
        fill(target, *args)
    elif op == "damage":
        artifact_tool.main(base, target, *args)
    else:
        sys.exit("run_corpus.py: unknown step " + op)


def compiled(data, work, target):
    """e2b-tiny compiled for `target` (once per run)."""
    path = os.path.join(work, "e2b-tiny-%s.gemc" % target)
    if not os.path.exists(path):
        subprocess.run(["gemc", "compile", os.path.join(data, "refdata", "e2b-tiny"), "--target",
                        target, "-o", path], check=True, stderr=subprocess.DEVNULL)
    return path


def run_case(name, case, data, work):
    """Returns (problem or None, gemc's output)."""
    kind, base = case["input"].split()
    case_dir = os.path.join(work, name.replace("/", "-"))
    shutil.rmtree(case_dir, ignore_errors=True)
    out_dir = os.path.join(case_dir, "out")
    os.makedirs(out_dir)
    if kind == "checkpoint":
        base = os.path.join(data, base)
        target = os.path.join(case_dir, "ckpt")
        ckpt_tool.main(["ckpt_tool.py", base, target, "copy"])  # config.json, model.safetensors
        command = ["gemc", "compile", target, "-o", os.path.join(out_dir, "model.gemc")]
    else:
        base = compiled(data, work, base)
        target = os.path.join(case_dir, "model.gemc")
        shutil.copyfile(base, target)
        command = ["gemc", "run", target, "--tokens", "2,3", "-n", "1"]
    for line in case["steps"].strip().splitlines():
        apply_step(shlex.split(line), base, target)
    result = subprocess.run(command, cwd=out_dir, capture_output=True, text=True,
                            errors="replace")
    output = (result.stdout + result.stderr).strip()
    lines = [line for line in output.splitlines() if not line.startswith("note: ")]
    if result.returncode != 1:
        return "exit status %d (1 expected)" % result.returncode, output
    if len(lines) != 1 or not lines[0].startswith("gemc: error: "):
        return "not exactly one 'gemc: error: ' line", output
    if not re.search(".*".join(map(re.escape, case["error"].split("..."))), lines[0]):
        return "the error does not say: " + case["error"], output
    if os.listdir(out_dir):
        return "left files behind: " + ", ".join(os.listdir(out_dir)), output
    return None, output


def main(argv):
    corpus, data, work = argv[1:4]
    show = "--show" in argv
    cases = configparser.ConfigParser(interpolation=None)
    cases.optionxform = str
    cases.read(corpus, encoding="utf-8")
    os.makedirs(work, exist_ok=True)
    failures = 0
    for name in cases.sections():
        problem, output = run_case(name, cases[name], data, work)
        if show:
            print("[%s] %s\n    %s" % (name, problem or "ok", output.replace("\n", "\n    ")))
        elif problem:
            failures += 1
            print("FAIL %s: %s\n    %s" % (name, problem, output.replace("\n", "\n    ")))
    kinds = sorted({cases[n]["input"].split()[0] for n in cases.sections()})
    print("%d broken inputs (%s): %d failed" % (len(cases.sections()), ", ".join(kinds), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
