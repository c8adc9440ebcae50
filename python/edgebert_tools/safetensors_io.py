# SPDX-License-Identifier: Apache-2.0
"""A minimal safetensors reader and writer (8-byte little-endian header length, JSON header with dtype, shape and
data_offsets, then the raw little-endian tensor bytes), so no `safetensors` package is needed."""
import json
import struct

import numpy as np

_NP = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "U8": "u1", "I8": "i1", "I32": "<i4", "I64": "<i8", "BOOL": "?"}
_NAME = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("<f2"): "F16", np.dtype("u1"): "U8",
         np.dtype("i1"): "I8", np.dtype("<i4"): "I32", np.dtype("<i8"): "I64", np.dtype("?"): "BOOL"}


def _to_numpy(t):
    if hasattr(t, "detach"):  # a torch tensor; imported lazily so numpy-only users need no torch
        t = t.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":
            raise TypeError("write BF16 tensors as F32 (convert with .float())")
        t = t.numpy()
    return np.asarray(t)


def write(path, tensors, metadata=None):
    """Write tensors (name -> numpy array or torch tensor) sorted by name. dtypes: F32, F64, F16, U8, I8, I32,
    I64, BOOL. metadata: optional str -> str map stored under __metadata__."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        arr = _to_numpy(tensors[name])
        dt = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        if dt not in _NAME:
            raise TypeError(f"tensor '{name}': unsupported dtype {arr.dtype}")
        b = np.ascontiguousarray(arr, dtype=dt).tobytes()
        header[name] = {"dtype": _NAME[dt], "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)  # keeps the data section 8-byte aligned for memory-mapped readers
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def read(path, with_metadata=False):
    """Read a safetensors file into name -> numpy array (BF16 widened to F32). Raises ValueError naming the file
    on a truncated or inconsistent file."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(buf[8:8 + n])
    data = memoryview(buf)[8 + n:]
    out, meta = {}, header.pop("__metadata__", {})
    for name, info in header.items():
        b, e = info["data_offsets"]
        if not 0 <= b <= e <= len(data):
            raise ValueError(f"{path}: tensor '{name}' offsets {b}..{e} outside the data section")
        dt = info["dtype"]
        if dt == "BF16":
            arr = (np.frombuffer(data[b:e], dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif dt in _NP:
            arr = np.frombuffer(data[b:e], dtype=_NP[dt])
        else:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {dt}")
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        if arr.size != count:
            raise ValueError(f"{path}: tensor '{name}' holds {arr.size} values, shape {info['shape']} needs {count}")
        out[name] = arr.reshape(info["shape"]).copy()
    return (out, meta) if with_metadata else out
