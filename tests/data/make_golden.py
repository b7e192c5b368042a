#!/usr/bin/env python3
"""Writes the golden files tests/data/<dtype>.af, one per dtype, in ArrayFire's array file format
(version 1, the layout of ArrayFire's src/api/c/stream.cpp; src/api/stream.c describes it). The
bytes are put together field by field here, independently of Ember's writer, and
tests/test_stream.c checks that Ember reads each file back to the values below and that saving
the same array produces the same bytes.

Each file holds one array under the key "<dtype>", with dims 3 x 2 x 1 x 1 and the six values
listed in VALUES (complex: six re, im pairs; f16: binary16 bit patterns)."""
import os
import struct

# af_dtype values and the struct format of one element (little-endian).
DTYPES = [
    ("f32", 0, "f"), ("c32", 1, "ff"), ("f64", 2, "d"), ("c64", 3, "dd"), ("b8", 4, "B"),
    ("s32", 5, "i"), ("u32", 6, "I"), ("u8", 7, "B"), ("s64", 8, "q"), ("u64", 9, "Q"),
    ("s16", 10, "h"), ("u16", 11, "H"), ("f16", 12, "H"), ("s8", 13, "b"),
]

INF = float("inf")
CPLX = [(1.5, -2.25), (0.0, 3.0), (-0.5, 1024.0), (7.0, -8.0), (0.25, 0.125), (-1.0, INF)]
VALUES = {
    "f32": [1.5, -2.25, 0.0, INF, -0.0, 1e-3],
    "c32": CPLX,
    "f64": [1.5, -2.25, 0.0, INF, -0.0, 1e-300],
    "c64": CPLX,
    "b8": [1, 0, 1, 1, 0, 0],
    "s32": [1, -2, 3, -4, 5, -2147483648],
    "u32": [1, 2, 3, 4, 5, 4294967295],
    "u8": [0, 1, 2, 127, 128, 255],
    "s64": [1, -2, 3, -4, 9007199254740993, -9223372036854775808],
    "u64": [1, 2, 3, 4, 9007199254740993, 18446744073709551615],
    "s16": [1, -2, 3, -4, 5, -32768],
    "u16": [1, 2, 3, 4, 5, 65535],
    "f16": [0x3C00, 0xC000, 0x0000, 0x7C00, 0x8000, 0x3555],  # 1, -2, 0, inf, -0, 0.333
    "s8": [1, -2, 3, -4, 5, -128],
}
DIMS = (3, 2, 1, 1)


def entry(key, dtype, fmt, values):
    data = b"".join(struct.pack("<" + fmt, *(v if isinstance(v, tuple) else (v,))) for v in values)
    meta = struct.pack("<B4q", dtype, *DIMS)
    k = key.encode()
    return struct.pack("<i", len(k)) + k + struct.pack("<q", len(meta) + len(data)) + meta + data


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, dtype, fmt in DTYPES:
        body = entry(name, dtype, fmt, VALUES[name])
        with open(os.path.join(here, name + ".af"), "wb") as f:
            f.write(struct.pack("<Bi", 1, 1) + body)


if __name__ == "__main__":
    main()
