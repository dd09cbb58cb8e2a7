#!/usr/bin/env python3
"""Writes the safetensors fixtures of this directory byte by byte, following
the format's specification (https://github.com/huggingface/safetensors#format):
an 8-byte little-endian header length N, N bytes of UTF-8 JSON padded with
spaces to a multiple of 8 (as the Rust crate's serializer does), then the
data buffer. No safetensors library is needed; run it from anywhere:

    python3 internal/scan/safetensors/testdata/make_fixtures.py

benign/ files are what safetensors.torch.save_file would write; invalid/
files each break one rule of the format.
"""
import io
import json
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

BITS = {"BOOL": 8, "U8": 8, "I8": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
        "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16,
        "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "I64": 64,
        "U64": 64, "F64": 64}


def nbytes(dtype, shape):
    n = 1
    for d in shape:
        n *= d
    return n * BITS[dtype] // 8


def pattern(n, seed):
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(n))


def header_bytes(obj, pad=True, raw=None):
    h = raw if raw is not None else json.dumps(obj, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h


def build(tensors, metadata=None):
    """tensors: list of (name, dtype, shape). Data is laid out in the order
    given; the header lists names sorted, so header order and data order
    differ, as they may in files the Rust crate writes."""
    hdr, data, off = {}, b"", 0
    if metadata is not None:
        hdr["__metadata__"] = metadata
    entries = {}
    for i, (name, dtype, shape) in enumerate(tensors):
        n = nbytes(dtype, shape)
        entries[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + n]}
        data += pattern(n, i)
        off += n
    for name in sorted(entries):
        hdr[name] = entries[name]
    return header_bytes(hdr) + data


def write(rel, b):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b)


def main():
    # --- benign -----------------------------------------------------------
    write("benign/dtypes.safetensors", build([
        ("model.embed.weight", "BF16", [4, 8]),
        ("model.layers.0.q_proj.weight", "F8_E4M3", [8, 8]),
        ("model.layers.0.q_proj.scale", "F32", [1]),
        ("model.layers.0.k_proj.weight", "F8_E5M2", [8, 4]),
        ("model.norm.weight", "F16", [8]),
        ("model.norm.bias", "F64", []),
        ("lm_head.weight", "F32", [2, 8]),
        ("position_ids", "I64", [1, 4]),
        ("mask", "BOOL", [3]),
        ("step", "U8", []),
    ], metadata={"format": "pt", "modelspec.architecture": "llama"}))
    write("benign/subbyte.safetensors", build([
        ("experts.w_fp4", "F4", [4, 2]),
        ("experts.w_fp6a", "F6_E2M3", [4]),
        ("experts.w_fp6b", "F6_E3M2", [8]),
        ("experts.scales", "F8_E8M0", [2]),
        ("empty", "F32", [0, 4]),
        ("counts", "I32", [2]),
    ]))
    write("benign/no-tensors.safetensors", header_bytes({"__metadata__": {"format": "pt"}}))

    # --- invalid ----------------------------------------------------------
    write("invalid/header-too-large.safetensors", struct.pack("<Q", 1 << 40) + b"{}      ")
    write("invalid/header-beyond-file.safetensors", struct.pack("<Q", 4096) + b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')
    write("invalid/not-json.safetensors", header_bytes(None, raw=b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}') + b"\0" * 4)
    dup = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    write("invalid/duplicate-key.safetensors", header_bytes(None, raw=dup) + pattern(8, 1))
    write("invalid/overlapping.safetensors", header_bytes({
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
    }) + pattern(12, 2))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
    write("invalid/polyglot-zip.safetensors", build([("w", "F32", [2])]) + zbuf.getvalue())
    write("invalid/shape-mismatch.safetensors", header_bytes({
        "w": {"dtype": "F32", "shape": [10], "data_offsets": [0, 8]},
    }) + pattern(8, 3))
    write("invalid/truncated.safetensors", build([("w", "F32", [64])])[:-100])
    write("invalid/metadata-nested.safetensors", header_bytes({
        "__metadata__": {"format": "pt", "config": {"layers": 2}, "n": 3},
        "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
    }) + pattern(4, 4))
    write("invalid/unknown-dtypes.safetensors", header_bytes({
        "a": {"dtype": "Q4_K", "shape": [32], "data_offsets": [0, 18]},
        "b": {"dtype": "Q4_K", "shape": [32], "data_offsets": [18, 36]},
        "c": {"dtype": "NF4", "shape": [64], "data_offsets": [36, 68]},
        "d": {"dtype": "F32", "shape": [1], "data_offsets": [68, 72]},
    }) + pattern(72, 5))
    write("invalid/misaligned-f4.safetensors", header_bytes({
        "w": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]},
    }) + pattern(2, 6))
    write("invalid/not-utf8.safetensors", header_bytes(None, raw=b'{"w\xff":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}') + b"\x01")
    write("invalid/trailing-garbage.safetensors", header_bytes(None, raw=b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}xx') + b"\x01")


if __name__ == "__main__":
    main()
