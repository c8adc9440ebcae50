#!/usr/bin/env python3
"""Turn the ONNX Runtime peer's fp32 ALBERT (../shared/peer, make_weights.py) into ORT's dynamic-int8 form.

    /usr/bin/python3 scripts/quantize_peer_int8.py --in build/bench-vs-peer/base/model.onnx \
        --out build/bench-vs-peer/base/model.int8.onnx

Every MatMul whose second input is constant (an initializer, or a Transpose of one, as the peer's unfolded
graphs have it) becomes com.microsoft.DynamicQuantizeMatMul(A, B_int8, B_scale, B_zero_point): the weight
quantized per column (per output feature) to symmetric int8, scale = max |column| / 127, zero point 0;
ONNX Runtime quantizes A to uint8 at run time, per tensor. This is the form onnxruntime.quantization's
quantize_dynamic(per_channel=True, weight_type=QInt8) produces for MatMul; it is written here with python3-onnx
and numpy alone (onnxruntime's Python package is not installed here). The Gemm nodes (pooler, classifier) and
the attention's MatMuls between activations stay fp32, as in quantize_dynamic. A weight shared by several
MatMuls (ALBERT's one layer at every depth) is quantized once and shared.

Prints one JSON line: MatMuls converted, distinct weights, bytes of the int8 weights.
"""
import argparse
import json

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--in", dest="inp", required=True, help="fp32 model.onnx")
    ap.add_argument("--out", required=True, help="int8 model to write")
    a = ap.parse_args()

    model = onnx.load(a.inp)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    producer = {o: n for n in g.node for o in n.output}

    def constant_weight(name):
        """The [K, N] value of a MatMul's B if it is constant, else None."""
        if name in inits:
            return numpy_helper.to_array(inits[name])
        n = producer.get(name)
        if n is not None and n.op_type == "Transpose" and n.input[0] in inits:
            perm = next((list(x.ints) for x in n.attribute if x.name == "perm"), None)
            w = numpy_helper.to_array(inits[n.input[0]])
            if w.ndim == 2 and perm in (None, [1, 0]):
                return w.T
        return None

    quantized = {}  # source tensor name -> (B_int8 name, scale name, zero point name)
    new_nodes, converted, int8_bytes = [], 0, 0
    for n in g.node:
        if n.op_type != "MatMul":
            new_nodes.append(n)
            continue
        w = constant_weight(n.input[1])
        if w is None or w.ndim != 2 or w.dtype != np.float32:
            new_nodes.append(n)
            continue
        key = n.input[1] if n.input[1] in inits else producer[n.input[1]].input[0]
        if key not in quantized:
            scale = np.abs(w).max(axis=0) / 127.0
            safe = np.where(scale > 0, scale, 1.0)
            q = np.clip(np.rint(w / safe), -127, 127).astype(np.int8)
            base = key.replace("/", "_").strip("_") + "_int8"
            g.initializer.extend([
                numpy_helper.from_array(q, base + "_quantized"),
                numpy_helper.from_array(scale.astype(np.float32), base + "_scale"),
                numpy_helper.from_array(np.zeros(w.shape[1], dtype=np.int8), base + "_zero_point"),
            ])
            quantized[key] = (base + "_quantized", base + "_scale", base + "_zero_point")
            int8_bytes += q.nbytes
        qn, sn, zn = quantized[key]
        new_nodes.append(helper.make_node("DynamicQuantizeMatMul", [n.input[0], qn, sn, zn], list(n.output),
                                          name=(n.name or n.output[0]) + "_quant", domain="com.microsoft"))
        converted += 1

    del g.node[:]
    g.node.extend(new_nodes)
    # Drop what no node reads any more (the fp32 weights and their Transposes).
    while True:
        used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
        dead = [n for n in g.node if n.op_type == "Transpose" and not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            g.node.remove(n)
    used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.extend([helper.make_opsetid("com.microsoft", 1)])
    onnx.save(model, a.out)
    print(json.dumps({"converted_matmuls": converted, "distinct_weights": len(quantized), "int8_weight_bytes": int8_bytes,
                      "out": a.out}))


if __name__ == "__main__":
    main()
