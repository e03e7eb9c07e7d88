#!/usr/bin/env python3
"""Copies a gemc artifact and damages it on purpose, for tests of the loader's verification.

  artifact_tool.py SRC DST WHERE

WHERE: magic | version | manifest | code | weights (flip one byte there), or truncate-N (keep
the first N bytes). The header layout is runtime/ArtifactFormat.h: magic[8], version u32,
reserved u32, manifest offset u64, size u64, checksum u64. The code section starts at 4096; the
weights section ends where the manifest starts. Standard library only.
"""
import shutil
import struct
import sys


def main(src, dst, where):
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        header = f.read(64)
        manifest_offset, manifest_size = struct.unpack("<QQ", header[16:32])
        if where.startswith("truncate-"):
            f.truncate(int(where[len("truncate-"):]))
            return
        if where == "version":
            f.seek(8)
            f.write(struct.pack("<I", 99))
            return
        offset = {"magic": 0, "manifest": manifest_offset + manifest_size // 2, "code": 4096 + 64,
                  "weights": manifest_offset - 100}[where]
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x5A]))


if __name__ == "__main__":
    main(*sys.argv[1:])
