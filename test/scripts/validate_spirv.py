#!/usr/bin/env python3
"""Runs spirv-val on every .spv file of a directory (what `gemc compile --emit spirv` wrote).

  validate_spirv.py DIR

Prints "N modules valid for vulkan1.1" and exits 0, or prints spirv-val's complaint about each
invalid module and exits 1. An empty directory is a failure: it would prove nothing.
"""
import glob
import os
import subprocess
import sys


def main():
    modules = sorted(glob.glob(os.path.join(sys.argv[1], "*.spv")))
    if not modules:
        sys.exit("validate_spirv.py: no .spv files in " + sys.argv[1])
    invalid = 0
    for module in modules:
        result = subprocess.run(["spirv-val", "--target-env", "vulkan1.1", module],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            invalid += 1
            print("%s: %s" % (os.path.basename(module), result.stdout.strip()))
    if invalid:
        print("FAIL: %d of %d modules invalid" % (invalid, len(modules)))
        sys.exit(1)
    print("%d modules valid for vulkan1.1" % len(modules))


if __name__ == "__main__":
    main()
