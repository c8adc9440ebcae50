#!/usr/bin/env python3
"""Write a HuggingFace ALBERT folder (config.json + model.safetensors, F32) of any shape with seeded
weights drawn like the peer's make_weights.py (each tensor from its own stream), for parity tests of
shapes the peer graphs do not cover. numpy only.

    make_albert.py --out DIR --seed 3 --set hidden_size=48 num_attention_heads=3 num_hidden_groups=2 ...
"""
import argparse
import json
import os
import struct
import zlib

import numpy as np

BASE = {
    "model_type": "albert", "architectures": ["AlbertForSequenceClassification"],
    "vocab_size": 97, "embedding_size": 24, "hidden_size": 48, "num_hidden_layers": 4, "num_hidden_groups": 2,
    "num_attention_heads": 3, "intermediate_size": 80, "inner_group_num": 2, "hidden_act": "gelu",
    "max_position_embeddings": 40, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
    "position_embedding_type": "absolute",
}


def tensors(cfg, seed, dtype):
    V, E, H, I = cfg["vocab_size"], cfg["embedding_size"], cfg["hidden_size"], cfg["intermediate_size"]
    shapes = {
        "albert.embeddings.word_embeddings.weight": (V, E),
        "albert.embeddings.position_embeddings.weight": (cfg["max_position_embeddings"], E),
        "albert.embeddings.token_type_embeddings.weight": (cfg["type_vocab_size"], E),
        "albert.embeddings.LayerNorm.weight": (E,), "albert.embeddings.LayerNorm.bias": (E,),
        "albert.encoder.embedding_hidden_mapping_in.weight": (H, E),
        "albert.encoder.embedding_hidden_mapping_in.bias": (H,),
        "albert.pooler.weight": (H, H), "albert.pooler.bias": (H,),
        "classifier.weight": (cfg["num_labels"], H), "classifier.bias": (cfg["num_labels"],),
    }
    for g in range(cfg["num_hidden_groups"]):
        for j in range(cfg["inner_group_num"]):
            l = f"albert.encoder.albert_layer_groups.{g}.albert_layers.{j}."
            for n in ("query", "key", "value", "dense"):
                shapes[l + f"attention.{n}.weight"] = (H, H)
                shapes[l + f"attention.{n}.bias"] = (H,)
            for n in ("attention.LayerNorm", "full_layer_layer_norm"):
                shapes[l + n + ".weight"] = (H,)
                shapes[l + n + ".bias"] = (H,)
            shapes[l + "ffn.weight"], shapes[l + "ffn.bias"] = (I, H), (I,)
            shapes[l + "ffn_output.weight"], shapes[l + "ffn_output.bias"] = (H, I), (H,)
    if cfg.get("_highway"):  # EdgeBERT off-ramps, one per layer
        for i in range(cfg["num_hidden_layers"]):
            h = f"albert.encoder.highway.{i}."
            shapes[h + "pooler.weight"], shapes[h + "pooler.bias"] = (H, H), (H,)
            shapes[h + "classifier.weight"], shapes[h + "classifier.bias"] = (cfg["num_labels"], H), (cfg["num_labels"],)
    out = {}
    for name, shape in sorted(shapes.items()):
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        ln = "LayerNorm" in name or "layer_norm" in name
        x = rng.standard_normal(shape) * (0.05 if ln else 0.02)
        if ln and name.endswith(".weight"):
            x = x + 1.0
        elif not ln and not name.endswith(".bias"):
            x = rng.standard_normal(shape) * 0.1  # larger than the peer's 0.02 so layers really mix
        out[name] = x.astype(dtype)
    return out


def write_safetensors(path, ts, dtype_name):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, arr in ts.items():
        if dtype_name == "BF16":
            b = (np.ascontiguousarray(arr, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()
        else:
            b = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": dtype_name, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32")
    ap.add_argument("--labels", type=int, default=3)
    ap.add_argument("--set", nargs="*", default=[], help="config overrides key=value (JSON values)")
    ap.add_argument("--highway", action="store_true", help="add EdgeBERT off-ramps (albert.encoder.highway.*)")
    a = ap.parse_args()
    cfg = dict(BASE)
    for kv in a.set:
        k, v = kv.split("=", 1)
        try:
            cfg[k] = json.loads(v)
        except json.JSONDecodeError:
            cfg[k] = v
    cfg["num_labels"] = a.labels
    cfg["_highway"] = a.highway
    cfg["id2label"] = {str(i): f"LABEL_{i}" for i in range(a.labels)}
    cfg["label2id"] = {f"LABEL_{i}": i for i in range(a.labels)}
    np_dtype = {"F32": "<f4", "F16": "<f2", "BF16": "<f4"}[a.dtype]
    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, "model.safetensors"), tensors(cfg, a.seed, np_dtype), a.dtype)
    cfg.pop("_highway")
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


if __name__ == "__main__":
    main()
