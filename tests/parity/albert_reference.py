#!/usr/bin/env python3
"""An independent float64 numpy implementation of HuggingFace transformers' AlbertForSequenceClassification
forward pass (modeling_albert.py semantics), used as the parity oracle for shapes the ONNX Runtime peer
graphs do not cover (several hidden groups, inner layers, other activations, odd sizes). It is itself
checked against ONNX Runtime on the peer graphs in the same test run.

    albert_reference.py --model DIR --inputs inputs.json --out OUTDIR
writes OUTDIR/logits.npy, pooler_output.npy, hidden_states_NN.npy (float32, as the peer's run mode).
"""
import argparse
import json
import math
import os
import struct

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    data = buf[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[b:e]
        dt = info["dtype"]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2")
        elif dt == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            continue  # buffers such as position_ids
        out[name] = arr.astype(np.float64).reshape(info["shape"])
    return out


_erf = np.frompyfunc(math.erf, 1, 1)


def activation(name):
    return {
        "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64)),
        "gelu_python": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64)),
        "gelu_new": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
        "gelu_pytorch_tanh": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
        "relu": lambda x: np.maximum(x, 0.0),
        "silu": lambda x: x / (1.0 + np.exp(-x)),
        "swish": lambda x: x / (1.0 + np.exp(-x)),
        "tanh": np.tanh,
        "quick_gelu": lambda x: x / (1.0 + np.exp(-1.702 * x)),
    }[name]


def layer_norm(x, g, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


def forward(cfg, w, ids, mask, tt):
    p = "albert." if "albert.embeddings.word_embeddings.weight" in w else ""
    B, S = ids.shape
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    d = H // nh
    eps = cfg.get("layer_norm_eps", 1e-12)
    act = activation(cfg.get("hidden_act", "gelu_new"))
    lin = lambda x, n: x @ w[n + ".weight"].T + w[n + ".bias"]
    e = p + "embeddings."
    x = w[e + "word_embeddings.weight"][ids] + w[e + "token_type_embeddings.weight"][tt]
    x = x + w[e + "position_embeddings.weight"][np.arange(S)][None]
    x = layer_norm(x, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], eps)
    h = lin(x, p + "encoder.embedding_hidden_mapping_in")
    states = [h]
    additive = (1.0 - mask[:, None, None, :]) * float(np.finfo(np.float32).min)
    L, G, inner = cfg["num_hidden_layers"], cfg.get("num_hidden_groups", 1), cfg.get("inner_group_num", 1)
    for i in range(L):
        g = int(i / (L / G))  # transformers' own expression, float semantics included
        for j in range(inner):
            l = f"{p}encoder.albert_layer_groups.{g}.albert_layers.{j}."
            split = lambda t: t.reshape(B, S, nh, d).transpose(0, 2, 1, 3)
            q, k, v = (split(lin(h, l + "attention." + n)) for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + additive
            scores = scores - scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(B, S, H)
            a = layer_norm(h + lin(ctx, l + "attention.dense"), w[l + "attention.LayerNorm.weight"],
                           w[l + "attention.LayerNorm.bias"], eps)
            f = lin(act(lin(a, l + "ffn")), l + "ffn_output")
            h = layer_norm(f + a, w[l + "full_layer_layer_norm.weight"], w[l + "full_layer_layer_norm.bias"], eps)
        states.append(h)
    pooled = np.tanh(lin(h[:, 0], p + "pooler"))
    logits = lin(pooled, "classifier")
    return states, pooled, logits


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    w = read_safetensors(os.path.join(a.model, "model.safetensors"))
    inp = json.load(open(a.inputs))
    ids = np.asarray(inp["input_ids"], dtype=np.int64)
    mask = np.asarray(inp.get("attention_mask", np.ones_like(ids)), dtype=np.float64)
    tt = np.asarray(inp.get("token_type_ids", np.zeros_like(ids)), dtype=np.int64)
    states, pooled, logits = forward(cfg, w, ids, mask, tt)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "logits.npy"), logits.astype(np.float32))
    np.save(os.path.join(a.out, "pooler_output.npy"), pooled.astype(np.float32))
    for i, s in enumerate(states):
        np.save(os.path.join(a.out, f"hidden_states_{i:02d}.npy"), s.astype(np.float32))


if __name__ == "__main__":
    main()
