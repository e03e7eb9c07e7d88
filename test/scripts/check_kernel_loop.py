#!/usr/bin/env python3
"""Checks that the FMA loops of generated functions use the target's full vector width.

  check_kernel_loop.py TARGET FUNCTION [DISASSEMBLY]

DISASSEMBLY is the output of `llvm-objdump -d --no-show-raw-insn` (AT&T syntax on x86, the
default); without it, or with "-", it is read from stdin. TARGET is x86-64-v3 (full width 256
bits: ymm), x86-64-v4 (512: zmm) or aarch64-neon (128: v registers, e.g. v0.4s). FUNCTION is a
Python regular expression matched at the start of each function's name (re.match): "gemc_mlp_"
checks every MLP function, "gemc_mlp_7$" only that one.

A loop is a backward jump (conditional or not) to an address within the same function; its body
is the address range from the jump's target to the jump (several back edges to one address are
one loop, up to the last of them). Loops come from the branches alone, so nothing depends on
symbols or block labels. Each FMA belongs to the innermost loop around it (the smallest such
range), and the loops that hold FMAs this way are the ones checked; FMAs outside every loop are
not. In a checked loop every FMA must be a vector FMA of exactly the target's full width: no
scalar FMA (x86 vfmadd/vfmsub/vfnmadd/vfnmsub...ss/sd/sh; aarch64 fmadd/fmsub/fnmadd/fnmsub, or
fmla/fmls on an s/d/h register) and no vector FMA of another width (xmm on x86-64-v3, xmm or ymm
on x86-64-v4, 64-bit arrangements such as v0.2s on aarch64; zmm on x86-64-v3 is refused too).

Prints one line per checked loop,
  gemc_mlp_7: loop 0x3770-0x3816: 16 vector FMAs on zmm, 0 scalar
then a summary line,
  OK: 10 functions, 60 FMA loops, 540 vector FMAs on zmm, 0 scalar, 0 not 512-bit
and exits 1, naming each offending instruction on stderr and printing "FAIL: ..." instead of
"OK: ...", when a checked loop holds a scalar FMA or one of another width, when no function
matches FUNCTION, or when a matching function has no loop with an FMA (a check that finds nothing
fails). Only the Python standard library is used.
"""
import re
import sys

TARGETS = {
    # target: (architecture, full vector width in bits)
    "x86-64-v3": ("x86", 256),
    "x86-64-v4": ("x86", 512),
    "aarch64-neon": ("aarch64", 128),
}

FUNCTION_HEADER = re.compile(r"^([0-9a-fA-F]+) <(.+)>:\s*$")
INSTRUCTION = re.compile(r"^\s*([0-9a-fA-F]+):\s+(\S+)\s*(.*)$")
# A direct branch target as llvm-objdump prints it: an address followed by <symbol+offset>.
BRANCH_TARGET = re.compile(r"(?:0x)?([0-9a-fA-F]+)\s+<[^>]*>")

X86_PREFIXES = {"lock", "rep", "repe", "repz", "repne", "repnz", "notrack", "bnd", "data16"}
# FMA3, FMA4 and AVX-512 FP16 forms: vfmadd231ps, vfnmsub132sd, vfmaddsub213ps, vfmaddps, ...
X86_FMA = re.compile(r"^vf(?:n?madd|n?msub|maddsub|msubadd)(?:132|213|231)?(ps|pd|ph|ss|sd|sh)$")
X86_VECTOR_REGISTER = re.compile(r"%?\b([xyz])mm\d+\b")
X86_WIDTH = {"xmm": 128, "ymm": 256, "zmm": 512}

SHOWN = 3  # offending instructions named per loop

ARM_FMA = {"fmla", "fmls", "fmadd", "fmsub", "fnmadd", "fnmsub", "fmlal", "fmlal2", "fmlsl",
           "fmlsl2", "bfmlalb", "bfmlalt"}
ARM_SCALAR_ONLY = {"fmadd", "fmsub", "fnmadd", "fnmsub"}
ARM_VECTOR_REGISTER = re.compile(r"^v\d+\.(\d+)([bhsd])$")
ARM_ELEMENT_BITS = {"b": 8, "h": 16, "s": 32, "d": 64}


def is_x86_branch(mnemonic):
    return mnemonic.startswith("j")


def is_arm_branch(mnemonic):
    return (mnemonic == "b" or mnemonic.startswith("b.") or mnemonic.startswith("bc.")
            or mnemonic in ("cbz", "cbnz", "tbz", "tbnz"))


def classify_x86(mnemonic, operands):
    """None if not an FMA, else ("scalar", suffix) or ("vector", register class)."""
    m = X86_FMA.match(mnemonic)
    if not m:
        return None
    if m.group(1) in ("ss", "sd", "sh"):
        return ("scalar", m.group(1))
    classes = {c + "mm" for c in X86_VECTOR_REGISTER.findall(operands)}
    if not classes:
        return ("vector", "?")
    return ("vector", max(classes, key=X86_WIDTH.get))


def classify_arm(mnemonic, operands):
    """None if not an FMA, else ("scalar", register) or ("vector", "v.4s" and the like)."""
    if mnemonic not in ARM_FMA:
        return None
    first = operands.split(",")[0].strip()
    if mnemonic in ARM_SCALAR_ONLY:
        return ("scalar", first)
    m = ARM_VECTOR_REGISTER.match(first)
    if not m:  # fmla s0, s1, v2.s[1]: the scalar by-element form
        return ("scalar", first)
    return ("vector", "v." + m.group(1) + m.group(2))


def width(shape):
    """The width in bits of a vector FMA's register shape ("zmm", "v.4s"); 0 if unknown."""
    if shape in X86_WIDTH:
        return X86_WIDTH[shape]
    m = re.match(r"^v\.(\d+)([bhsd])$", shape)
    return int(m.group(1)) * ARM_ELEMENT_BITS[m.group(2)] if m else 0


def parse(lines, arch):
    """Yields (name, [(address, mnemonic, operands)]) per function of the disassembly."""
    name, body = None, []
    comment = "#" if arch == "x86" else "//"
    for line in lines:
        header = FUNCTION_HEADER.match(line)
        if header:
            if name is not None:
                yield name, body
            name, body = header.group(2), []
            continue
        if name is None:
            continue
        insn = INSTRUCTION.match(line)
        if not insn:
            continue
        mnemonic, operands = insn.group(2), insn.group(3)
        # x86 comments start with '#'; on aarch64 '#' marks immediates and comments are '//'.
        operands = operands.split(comment, 1)[0].strip()
        if arch == "x86":
            while mnemonic in X86_PREFIXES and operands:
                mnemonic, _, operands = operands.partition(" ")
                operands = operands.strip()
        body.append((int(insn.group(1), 16), mnemonic, operands))
    if name is not None:
        yield name, body


def loops(body, arch):
    """The loops of one function, [(start, end)], from its backward branches."""
    if not body:
        return []
    lo, hi = body[0][0], body[-1][0]
    is_branch = is_x86_branch if arch == "x86" else is_arm_branch
    found = {}
    for address, mnemonic, operands in body:
        if not is_branch(mnemonic) or "*" in operands:  # jmpq *%rax: indirect
            continue
        target = BRANCH_TARGET.search(operands)
        if not target:
            continue
        destination = int(target.group(1), 16)
        if lo <= destination <= address <= hi:
            # Several back edges to one header are one loop, ending at the last of them.
            found[destination] = max(found.get(destination, address), address)
    return sorted(found.items())


def check_function(name, body, target):
    """Returns (report lines, errors, statistics) for one function."""
    arch = TARGETS[target][0]
    classify = classify_x86 if arch == "x86" else classify_arm
    ranges = loops(body, arch)
    per_loop = {}
    outside = 0
    for address, mnemonic, operands in body:
        kind = classify(mnemonic, operands)
        if kind is None:
            continue
        around = [r for r in ranges if r[0] <= address <= r[1]]
        if not around:
            outside += 1
            continue
        innermost = min(around, key=lambda r: (r[1] - r[0], -r[0]))
        per_loop.setdefault(innermost, []).append((address, mnemonic, operands, kind))
    lines, errors = [], []
    stats = {"loops": 0, "vector": 0, "scalar": 0, "offwidth": 0, "shapes": set()}
    for (start, end), fmas in sorted(per_loop.items()):
        vector = [f for f in fmas if f[3][0] == "vector"]
        scalar = [f for f in fmas if f[3][0] == "scalar"]
        offwidth = [f for f in vector if width(f[3][1]) != TARGETS[target][1]]
        shapes = sorted({f[3][1] for f in vector})
        text = "%s: loop 0x%x-0x%x: %d vector FMAs on %s, %d scalar" % (
            name, start, end, len(vector), "+".join(shapes) or "-", len(scalar))
        if offwidth:
            text += ", %d not %d-bit" % (len(offwidth), TARGETS[target][1])
        lines.append(text)
        bad = sorted(scalar + offwidth)
        for address, mnemonic, operands, kind in bad[:SHOWN]:
            errors.append("%s: loop 0x%x-0x%x: %s FMA at 0x%x: %s %s" % (
                name, start, end, "scalar" if kind[0] == "scalar" else "%d-bit vector" % width(
                    kind[1]), address, mnemonic, operands))
        if len(bad) > SHOWN:
            errors.append("%s: loop 0x%x-0x%x: and %d more" % (name, start, end, len(bad) - SHOWN))
        stats["loops"] += 1
        stats["vector"] += len(vector)
        stats["scalar"] += len(scalar)
        stats["offwidth"] += len(offwidth)
        stats["shapes"].update(shapes)
    if not per_loop:
        errors.append("%s: no loop with an FMA (%d loops, %d FMAs outside loops)" % (
            name, len(ranges), outside))
    return lines, errors, stats


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 3) or args[0] not in TARGETS:
        sys.exit("usage: check_kernel_loop.py {%s} FUNCTION [DISASSEMBLY]" % "|".join(TARGETS))
    target, pattern = args[0], re.compile(args[1])
    if len(args) == 3 and args[2] != "-":
        with open(args[2]) as f:
            text = f.read().splitlines()
    else:
        text = sys.stdin.read().splitlines()
    arch = TARGETS[target][0]
    functions, errors = 0, []
    total = {"loops": 0, "vector": 0, "scalar": 0, "offwidth": 0, "shapes": set()}
    for name, body in parse(text, arch):
        if not pattern.match(name):
            continue
        functions += 1
        lines, function_errors, stats = check_function(name, body, target)
        for line in lines:
            print(line)
        errors += function_errors
        for key in ("loops", "vector", "scalar", "offwidth"):
            total[key] += stats[key]
        total["shapes"] |= stats["shapes"]
    if functions == 0:
        errors.append("no function matches %r" % args[1])
    summary = "%d function%s, %d FMA loops, %d vector FMAs on %s, %d scalar, %d not %d-bit" % (
        functions, "" if functions == 1 else "s", total["loops"], total["vector"],
        "+".join(sorted(total["shapes"])) or "-", total["scalar"], total["offwidth"],
        TARGETS[target][1])
    if errors:
        sys.stdout.flush()
        for error in errors:
            print("error: " + error, file=sys.stderr)
        print("FAIL: %s (%s: %d-bit vector FMAs only)" % (summary, target, TARGETS[target][1]))
        sys.exit(1)
    print("OK: " + summary)


if __name__ == "__main__":
    main()
