#!/usr/bin/env python3
"""Copies a gemc artifact and damages it on purpose, for tests of the loader's verification.

  artifact_tool.py SRC DST WHERE [TEXT]

WHERE: magic | manifest | code | tokenizer | weights (flip one byte there), version (set the
format version to 99) or version-N (to N), padding
(4 bytes written between the header and the first section),
truncate-N (keep the first N bytes), or features TEXT (replace the target's feature string by
TEXT, no longer than it, and reseal the manifest's checksum: a well-formed artifact for a CPU
with other features), or print-features (print the target's features, one a line; DST is an
unchanged copy). The header layout is runtime/ArtifactFormat.h: magic[8], version u32,
reserved u32, manifest offset u64, size u64, checksum u64; sections are found through the
manifest. Standard library only.
"""
import shutil
import struct
import sys

MASK = (1 << 64) - 1


def mix(state, word):
    state ^= (word * 0xBF58476D1CE4E5B9) & MASK
    state = ((state << 31) | (state >> 33)) & MASK
    return (state * 0x94D049BB133111EB) & MASK


def checksum64(data):
    """gemc::checksum64 (runtime/ArtifactFormat.cpp)."""
    state = 0x9E3779B97F4A7C15
    whole = len(data) // 8 * 8
    for (word,) in struct.iter_unpack("<Q", data[:whole]):
        state = mix(state, word)
    state = mix(mix(state, int.from_bytes(data[whole:], "little")), len(data))
    return state ^ (state >> 29)


class Table:
    """A FlatBuffers table in `buf` at `pos` (schema: runtime/schema/artifact.fbs)."""

    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos
        self.vtable = pos - struct.unpack_from("<i", buf, pos)[0]

    def field(self, index):
        """The position of field `index`, or None when it is absent."""
        vt_size = struct.unpack_from("<H", self.buf, self.vtable)[0]
        if 4 + 2 * index >= vt_size:
            return None
        offset = struct.unpack_from("<H", self.buf, self.vtable + 4 + 2 * index)[0]
        return self.pos + offset if offset else None

    def ref(self, index):
        """Where field `index`'s string, vector or table is (offsets are relative)."""
        at = self.field(index)
        return at + struct.unpack_from("<I", self.buf, at)[0]

    def string(self, index):
        at = self.ref(index)
        return at, struct.unpack_from("<I", self.buf, at)[0]  # (position of length, length)

    def u64(self, index):
        return struct.unpack_from("<Q", self.buf, self.field(index))[0]


def manifest_root(manifest):
    return Table(manifest, struct.unpack_from("<I", manifest, 0)[0])


def section_offset(data, manifest_offset, manifest_size, name):
    manifest = data[manifest_offset:manifest_offset + manifest_size]
    sections = manifest_root(manifest).ref(4)
    for i in range(struct.unpack_from("<I", manifest, sections)[0]):
        at = sections + 4 + 4 * i
        section = Table(manifest, at + struct.unpack_from("<I", manifest, at)[0])
        name_at, length = section.string(0)
        if manifest[name_at + 4:name_at + 4 + length] == name.encode():
            return section.u64(1)
    sys.exit("artifact_tool.py: no section " + name)


def replace_features(f, manifest_offset, manifest_size, text):
    f.seek(manifest_offset)
    manifest = bytearray(f.read(manifest_size))
    at, length = Table(manifest, manifest_root(manifest).ref(2)).string(3)  # target.features
    new = text.encode()
    if len(new) > length:
        sys.exit("artifact_tool.py: the new feature string is longer than the old one")
    manifest[at:at + 4 + length] = struct.pack("<I", len(new)) + new + b"\0" * (length - len(new))
    f.seek(manifest_offset)
    f.write(manifest)
    f.seek(32)
    f.write(struct.pack("<Q", checksum64(bytes(manifest))))


def main(src, dst, where, text=None):
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        header = f.read(64)
        manifest_offset, manifest_size = struct.unpack("<QQ", header[16:32])
        if where.startswith("truncate-"):
            f.truncate(int(where[len("truncate-"):]))
            return
        if where.startswith("version"):  # "version": 99, "version-N": N
            f.seek(8)
            f.write(struct.pack("<I", int(where[len("version-"):] or 99)))
            return
        if where == "features":
            replace_features(f, manifest_offset, manifest_size, text)
            return
        if where == "print-features":
            f.seek(manifest_offset)
            manifest = f.read(manifest_size)
            at, length = Table(manifest, manifest_root(manifest).ref(2)).string(3)
            print("\n".join(manifest[at + 4:at + 4 + length].decode().split(",")))
            return
        if where == "padding":  # between the header and the first section
            f.seek(100)
            f.write(b"\xde\xad\xbe\xef")
            return
        if where in ("code", "tokenizer", "weights"):
            f.seek(0)
            offset = section_offset(f.read(), manifest_offset, manifest_size, where) + 64
        else:
            offset = {"magic": 0, "manifest": manifest_offset + manifest_size // 2}[where]
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x5A]))


if __name__ == "__main__":
    main(*sys.argv[1:])
