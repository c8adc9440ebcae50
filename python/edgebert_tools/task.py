# SPDX-License-Identifier: Apache-2.0
"""The task-specific parts attached to a shared (frozen) ALBERT backbone: AdapterHub adapters (one attention and/or
one output adapter, shared across depth as AdapterHub does for ALBERT), AdapterHub classification head, EdgeBERT
off-ramps, adaptive span, task LayerNorms and movement-pruning scores or fixed masks on the encoder Linears."""
import torch
import torch.nn as nn

from .adapters import BottleneckAdapter
from .albert import entropy
from .pruning import TopKBinarizer, topk_mask
from .spans import AdaptiveSpan

PRUNABLE = ("attention.query", "attention.key", "attention.value", "attention.dense", "ffn", "ffn_output")


class ClassificationHead(nn.Sequential):
    """AdapterHub ClassificationHead with layers=2, tanh: 0 Dropout, 1 Linear(H,H), 2 Tanh, 3 Dropout, 4 Linear(H,C)."""

    def __init__(self, hidden, labels, dropout=0.1):
        super().__init__(nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.Tanh(), nn.Dropout(dropout),
                         nn.Linear(hidden, labels))


class Highway(nn.Module):
    """EdgeBERT/DeeBERT off-ramp: [CLS] -> pooler Linear(H,H) -> tanh -> dropout -> classifier Linear(H,C)."""

    def __init__(self, hidden, labels, dropout=0.1):
        super().__init__()
        self.pooler = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, labels)

    def forward(self, cls):
        return self.classifier(self.dropout(torch.tanh(self.pooler(cls))))


class TaskModule(nn.Module):
    def __init__(self, name, labels, cfg, adapter_cfg=None, ramps=0, span=None, task_layer_norms=False,
                 pruning=None, backbone=None):
        """labels: list of label names. adapter_cfg: AdapterHub BnConfig dict or None. ramps: number of off-ramps
        (after layers 1..ramps). span: an AdaptiveSpan or None. task_layer_norms: train copies of the two
        LayerNorms. pruning: None, "movement" or "magnitude" (needs backbone to read the shared weights)."""
        super().__init__()
        H = cfg["hidden_size"]
        self.name, self.labels, self.cfg, self.adapter_cfg = name, list(labels), cfg, adapter_cfg
        if cfg["num_hidden_groups"] != 1 or cfg["inner_group_num"] != 1:
            raise NotImplementedError("task parts are written for one shared ALBERT layer")
        self.att_adapter = BottleneckAdapter(adapter_cfg, H) if adapter_cfg and adapter_cfg["mh_adapter"] else None
        self.out_adapter = BottleneckAdapter(adapter_cfg, H) if adapter_cfg and adapter_cfg["output_adapter"] else None
        self.head = ClassificationHead(H, len(labels), cfg.get("classifier_dropout_prob", 0.1))
        self.highway = nn.ModuleList(Highway(H, len(labels)) for _ in range(ramps))
        self.span = span
        self.ln = None
        layer = "albert_layer_groups.0.albert_layers.0."
        if task_layer_norms:
            src = backbone.encoder.albert_layer_groups[0].albert_layers[0]
            self.ln = nn.ParameterDict({
                "att_w": nn.Parameter(src.attention.LayerNorm.weight.detach().clone()),
                "att_b": nn.Parameter(src.attention.LayerNorm.bias.detach().clone()),
                "full_w": nn.Parameter(src.full_layer_layer_norm.weight.detach().clone()),
                "full_b": nn.Parameter(src.full_layer_layer_norm.bias.detach().clone())})
        self._ln_names = {layer + "attention.LayerNorm": ("att_w", "att_b"),
                          layer + "full_layer_layer_norm": ("full_w", "full_b")}
        self.pruning = pruning
        self.keep = 1.0
        self.scores = None
        self.fixed_masks = {}
        if pruning is not None:
            src = backbone.encoder.albert_layer_groups[0].albert_layers[0]
            weights = {p: src.get_submodule(p).weight for p in PRUNABLE}
            self._weights = weights
            if pruning == "movement":
                # scores start at |w| so the first masks equal magnitude masks (a choice; EdgeBERT starts at 0)
                self.scores = nn.ParameterDict({p.replace(".", "_"): nn.Parameter(w.detach().abs().clone())
                                                for p, w in weights.items()})
            elif pruning != "magnitude":
                raise ValueError(f"pruning must be movement or magnitude, not {pruning!r}")
        self._layer = layer

    # --- hooks called by AlbertLayer.forward ---
    def weight_mask(self, name):
        if self.fixed_masks:
            return self.fixed_masks.get(name)
        if self.pruning is None or not name.startswith(self._layer):
            return None
        part = name[len(self._layer):]
        if part not in PRUNABLE:
            return None
        if self.pruning == "movement":
            return TopKBinarizer.apply(self.scores[part.replace(".", "_")], self.keep)
        return topk_mask(self._weights[part].detach().abs(), self.keep)

    def layer_norm(self, name):
        if self.ln is None or name not in self._ln_names:
            return None
        w, b = self._ln_names[name]
        return self.ln[w], self.ln[b]

    @torch.no_grad()
    def freeze_masks(self):
        """Replace the learned scores by fixed 0/1 masks at the current keep fraction (for export and eval)."""
        if self.pruning is None:
            return {}
        self.fixed_masks = {}
        masks = {self._layer + p: self.weight_mask(self._layer + p).detach().clone() for p in PRUNABLE}
        self.fixed_masks = masks
        return masks

    def masks(self):
        return {k: v for k, v in self.fixed_masks.items()}


def run(backbone, task, ids, attention_mask=None, ramps=True, token_type_ids=None):
    """Full-depth forward: (final logits [B,C], list of off-ramp logits per layer with a ramp, hidden states)."""
    states = backbone(ids, attention_mask, token_type_ids, task=task)
    ramp_logits = [task.highway[i](states[i + 1][:, 0]) for i in range(len(task.highway))] if ramps else []
    return task.head(states[-1][:, 0]), ramp_logits, states


def run_reference(backbone, task, ids, token_type_ids=None):
    """One unpadded sentence (or pair), eval mode, full depth: dict with final logits, off-ramp logits and
    entropies."""
    with torch.no_grad():
        logits, ramps, _ = run(backbone, task, ids[None],
                               token_type_ids=None if token_type_ids is None else token_type_ids[None])
    return {"logits": logits[0], "ramp_logits": [r[0] for r in ramps],
            "entropies": [float(entropy(r[0])) for r in ramps], "final_entropy": float(entropy(logits[0]))}
