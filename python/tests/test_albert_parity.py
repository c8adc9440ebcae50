# SPDX-License-Identifier: Apache-2.0
"""The torch model against the independent float64 numpy reference of HF ALBERT + AdapterHub adapters + span
(tests/parity/albert_reference.py), through the exported files: export -> albert_reference reads the folder."""
import copy
import os
import tempfile
import unittest

import numpy as np
import torch

from tests import util
from edgebert_tools import adapters, albert, export, spans
from edgebert_tools import safetensors_io as st
from edgebert_tools import task as taskmod

import albert_reference as ref  # tests/parity


def make(cfg, seed, preset=None, span=None, ln=False, prune=None, ramps=0):
    torch.manual_seed(seed)
    full = albert.AlbertForPretraining(cfg)
    util.randomize(full, seed)
    bb = full.albert.eval()
    acfg = adapters.preset(preset, reduction_factor=4) if preset else None
    t = taskmod.TaskModule("tsk", ["a", "b", "c"], cfg, acfg, ramps=ramps, span=span, task_layer_norms=ln,
                           pruning=prune, backbone=bb)
    util.randomize(t, seed + 1)
    if prune:
        t.keep = 0.6
        t.freeze_masks()
    return full, t.eval()


def ref_forward(folder, ids, task_dir=None, tensors=None):
    import json
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    w = tensors if tensors is not None else ref.read_safetensors(os.path.join(folder, "model.safetensors"))
    task = ref.load_task(task_dir, cfg) if task_dir else None
    ids = np.asarray(ids)
    return ref.forward(cfg, w, ids, np.ones(ids.shape), np.zeros_like(ids), task)


class ParityTest(unittest.TestCase):
    def check(self, cfg, seed, **kw):
        full, t = make(cfg, seed, **kw)
        ids = torch.randint(5, cfg["vocab_size"], (2, 11), generator=torch.Generator().manual_seed(seed))
        with tempfile.TemporaryDirectory() as d:
            export.write_backbone(d, cfg, full.backbone_state_dict(), None, cfg["max_position_embeddings"])
            tdir = os.path.join(d, "tasks", "tsk")
            export.write_task(tdir, t, "test")
            # our model read back from the files
            cfg2, bb2, tasks = export.load_folder(d)
            with torch.no_grad():
                logits, ramps, states = taskmod.run(bb2, tasks["tsk"], ids)
                logits0, _, _ = taskmod.run(full.albert, t, ids)
            torch.testing.assert_close(logits, logits0, atol=1e-6, rtol=0)
            # the numpy reference knows neither masks nor task LayerNorms: bake them into its copy of the weights
            w = ref.read_safetensors(os.path.join(d, "model.safetensors"))
            ex = st.read(os.path.join(tdir, "edgebert.safetensors")) if os.path.exists(os.path.join(tdir, "edgebert.safetensors")) else {}
            for k, v in ex.items():
                if k.endswith(".weight.mask"):
                    w[k[:-5]] = w[k[:-5]] * v
                elif "LayerNorm" in k or "layer_norm" in k:
                    w[k] = v.astype(np.float64)
            H = cfg["hidden_size"]
            w.update({"albert.pooler.weight": np.eye(H), "albert.pooler.bias": np.zeros(H)})  # unused by the head
            r_states, _, r_logits = ref_forward(d, ids.numpy(), tdir, w)
        for s, rs in zip(states, r_states):
            np.testing.assert_allclose(s.numpy(), rs, atol=1e-4, rtol=0)
        np.testing.assert_allclose(logits.numpy(), r_logits, atol=1e-4, rtol=0)
        return ex

    def test_plain_backbone_with_head(self):
        self.check(util.small_config(), 1)

    def test_gelu_erf_and_groups_of_layers(self):
        # several hidden groups are backbone-only (task parts assume one shared layer)
        cfg = util.small_config(hidden_act="gelu", num_hidden_groups=2)
        torch.manual_seed(0)
        full = albert.AlbertForPretraining(cfg)
        util.randomize(full, 4)
        ids = torch.randint(5, cfg["vocab_size"], (1, 9), generator=torch.Generator().manual_seed(4))
        with tempfile.TemporaryDirectory() as d:
            export.write_backbone(d, cfg, full.backbone_state_dict(), None, 32)
            r_states, _, _ = ref_forward(d, ids.numpy(), None, dict(ref.read_safetensors(os.path.join(d, "model.safetensors")),
                                         **{"albert.pooler.weight": np.eye(24), "albert.pooler.bias": np.zeros(24),
                                            "classifier.weight": np.zeros((2, 24)), "classifier.bias": np.zeros(2)}))
        with torch.no_grad():
            states = full.albert(ids)
        for s, rs in zip(states, r_states):
            np.testing.assert_allclose(s.numpy(), rs, atol=1e-4, rtol=0)

    def test_houlsby_adapter_quirk_and_distance_span(self):
        sp = spans.AdaptiveSpan(3, mode="distance", ramp=2.0, max_span=8.0)
        self.check(util.small_config(), 2, preset="houlsby", span=sp, ramps=3)
        self.assertLess(min(sp.spans()), 10)  # some head really truncates the 11-token sentence

    def test_pfeiffer_adapter_absolute_span(self):
        sp = spans.AdaptiveSpan(3, mode="absolute", ramp=3.0, template_length=11)
        self.check(util.small_config(), 3, preset="pfeiffer", span=sp)

    def test_masks_and_task_layer_norms(self):
        ex = self.check(util.small_config(), 5, preset="pfeiffer", ln=True, prune="movement", ramps=2)
        masks = [v for k, v in ex.items() if k.endswith(".mask")]
        self.assertEqual(len(masks), 6)
        for m in masks:
            self.assertEqual(m.dtype, np.float32)
            self.assertTrue(np.isin(m, (0.0, 1.0)).all())
            self.assertAlmostEqual(m.mean(), 0.6, delta=0.01)

    def test_adapter_changes_the_output(self):
        # guards against a test that cannot fail: the same model without its adapter must differ
        cfg = util.small_config()
        full, t = make(cfg, 2, preset="houlsby")
        bare = copy.deepcopy(t)
        bare.att_adapter = bare.out_adapter = None
        ids = torch.randint(5, 57, (1, 7), generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            a = taskmod.run(full.albert, t, ids)[0]
            b = taskmod.run(full.albert, bare, ids)[0]
        self.assertGreater((a - b).abs().max().item(), 1e-2)


class HalfPrecisionExportTest(unittest.TestCase):
    def test_f16_folder_reads_back_as_the_rounded_weights(self):
        """--weight-dtype F16: every float tensor of the folder is stored as F16 (masks stay U8), and the model
        read back computes with exactly the F16-rounded values, so reference outputs made from the folder are what
        the C++ runtime computes."""
        cfg = util.small_config()
        full, t = make(cfg, 7, preset="houlsby", prune="movement", ramps=2)
        with tempfile.TemporaryDirectory() as d:
            export.write_backbone(d, cfg, full.backbone_state_dict(), None, 32, weight_dtype="F16")
            tdir = os.path.join(d, "tasks", "tsk")
            export.write_task(tdir, t, "test", mask_dtype="U8", weight_dtype="F16")
            for f in ("model.safetensors", "tasks/tsk/adapter.safetensors", "tasks/tsk/model_head.safetensors",
                      "tasks/tsk/edgebert.safetensors"):
                for name, v in st.read(os.path.join(d, f)).items():
                    want = np.uint8 if name.endswith(".mask") else np.float16
                    self.assertEqual(v.dtype, want, f"{f}: {name}")
            _, bb2, tasks = export.load_folder(d)
            emb = full.backbone_state_dict()["albert.embeddings.word_embeddings.weight"]
            got = bb2.state_dict()["embeddings.word_embeddings.weight"]
            torch.testing.assert_close(got, emb.half().float(), atol=0, rtol=0)
            self.assertGreater((got - emb).abs().max().item(), 0)  # the rounding really happened
            with self.assertRaises(ValueError):
                export.write_backbone(d, cfg, full.backbone_state_dict(), None, 32, weight_dtype="BF16")


if __name__ == "__main__":
    unittest.main()
