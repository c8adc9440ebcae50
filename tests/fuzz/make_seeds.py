#!/usr/bin/env python3
"""Write the seed corpora of tests/fuzz/corpus/<target>/ (small files; numpy only). Seeds are real
files of each format: safetensors written the way the reference writer lays them out (json header padded
with spaces to 8 bytes, tensors contiguous), .npy files from numpy.save itself, config/adapter/head/input
JSON in HuggingFace's and AdapterHub's shapes, the head of EdgeBERT's released SST-2 tables.

    /usr/bin/python3 make_seeds.py [--shared ../shared/data] [--parity /tmp/parity]   (Debian python3-numpy)

Optional sources (copied when present): EdgeBERT's SST-2 tables (../shared/data/edgebert-sst2) and the
task folders written by tests/parity (config.json, adapter/head configs, edgebert.safetensors, in.json).
"""
import argparse
import glob
import io
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors_bytes(tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(HERE, "../../../shared/data"))
    ap.add_argument("--parity", default="/tmp/parity")
    a = ap.parse_args()
    rng = np.random.default_rng(7)

    # safetensors
    f32 = rng.standard_normal((2, 3)).astype("<f4")
    put("safetensors", "f32_2x3.safetensors", safetensors_bytes({"w": ("F32", (2, 3), f32.tobytes())}))
    put("safetensors", "mixed.safetensors", safetensors_bytes({
        "a.bias": ("F16", (3,), rng.standard_normal(3).astype("<f2").tobytes()),
        "a.weight": ("BF16", (2, 2), (rng.standard_normal(4).astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()),
        "ids": ("I64", (2,), np.array([1, -2], "<i8").tobytes()),
        "mask": ("BOOL", (3,), bytes([1, 0, 1])),
        "u8": ("U8", (1, 1), bytes([200])),
        "empty": ("F32", (0, 4), b""),
        "scalar": ("F64", (), struct.pack("<d", 3.5)),
    }, {"format": "pt", "edgebert": "test"}))
    put("safetensors", "empty.safetensors", safetensors_bytes({}))
    put("safetensors", "odd_offsets.safetensors", safetensors_bytes({
        "b": ("U8", (3,), b"abc"), "c": ("F32", (1,), struct.pack("<f", 1.0)),
        "d": ("I8", (1,), b"\xff"), "e": ("U16", (1,), b"\x01\x02"), "f": ("I32", (1,), b"\x01\x02\x03\x04")}))
    # nested-looking metadata and escapes
    put("safetensors", "escapes.safetensors", safetensors_bytes({"t\u00e9\\n\"": ("F32", (1,), struct.pack("<f", 2.0))},
                                                                {"k": "v\u2028"}))

    # npy, written by numpy itself
    def npy(name, arr, **kw):
        b = io.BytesIO()
        np.save(b, arr, **kw)
        put("npy", name, b.getvalue())
    npy("f4_2x3.npy", rng.standard_normal((2, 3)).astype("<f4"))
    npy("f8_3.npy", rng.standard_normal(3))
    npy("f2_scalar.npy", np.array(1.5, "<f2"))
    npy("i8_2x2.npy", np.array([[1, -2], [3, 4]], "<i8"))
    npy("i1_4.npy", np.array([-1, 0, 1, 127], "|i1"))
    npy("u2_1.npy", np.array([65535], "<u2"))
    npy("b1_3.npy", np.array([True, False, True]))
    npy("empty_0x5.npy", np.zeros((0, 5), "<f4"))
    npy("i4_1x1x2.npy", np.array([[[7, 8]]], "<i4"))
    npy("fortran.npy", np.asfortranarray(np.ones((2, 2), "<f4")))
    v2 = io.BytesIO()
    np.lib.format.write_array(v2, np.arange(4, dtype="<u4"), version=(2, 0))
    put("npy", "u4_v2.npy", v2.getvalue())

    # config.json (HF AlbertConfig as save_pretrained writes it)
    base = {"architectures": ["AlbertForSequenceClassification"], "attention_probs_dropout_prob": 0,
            "bos_token_id": 2, "classifier_dropout_prob": 0.1, "embedding_size": 128, "eos_token_id": 3,
            "hidden_act": "gelu_new", "hidden_dropout_prob": 0, "hidden_size": 768,
            "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}, "initializer_range": 0.02, "inner_group_num": 1,
            "intermediate_size": 3072, "label2id": {"NEGATIVE": 0, "POSITIVE": 1}, "layer_norm_eps": 1e-12,
            "max_position_embeddings": 512, "model_type": "albert", "num_attention_heads": 12,
            "num_hidden_groups": 1, "num_hidden_layers": 12, "pad_token_id": 0,
            "position_embedding_type": "absolute", "torch_dtype": "float32", "transformers_version": "4.30.2",
            "type_vocab_size": 2, "vocab_size": 30000}
    put("albert_config", "albert_base_sst2.json", json.dumps(base, indent=2))
    put("albert_config", "minimal.json", json.dumps({"hidden_size": 8, "num_attention_heads": 2, "num_labels": 3}))
    put("albert_config", "odd_groups.json", json.dumps({"num_hidden_layers": 5, "num_hidden_groups": 3,
                                                         "hidden_act": "relu", "vocab_size": 10, "hidden_size": 12,
                                                         "num_attention_heads": 3, "intermediate_size": 7}))

    # input JSON
    put("input_json", "batch.json", json.dumps({"input_ids": [[2, 10, 3], [2, 11, 0]],
                                                "attention_mask": [[1, 1, 1], [1, 1, 0]],
                                                "token_type_ids": [[0, 0, 0], [0, 0, 0]]}))
    put("input_json", "flat.json", json.dumps({"input_ids": [2, 5, 3]}))
    put("input_json", "null_mask.json", json.dumps({"input_ids": [[1]], "attention_mask": None}))

    # adapter / head configs (AdapterHub 'adapters' library layout)
    adapter = {"config": {"adapter_residual_before_ln": False, "cross_adapter": False, "dropout": 0.0,
                          "factorized_phm_W": True, "factorized_phm_rule": False, "hypercomplex_nonlinearity": "glorot-uniform",
                          "init_weights": "bert", "inv_adapter": None, "inv_adapter_reduction_factor": None,
                          "is_parallel": False, "learn_phm": True, "leave_out": [], "ln_after": False, "ln_before": False,
                          "mh_adapter": False, "non_linearity": "relu", "original_ln_after": True,
                          "original_ln_before": True, "output_adapter": True, "phm_bias": True, "phm_c_init": "normal",
                          "phm_dim": 4, "phm_init_range": 0.0001, "phm_layer": False, "phm_rank": 1,
                          "reduction_factor": 16, "residual_before_ln": True, "scaling": 1.0, "shared_W_phm": False,
                          "shared_phm_rule": True, "use_gating": False},
               "hidden_size": 768, "model_class": "AlbertAdapterModel", "model_name": "albert-base-v2",
               "model_type": "albert", "name": "sst2", "version": "adapters.1.0.0"}
    put("adapterhub", "seq_bn_full.json", json.dumps(adapter, indent=2))
    put("adapterhub", "preset_name.json", json.dumps({"config": "pfeiffer", "name": "x", "model_type": "albert"}))
    put("adapterhub", "reduction_map.json", json.dumps({"config": {"mh_adapter": True, "output_adapter": True,
        "non_linearity": "gelu", "reduction_factor": {"default": 8, "1": 2}, "leave_out": [3],
        "scaling": "channel", "residual_before_ln": "post_add"}, "name": "m"}))
    put("adapterhub", "head.json", json.dumps({"config": {"head_type": "classification", "num_labels": 2, "layers": 2,
        "activation_function": "tanh", "use_pooler": False, "label2id": {"neg": 0, "pos": 1}},
        "hidden_size": 768, "model_class": "AlbertAdapterModel", "model_type": "albert", "name": "sst2",
        "version": "adapters.1.0.0"}, indent=2))

    # exit tables and policy strings
    put("exit_tables", "small_lut.csv", "0.0,0.4,0.2\n0.01,0.3,0.1\n0.5,0.2,0.05\n")
    put("exit_tables", "traces.txt", " 0.09, 0.02, 0.7\n 0.5, 0.3, 0.6\n")
    put("exit_tables", "policy_entropy.txt", "entropy:0.3\n0.0,1.0\n")
    put("exit_tables", "policy_patience.txt", "patience:2\n")
    put("exit_tables", "modes.txt", "no-ee-before,extra-layer\n0,1\n")
    put("exit_tables", "crlf.csv", "0,1,2\r\n1,2,3\r\n\r\n")
    sst2 = os.path.join(a.shared, "edgebert-sst2")
    for src, name in (("sst2_lookup_table_opt.csv", "sst2_lut_head.csv"), ("dataset_sst2_eval.txt", "sst2_eval_head.txt")):
        p = os.path.join(sst2, src)
        if os.path.exists(p):  # the first lines of EdgeBERT's released tables
            put("exit_tables", name, b"".join(open(p, "rb").readlines()[:6]))

    # number formats: name, '\n', flags, ndim, dims (255 = 8-byte dim), nparams, (bias, has_scale[, 8 bytes]), codes
    def fmt(name, flags, dims, params, codes):
        b = bytes([flags, len(dims)]) + bytes(dims) + bytes([len(params)])
        for bias, scale in params:
            b += bytes([bias & 0xFF]) + (b"\x01" + struct.pack("<f", scale) + b"\0\0\0\0" if scale is not None else b"\0")
        return name.encode() + b"\n" + b + bytes(codes)
    put("number_format", "af8.bin", fmt("af8", 0, [2, 3], [(-3, None)], range(6)))
    put("number_format", "af8e4_rows.bin", fmt("af8e4", 1, [2, 2], [(-5, None), (0, None)], [1, 2, 200, 255]))
    put("number_format", "e4m3_scale.bin", fmt("e4m3", 0, [4], [(0, 0.5)], [0x7e, 0x7f, 0xff, 1]))
    put("number_format", "e5m2_rows.bin", fmt("e5m2", 1, [2, 1], [(0, 2.0), (0, 1.0)], [0x7c, 0x80]))
    put("number_format", "fp16.bin", fmt("fp16", 0, [2], [(0, None)], [0, 0x3c, 0xff, 0x7f]))
    put("number_format", "bf16.bin", fmt("bf16", 0, [], [(0, None)], [0x80, 0x3f]))
    put("number_format", "af6e2_2022.bin", fmt("af6e2-2022", 0, [3], [(0, None)], [1, 31, 63]))
    put("number_format", "af8_hw.bin", fmt("af8-hw", 0, [1], [(0, None)], [5]))
    put("number_format", "af16e7.bin", fmt("af16e7", 0, [1], [(0, None)], [1, 0x80]))
    put("number_format", "name_only.txt", "af4e1")

    # real files from the parity run, when present
    if os.path.isdir(a.parity):
        for p in sorted(glob.glob(os.path.join(a.parity, "*/model/config.json")))[:3]:
            put("albert_config", "parity_" + p.split(os.sep)[-3] + ".json", open(p, "rb").read())
        for p in sorted(glob.glob(os.path.join(a.parity, "tasks/*/adapter_config.json"))):
            put("adapterhub", "parity_adapter_" + p.split(os.sep)[-2] + ".json", open(p, "rb").read())
        for p in sorted(glob.glob(os.path.join(a.parity, "tasks/*/head_config.json"))):
            put("adapterhub", "parity_head_" + p.split(os.sep)[-2] + ".json", open(p, "rb").read())
        for p in sorted(glob.glob(os.path.join(a.parity, "tasks/*/edgebert.safetensors"))):
            if os.path.getsize(p) <= 4096:
                put("safetensors", "parity_" + p.split(os.sep)[-2] + ".safetensors", open(p, "rb").read())
        for p in sorted(glob.glob(os.path.join(a.parity, "*/in.json")))[:3]:
            put("input_json", "parity_" + p.split(os.sep)[-2] + ".json", open(p, "rb").read())
        for p in sorted(glob.glob(os.path.join(a.parity, "tasks/ref-*/logits.npy")))[:2]:
            if os.path.getsize(p) <= 4096:
                put("npy", "parity_" + p.split(os.sep)[-2] + "_logits.npy", open(p, "rb").read())


if __name__ == "__main__":
    main()
