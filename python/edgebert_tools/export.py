# SPDX-License-Identifier: Apache-2.0
"""Write (and read back) the edgebert multi-task model folder:

  <model>/config.json, model.safetensors (albert.embeddings.*, albert.encoder.*, F32), spiece.model,
          tokenizer_config.json
  <model>/tasks/<task>/adapter_config.json + adapter.safetensors   (AdapterHub names, prefixed "albert.")
                       head_config.json + model_head.safetensors   (AdapterHub ClassificationHead)
                       edgebert.safetensors                        (off-ramps, span values, task LayerNorms, masks)
                       predictor.csv, task.json

Two sources: our own training outputs (export_bundle) and a HuggingFace ALBERT checkpoint with EdgeBERT extras and
AdapterHub adapter folders (export_hf, see python/README.md)."""
import json
import os
import re
import shutil

import numpy as np
import torch

from . import safetensors_io as st
from .albert import AlbertModel
from .spans import AdaptiveSpan
from .task import PRUNABLE, TaskModule

LAYER = "albert.encoder.albert_layer_groups.0.albert_layers.0."
ADAPTERS_VERSION = "adapters.1.1.0"


def _load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _dump_json(obj, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def _np(t):
    return t.detach().cpu().numpy().astype(np.float32) if torch.is_tensor(t) else np.asarray(t, dtype=np.float32)


def _stored(arrays, weight_dtype):
    """weight_dtype "F16" halves a folder (every loader widens F16 to F32 on reading, so the reference outputs,
    computed from the folder's own files, stay what the C++ runtime computes); "F32" keeps the trained values."""
    if weight_dtype not in ("F32", "F16"):
        raise ValueError(f"weight dtype {weight_dtype!r}: F32 or F16")
    dt = np.float16 if weight_dtype == "F16" else np.float32
    return {k: v.astype(dt) if v.dtype == np.float32 else v for k, v in arrays.items()}


# ----------------------------------------------------------------------------------------------- writing
def write_backbone(out, cfg, tensors, spiece_path, max_length, weight_dtype="F32"):
    """tensors: HF names -> arrays. Only albert.embeddings.*, albert.encoder.*, albert.pooler.* and classifier.*
    are kept (MLM/SOP heads and buffers such as position_ids are dropped: the C++ loader rejects unknown names)."""
    os.makedirs(out, exist_ok=True)
    keep = {k: _np(v) for k, v in tensors.items()
            if re.match(r"^(albert\.(embeddings|encoder|pooler)\.|classifier\.)", k) and not k.endswith("position_ids")
            and ".highway." not in k and "adapters." not in k and not k.endswith(".mask_scores")}
    st.write(os.path.join(out, "model.safetensors"), _stored(keep, weight_dtype), {"format": "pt"})
    _dump_json(cfg, os.path.join(out, "config.json"))
    if spiece_path:
        shutil.copyfile(spiece_path, os.path.join(out, "spiece.model"))
    _dump_json({"do_lower_case": True, "keep_accents": False, "max_length": int(max_length)},
               os.path.join(out, "tokenizer_config.json"))
    return keep


def adapter_doc(name, cfg_bn, hidden, model_name):
    return {"config": dict(cfg_bn, architecture="bottleneck"), "hidden_size": hidden, "model_class": "AlbertAdapterModel",
            "model_name": model_name, "model_type": "albert", "name": name, "version": ADAPTERS_VERSION}


def head_doc(name, labels, hidden, model_name):
    return {"config": {"head_type": "classification", "num_labels": len(labels), "layers": 2,
                       "activation_function": "tanh", "use_pooler": False,
                       "label2id": {l: i for i, l in enumerate(labels)}},
            "hidden_size": hidden, "model_class": "AlbertAdapterModel", "model_name": model_name,
            "model_type": "albert", "name": name, "version": ADAPTERS_VERSION}


def write_task(out, task: TaskModule, model_name, exit_policy="none", predictor_csv=None, predictor_mode="ee-before",
               mask_dtype="F32", weight_dtype="F32", sentence_pairs=False):
    """Write one task folder from a trained TaskModule (masks must be frozen with task.freeze_masks()).
    sentence_pairs: the task reads [CLS] a [SEP] b [SEP] (task.json "input": "pair").
    mask_dtype: "F32" (default; every loader reads float tensors) or "U8" (4x smaller; the folder contract allows
    it, but the C++ loader of 2026-11-23 05:11 rejected U8 masks)."""
    os.makedirs(out, exist_ok=True)
    H, name = task.cfg["hidden_size"], task.name
    ad = {}
    for kind, mod in (("attention.attention_adapters", task.att_adapter), ("output_adapters", task.out_adapter)):
        if mod is None:
            continue
        for k, v in mod.state_dict().items():
            ad[f"{LAYER}{kind}.adapters.{name}.{k}"] = _np(v)
    if task.adapter_cfg is not None:
        _dump_json(adapter_doc(name, task.adapter_cfg, H, model_name), os.path.join(out, "adapter_config.json"))
        st.write(os.path.join(out, "adapter.safetensors"), _stored(ad, weight_dtype), {"format": "pt"})
    _dump_json(head_doc(name, task.labels, H, model_name), os.path.join(out, "head_config.json"))
    st.write(os.path.join(out, "model_head.safetensors"),
             _stored({f"heads.{name}.{i}.{p}": _np(getattr(task.head[i], p)) for i in (1, 4) for p in ("weight", "bias")},
                     weight_dtype),
             {"format": "pt"})
    ex = {}
    for i, h in enumerate(task.highway):
        for part in ("pooler", "classifier"):
            for p in ("weight", "bias"):
                ex[f"albert.encoder.highway.{i}.{part}.{p}"] = _np(getattr(getattr(h, part), p))
    if task.span is not None:
        ex["albert.encoder.span.value"] = _np(task.span.value)
    if task.ln is not None:
        ex[LAYER + "attention.LayerNorm.weight"] = _np(task.ln["att_w"])
        ex[LAYER + "attention.LayerNorm.bias"] = _np(task.ln["att_b"])
        ex[LAYER + "full_layer_layer_norm.weight"] = _np(task.ln["full_w"])
        ex[LAYER + "full_layer_layer_norm.bias"] = _np(task.ln["full_b"])
    for k, m in task.masks().items():
        ex["albert.encoder." + k + ".weight.mask"] = m.detach().cpu().numpy().astype(np.uint8 if mask_dtype == "U8" else np.float32)
    if ex:
        st.write(os.path.join(out, "edgebert.safetensors"), _stored(ex, weight_dtype), {"format": "pt"})
    meta = {"labels": task.labels, "exit": exit_policy}
    if sentence_pairs:
        meta["input"] = "pair"
    if predictor_csv:
        shutil.copyfile(predictor_csv, os.path.join(out, "predictor.csv"))
        meta["predictor_mode"] = predictor_mode
    if task.span is not None:
        meta["span"] = task.span.task_json()
    _dump_json(meta, os.path.join(out, "task.json"))


# ----------------------------------------------------------------------------------------------- reading
def load_backbone(folder):
    cfg = _load_json(os.path.join(folder, "config.json"))
    ts = st.read(os.path.join(folder, "model.safetensors"))
    model = AlbertModel(cfg, add_pooling_layer="albert.pooler.weight" in ts)
    sd = {k[len("albert."):]: torch.from_numpy(v.astype(np.float32)) for k, v in ts.items() if k.startswith("albert.")}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise ValueError(f"{folder}: missing {missing}, unexpected {unexpected}")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return cfg, model


def load_task(folder, cfg, backbone):
    """A TaskModule with fixed masks from a task folder (the inverse of write_task)."""
    meta = _load_json(os.path.join(folder, "task.json")) if os.path.exists(os.path.join(folder, "task.json")) else {}
    head_cfg = _load_json(os.path.join(folder, "head_config.json"))
    name = head_cfg["name"]
    labels = meta.get("labels") or [l for l, _ in sorted(head_cfg["config"]["label2id"].items(), key=lambda kv: kv[1])]
    acfg = None
    ad = {}
    if os.path.exists(os.path.join(folder, "adapter_config.json")):
        doc = _load_json(os.path.join(folder, "adapter_config.json"))
        acfg = {k: v for k, v in doc["config"].items() if k != "architecture"}
        if "version" not in doc:
            acfg["non_linearity"] = {"gelu": "gelu_new", "gelu_orig": "gelu"}.get(acfg["non_linearity"], acfg["non_linearity"])
        ad = st.read(os.path.join(folder, "adapter.safetensors"))
    ex = st.read(os.path.join(folder, "edgebert.safetensors")) if os.path.exists(os.path.join(folder, "edgebert.safetensors")) else {}
    ramps = len({k.split(".")[3] for k in ex if k.startswith("albert.encoder.highway.")})
    span = None
    if "albert.encoder.span.value" in ex:
        s = meta["span"]
        span = AdaptiveSpan(len(ex["albert.encoder.span.value"]), mode=s["mode"], ramp=s["ramp"],
                            max_span=s.get("max_span", 0.0), template_length=s.get("template_length", 128))
        span.value.data = torch.from_numpy(ex["albert.encoder.span.value"].astype(np.float32))
    has_ln = (LAYER + "attention.LayerNorm.weight") in ex
    task = TaskModule(name, labels, cfg, acfg, ramps=ramps, span=span, task_layer_norms=has_ln, backbone=backbone)
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32))
    pre = lambda k: k[len("albert."):] if k.startswith("albert.") else k
    for k, v in ad.items():
        m = re.match(r"^encoder\.albert_layer_groups\.0\.albert_layers\.0\.(attention\.attention_adapters|output_adapters)\.adapters\.[^.]+\.(.+)$", pre(k))
        if not m:
            raise ValueError(f"{folder}: unexpected adapter tensor {k}")
        mod = task.att_adapter if m.group(1).startswith("attention") else task.out_adapter
        mod.state_dict()[m.group(2)].copy_(t(v))
    hw = st.read(os.path.join(folder, "model_head.safetensors"))
    for i in (1, 4):
        for p in ("weight", "bias"):
            getattr(task.head[i], p).data.copy_(t(hw[f"heads.{name}.{i}.{p}"]))
    for i in range(ramps):
        for part in ("pooler", "classifier"):
            for p in ("weight", "bias"):
                getattr(getattr(task.highway[i], part), p).data.copy_(t(ex[f"albert.encoder.highway.{i}.{part}.{p}"]))
    if has_ln:
        task.ln["att_w"].data.copy_(t(ex[LAYER + "attention.LayerNorm.weight"]))
        task.ln["att_b"].data.copy_(t(ex[LAYER + "attention.LayerNorm.bias"]))
        task.ln["full_w"].data.copy_(t(ex[LAYER + "full_layer_layer_norm.weight"]))
        task.ln["full_b"].data.copy_(t(ex[LAYER + "full_layer_layer_norm.bias"]))
    masks = {}
    for p in PRUNABLE:
        k = LAYER + p + ".weight.mask"
        if k in ex:
            masks["albert_layer_groups.0.albert_layers.0." + p] = t(ex[k])
    task.fixed_masks = masks
    task.meta = meta
    task.eval()
    return task


def load_folder(folder):
    """(config, backbone AlbertModel, {task name: TaskModule}) from a model folder."""
    cfg, bb = load_backbone(folder)
    tasks = {}
    tdir = os.path.join(folder, "tasks")
    for name in sorted(os.listdir(tdir)) if os.path.isdir(tdir) else []:
        tasks[name] = load_task(os.path.join(tdir, name), cfg, bb)
    return cfg, bb, tasks


# ------------------------------------------------------------------------------- HF / AdapterHub / EdgeBERT
def _load_state(path):
    if path.endswith(".safetensors"):
        return st.read(path)
    sd = torch.load(path, map_location="cpu")
    return {k: v.float().numpy() if v.is_floating_point() else v.numpy() for k, v in sd.items()}


def _checkpoint_file(folder, names):
    for n in names:
        p = os.path.join(folder, n)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{folder}: none of {names}")


def export_hf(src, out, adapters=(), task_name=None, labels=None, predictor_csv=None, exit_policy="none",
              mask_threshold=None, span_tensor=None, span_mode="absolute", span_ramp=256.0, span_scale=128):
    """Convert a HuggingFace ALBERT checkpoint folder (config.json + model.safetensors or pytorch_model.bin, and
    spiece.model) to an edgebert model folder.

    EdgeBERT extras found in the same state dict become a task folder `task_name` (default "task"):
      albert.encoder.highway.{i}.pooler.* / .classifier.*   off-ramps, copied by name;
      classifier.* (+ albert.pooler.*)                     stays in the backbone (AlbertForSequenceClassification);
      <Linear>.mask_scores (EdgeBERT masked_albert)        -> <Linear>.weight.mask: top `mask_threshold` fraction;
      span_tensor (a name, e.g. the adaptive-span parameter)  -> albert.encoder.span.value (mean over batch slots).
    adapters: AdapterHub-saved folders (adapter_config.json + adapter.safetensors or pytorch_adapter.bin, optional
    head_config.json + model_head.safetensors / pytorch_model_head.bin); each becomes tasks/<adapter name>/ with
    names prefixed "albert." and legacy names ("attention_text_task_adapters", ...) renamed."""
    cfg = _load_json(os.path.join(src, "config.json"))
    sd = _load_state(_checkpoint_file(src, ["model.safetensors", "pytorch_model.bin"]))
    if not any(k.startswith("albert.") for k in sd):  # saved from a bare AlbertModel
        sd = {("albert." + k if not k.startswith(("classifier.", "predictions.", "sop_")) else k): v for k, v in sd.items()}
    spiece = os.path.join(src, "spiece.model") if os.path.exists(os.path.join(src, "spiece.model")) else None
    os.makedirs(out, exist_ok=True)
    # masks need the dense weight too: apply them per task, keep the backbone dense
    write_backbone(out, cfg, sd, spiece, cfg.get("max_position_embeddings", 512))
    ex = {k: v.astype(np.float32) for k, v in sd.items() if ".highway." in k}
    for k, v in sd.items():
        if k.endswith(".mask_scores"):
            if mask_threshold is None:
                raise ValueError(f"{k}: movement-pruning scores found; pass mask_threshold (kept fraction)")
            flat = v.reshape(-1)
            n = int(round(mask_threshold * flat.size))
            m = np.zeros(flat.size, dtype=np.uint8)
            m[np.argsort(-flat, kind="stable")[:n]] = 1
            ex[k[:-len(".mask_scores")] + ".weight.mask"] = m.reshape(v.shape)
    meta = {"exit": exit_policy}
    if span_tensor:
        ex["albert.encoder.span.value"] = np.asarray(sd[span_tensor], dtype=np.float32).reshape(-1, cfg["num_attention_heads"]).mean(0)
        meta["span"] = {"mode": span_mode, "ramp": span_ramp}
        meta["span"]["max_span" if span_mode == "distance" else "template_length"] = span_scale
    if ex or predictor_csv:
        tdir = os.path.join(out, "tasks", task_name or "task")
        os.makedirs(tdir, exist_ok=True)
        n_labels = cfg.get("num_labels", len(cfg.get("id2label", {})) or 2)
        meta["labels"] = labels or [cfg.get("id2label", {}).get(str(i), f"LABEL_{i}") for i in range(n_labels)]
        if ex:
            st.write(os.path.join(tdir, "edgebert.safetensors"), ex, {"format": "pt"})
        if predictor_csv:
            shutil.copyfile(predictor_csv, os.path.join(tdir, "predictor.csv"))
            meta["predictor_mode"] = "ee-before"
        _dump_json(meta, os.path.join(tdir, "task.json"))
    legacy = {"attention_text_task_adapters": "adapters", "attention_text_lang_adapters": "adapters",
              "layer_text_task_adapters": "adapters", "layer_text_lang_adapters": "adapters"}
    for a in adapters:
        doc = _load_json(os.path.join(a, "adapter_config.json"))
        name = doc["name"]
        tdir = os.path.join(out, "tasks", name)
        os.makedirs(tdir, exist_ok=True)
        w = _load_state(_checkpoint_file(a, ["adapter.safetensors", "pytorch_adapter.bin"]))
        fixed = {}
        for k, v in w.items():
            for old, new in legacy.items():
                k = k.replace("." + old + ".", "." + new + ".")
            fixed[k if k.startswith("albert.") else "albert." + k] = v.astype(np.float32)
        st.write(os.path.join(tdir, "adapter.safetensors"), fixed, {"format": "pt"})
        _dump_json(doc, os.path.join(tdir, "adapter_config.json"))
        if os.path.exists(os.path.join(a, "head_config.json")):
            shutil.copyfile(os.path.join(a, "head_config.json"), os.path.join(tdir, "head_config.json"))
            hw = _load_state(_checkpoint_file(a, ["model_head.safetensors", "pytorch_model_head.bin"]))
            st.write(os.path.join(tdir, "model_head.safetensors"), {k: v.astype(np.float32) for k, v in hw.items()}, {"format": "pt"})
    return out
