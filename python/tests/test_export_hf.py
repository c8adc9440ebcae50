# SPDX-License-Identifier: Apache-2.0
"""export_hf on a synthetic HuggingFace/EdgeBERT checkpoint (pytorch_model.bin with off-ramps and movement
scores) and a legacy AdapterHub adapter folder (pytorch_adapter.bin, bare-model names, old key names)."""
import json
import os
import tempfile
import unittest

import numpy as np
import torch

from tests import util
from edgebert_tools import adapters, albert, export
from edgebert_tools import safetensors_io as st
from edgebert_tools import task as taskmod

L0 = "albert.encoder.albert_layer_groups.0.albert_layers.0."


class ExportHfTest(unittest.TestCase):
    def test_checkpoint_extras_and_legacy_adapter(self):
        cfg = util.small_config(num_labels=2)
        torch.manual_seed(0)
        full = albert.AlbertForPretraining(cfg)
        util.randomize(full, 7)
        H = cfg["hidden_size"]
        sd = dict(full.state_dict())
        sd["albert.embeddings.position_ids"] = torch.arange(32)[None]
        sd["albert.pooler.weight"], sd["albert.pooler.bias"] = torch.randn(H, H), torch.randn(H)
        sd["classifier.weight"], sd["classifier.bias"] = torch.randn(2, H), torch.randn(2)
        for i in range(cfg["num_hidden_layers"]):
            sd[f"albert.encoder.highway.{i}.pooler.weight"] = torch.randn(H, H)
            sd[f"albert.encoder.highway.{i}.pooler.bias"] = torch.randn(H)
            sd[f"albert.encoder.highway.{i}.classifier.weight"] = torch.randn(2, H)
            sd[f"albert.encoder.highway.{i}.classifier.bias"] = torch.randn(2)
        scores = torch.randn(H, H)
        sd[L0 + "attention.query.mask_scores"] = scores
        # an adapter trained on the same backbone, saved by adapter-transformers from a bare model
        acfg = adapters.preset("houlsby", reduction_factor=4)
        t = taskmod.TaskModule("senti", ["neg", "pos"], cfg, acfg, backbone=full.albert)
        util.randomize(t, 8)
        t.eval()
        with tempfile.TemporaryDirectory() as d:
            src, ad, out = (os.path.join(d, x) for x in ("hf", "adapter", "out"))
            os.makedirs(src)
            os.makedirs(ad)
            with open(os.path.join(src, "config.json"), "w") as f:
                json.dump(dict(cfg, id2label={"0": "neg", "1": "pos"}), f)
            torch.save(sd, os.path.join(src, "pytorch_model.bin"))
            legacy = {}
            # bare-model names (no "albert."), one old key name that AdapterHub's loader renames to "adapters"
            for kind, mod in (("attention.attention_adapters.attention_text_task_adapters", t.att_adapter),
                              ("output_adapters.adapters", t.out_adapter)):
                for k, v in mod.state_dict().items():
                    legacy[f"encoder.albert_layer_groups.0.albert_layers.0.{kind}.senti.{k}"] = v
            torch.save(legacy, os.path.join(ad, "pytorch_adapter.bin"))
            with open(os.path.join(ad, "adapter_config.json"), "w") as f:
                json.dump({"config": acfg, "hidden_size": H, "model_type": "albert", "name": "senti"}, f)
            with open(os.path.join(ad, "head_config.json"), "w") as f:
                json.dump(export.head_doc("senti", ["neg", "pos"], H, "x"), f)
            torch.save({f"heads.senti.{i}.{p}": getattr(t.head[i], p).detach() for i in (1, 4) for p in ("weight", "bias")},
                       os.path.join(ad, "pytorch_model_head.bin"))
            with self.assertRaisesRegex(ValueError, "mask_threshold"):
                export.export_hf(src, out, task_name="edge")
            export.export_hf(src, out, adapters=[ad], task_name="edge", mask_threshold=0.25, exit_policy="entropy:0.2")

            back = st.read(os.path.join(out, "model.safetensors"))
            self.assertNotIn("albert.embeddings.position_ids", back)
            self.assertFalse([k for k in back if k.startswith("predictions.") or ".highway." in k or "mask_scores" in k])
            np.testing.assert_array_equal(back["classifier.weight"], sd["classifier.weight"].numpy())
            ex = st.read(os.path.join(out, "tasks", "edge", "edgebert.safetensors"))
            self.assertEqual(len([k for k in ex if ".highway." in k]), 4 * cfg["num_hidden_layers"])
            m = ex[L0 + "attention.query.weight.mask"]
            self.assertEqual(int(m.sum()), round(0.25 * H * H))
            self.assertTrue((scores.numpy()[m == 1].min() >= scores.numpy()[m == 0].max()))
            with open(os.path.join(out, "tasks", "edge", "task.json")) as f:
                meta = json.load(f)
            self.assertEqual(meta, {"exit": "entropy:0.2", "labels": ["neg", "pos"]})
            names = st.read(os.path.join(out, "tasks", "senti", "adapter.safetensors"))
            self.assertTrue(all(k.startswith("albert.encoder.") and ".adapters.senti." in k for k in names), names.keys())
            # the converted adapter computes what the original module computed
            cfg2, bb2 = export.load_backbone(out)
            t2 = export.load_task(os.path.join(out, "tasks", "senti"), cfg2, bb2)
            ids = torch.randint(5, 57, (2, 9), generator=torch.Generator().manual_seed(1))
            with torch.no_grad():
                want = taskmod.run(full.albert, t, ids)[0]
                got = taskmod.run(bb2, t2, ids)[0]
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


if __name__ == "__main__":
    unittest.main()
