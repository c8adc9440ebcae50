#!/usr/bin/env python3
"""An independent float64 numpy implementation of HuggingFace transformers' AlbertForSequenceClassification
forward pass (modeling_albert.py semantics), used as the parity oracle for shapes the ONNX Runtime peer
graphs do not cover (several hidden groups, inner layers, other activations, odd sizes). It is itself
checked against ONNX Runtime on the peer graphs in the same test run.

    albert_reference.py --model DIR --inputs inputs.json --out OUTDIR
writes OUTDIR/logits.npy, pooler_output.npy, hidden_states_NN.npy (float32, as the peer's run mode).

    albert_reference.py ... --adapter TASKDIR
adds a task folder: an AdapterHub bottleneck adapter, written here from AdapterHub's equations
(methods/modeling.py Adapter.pre_forward / forward / post_forward; for ALBERT the attention adapter reads the
attention block's input, models/albert/modeling_albert.py), its classification head, and an adaptive
attention span from task.json (mask after the softmax, renormalised with + 1e-8).
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


ADAPTER_ACT = {"relu": "relu", "swish": "silu", "silu": "silu", "gelu": "gelu", "gelu_new": "gelu_new", "tanh": "tanh"}


def load_task(folder, cfg):
    """The task's adapter config and tensors (names without 'albert.'), head config and tensors, span."""
    t = {"adapter": None, "head": None, "span": None}
    path = os.path.join(folder, "adapter_config.json")
    if os.path.exists(path):
        doc = json.load(open(path))
        c = dict(doc["config"])
        act = c["non_linearity"].lower()
        if "version" not in doc:  # adapter-transformers names
            act = {"gelu": "gelu_new", "gelu_orig": "gelu"}.get(act, act)
        c["act"] = activation(ADAPTER_ACT.get(act, act))
        ws = read_safetensors(os.path.join(folder, "adapter.safetensors"))
        t["adapter"] = (doc["name"], c, {k[7:] if k.startswith("albert.") else k: v for k, v in ws.items()})
    path = os.path.join(folder, "head_config.json")
    if os.path.exists(path):
        t["head"] = (json.load(open(path))["config"], read_safetensors(os.path.join(folder, "model_head.safetensors")))
    path = os.path.join(folder, "task.json")
    if os.path.exists(path) and "span" in json.load(open(path)):
        sp = json.load(open(path))["span"]
        values = read_safetensors(os.path.join(folder, "edgebert.safetensors"))["albert.encoder.span.value"]
        scale = sp["max_span"] if sp["mode"] == "distance" else sp["template_length"]
        t["span"] = (sp["mode"], sp["ramp"], values * scale, sp.get("template_length", 0))
    return t


def run_adapter(c, ws, p, h, x, ln):
    """One bottleneck adapter at a sublayer: h its input, x the residual input, ln the model's LayerNorm."""
    ln_eps = 1e-5
    residual = h if c.get("residual_before_ln", True) is True else None
    if c.get("original_ln_before", False):
        h = h + x
        if c.get("residual_before_ln") == "post_add":
            residual = h
        h = ln(h)
    if c.get("residual_before_ln", True) is False:
        residual = h
    down = p + "adapter_down.0."
    z = h
    if c.get("ln_before", False):
        z = layer_norm(z, ws[p + "adapter_down.0.weight"], ws[p + "adapter_down.0.bias"], ln_eps)
        down = p + "adapter_down.1."
    z = c["act"](z @ ws[down + "weight"].T + ws[down + "bias"])
    up = z @ ws[p + "adapter_up.weight"].T + ws[p + "adapter_up.bias"]
    sc = c.get("scaling", 1.0)
    up = up * (ws[p + "scaling"] if isinstance(sc, str) else sc)
    norm_after = (lambda v: layer_norm(v, ws[p + "adapter_norm_after.weight"], ws[p + "adapter_norm_after.bias"], ln_eps)) \
        if c.get("ln_after", False) else (lambda v: v)
    if c.get("adapter_residual_before_ln", False):
        out = norm_after(up + residual)
    else:
        out = norm_after(up) + residual
    return ln(out + x) if c.get("original_ln_after", True) else out + x


def span_mask(span, nh, S):
    mode, ramp, z, template = span
    i = np.arange(S)[:, None]
    j = np.arange(S)[None, :]
    m = np.zeros((nh, S, S))
    for hd in range(nh):
        if mode == "distance":
            m[hd] = np.clip((ramp + z[hd] - np.abs(i - j)) / ramp, 0, 1)
        else:
            T = template or S
            m[hd] = np.clip((j - (T - 1) + z[hd]) / ramp + 1, 0, 1) + 0 * i
    return m


def forward(cfg, w, ids, mask, tt, task=None):
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
            if task and task["span"]:
                probs = probs * span_mask(task["span"], nh, S)[None]
                probs = probs / (probs.sum(-1, keepdims=True) + 1e-8)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(B, S, H)
            s_att = lin(ctx, l + "attention.dense")
            ln_att = lambda t: layer_norm(t, w[l + "attention.LayerNorm.weight"], w[l + "attention.LayerNorm.bias"], eps)
            ln_full = lambda t: layer_norm(t, w[l + "full_layer_layer_norm.weight"], w[l + "full_layer_layer_norm.bias"], eps)
            ad = task["adapter"] if task else None
            if ad:
                name, c, ws = ad
                idx = (i if c.get("edgebert_per_depth") else g) * inner + j
                if idx in c.get("leave_out", []):
                    ad = None
            if ad and c["mh_adapter"]:
                pre = (f"encoder.adapter_depth.{i}.{j}.attention_adapters.adapters.{name}." if c.get("edgebert_per_depth")
                       else f"encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.attention_adapters.adapters.{name}.")
                a = run_adapter(c, ws, pre, h, s_att, ln_att)  # ALBERT: the adapter reads the block input
            else:
                a = ln_att(h + s_att)
            f = lin(act(lin(a, l + "ffn")), l + "ffn_output")
            if ad and c["output_adapter"]:
                pre = (f"encoder.adapter_depth.{i}.{j}.output_adapters.adapters.{name}." if c.get("edgebert_per_depth")
                       else f"encoder.albert_layer_groups.{g}.albert_layers.{j}.output_adapters.adapters.{name}.")
                h = run_adapter(c, ws, pre, f, a, ln_full)
            else:
                h = ln_full(f + a)
        states.append(h)
    pooled = np.tanh(lin(h[:, 0], p + "pooler"))
    if task and task["head"]:
        hc, hw = task["head"]
        z = pooled if hc.get("use_pooler", False) else h[:, 0]
        n = hc.get("layers", 2)
        name = next(k for k in hw).split(".")[1]
        for k in range(n):
            z = z @ hw[f"heads.{name}.{1 + 3 * k}.weight"].T + hw[f"heads.{name}.{1 + 3 * k}.bias"]
            if k + 1 < n:
                z = activation(hc.get("activation_function", "tanh"))(z)
        return states, pooled, z
    logits = lin(pooled, "classifier")
    return states, pooled, logits


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--adapter", default="", help="a task folder (AdapterHub adapter, head, span)")
    a = ap.parse_args()
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    w = read_safetensors(os.path.join(a.model, "model.safetensors"))
    inp = json.load(open(a.inputs))
    ids = np.asarray(inp["input_ids"], dtype=np.int64)
    mask = np.asarray(inp.get("attention_mask", np.ones_like(ids)), dtype=np.float64)
    tt = np.asarray(inp.get("token_type_ids", np.zeros_like(ids)), dtype=np.int64)
    task = load_task(a.adapter, cfg) if a.adapter else None
    states, pooled, logits = forward(cfg, w, ids, mask, tt, task)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "logits.npy"), logits.astype(np.float32))
    np.save(os.path.join(a.out, "pooler_output.npy"), pooled.astype(np.float32))
    for i, s in enumerate(states):
        np.save(os.path.join(a.out, f"hidden_states_{i:02d}.npy"), s.astype(np.float32))


if __name__ == "__main__":
    main()
