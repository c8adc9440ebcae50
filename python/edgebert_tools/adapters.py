# SPDX-License-Identifier: Apache-2.0
"""AdapterHub bottleneck adapters in plain torch: the same module layout (so state-dict names match AdapterHub's
`adapter_down.0.*`, `adapter_up.*`), the same config keys, and the same pre/forward/post algebra
(adapters/methods/modeling.py: Adapter.pre_forward, forward, post_forward). Only what Houlsby (double_seq_bn) and
Pfeiffer (seq_bn) need is trainable here; the other keys are honoured in the forward pass."""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from .albert import activation

_BASE = {"original_ln_before": False, "original_ln_after": True, "residual_before_ln": True,
         "adapter_residual_before_ln": False, "ln_before": False, "ln_after": False, "init_weights": "bert",
         "is_parallel": False, "scaling": 1.0, "use_gating": False, "inv_adapter": None,
         "inv_adapter_reduction_factor": None, "cross_adapter": False, "leave_out": [], "dropout": 0.0,
         "phm_layer": False, "stochastic_depth": 0.0}
PRESETS = {
    # seq_bn, alias "pfeiffer": the library default
    "pfeiffer": dict(_BASE, original_ln_before=True, mh_adapter=False, output_adapter=True,
                     non_linearity="relu", reduction_factor=16),
    # double_seq_bn, alias "houlsby": AdapterHub uses swish here (Houlsby's own code used GELU)
    "houlsby": dict(_BASE, mh_adapter=True, output_adapter=True, non_linearity="swish", reduction_factor=16),
}
PRESETS["seq_bn"] = PRESETS["pfeiffer"]
PRESETS["double_seq_bn"] = PRESETS["houlsby"]


def preset(name, **overrides):
    cfg = copy.deepcopy(PRESETS[name])
    cfg.update(overrides)
    return cfg


def bottleneck_size(cfg, hidden):
    r = cfg["reduction_factor"]
    if isinstance(r, dict):
        r = r.get("0", r["default"])
    return max(1, int(hidden // r))


class _Act(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = name
        self.fn = activation(name)

    def forward(self, x):
        return self.fn(x)


class BottleneckAdapter(nn.Module):
    """One AdapterHub `Adapter`: adapter_down = [LayerNorm if ln_before] + Linear(H, m) + activation,
    adapter_up = Linear(m, H), optional adapter_norm_after."""

    def __init__(self, cfg, hidden):
        super().__init__()
        if cfg.get("is_parallel") or cfg.get("use_gating") or cfg.get("phm_layer") or isinstance(cfg.get("scaling"), str):
            raise NotImplementedError("parallel, gated, PHM and learned-scaling adapters are not implemented here")
        self.cfg = cfg
        m = bottleneck_size(cfg, hidden)
        act = cfg["non_linearity"].lower()
        down = ([nn.LayerNorm(hidden)] if cfg.get("ln_before") else []) + [nn.Linear(hidden, m), _Act(act)]
        self.adapter_down = nn.Sequential(*down)
        self.adapter_up = nn.Linear(m, hidden)
        if cfg.get("ln_after"):
            self.adapter_norm_after = nn.LayerNorm(hidden)
        if cfg.get("init_weights", "bert") == "bert":
            for lin in (self.adapter_down[-2], self.adapter_up):
                nn.init.normal_(lin.weight, std=0.02)
                nn.init.zeros_(lin.bias)
        elif cfg["init_weights"] == "mam_adapter":
            nn.init.kaiming_uniform_(self.adapter_down[-2].weight, a=5 ** 0.5)
            nn.init.zeros_(self.adapter_up.weight)
            nn.init.zeros_(self.adapter_up.bias)

    def bottleneck_layer(self, hidden_states, residual_input, layer_norm):
        """AdapterHub's bottleneck_layer_forward for one sublayer: hidden_states is the tensor the model passes as
        the sublayer output, residual_input the residual, layer_norm the model's own LayerNorm (a callable)."""
        c = self.cfg
        h = hidden_states
        residual = h if c.get("residual_before_ln", True) is True else None
        if c.get("original_ln_before"):
            h = h + residual_input
            if c.get("residual_before_ln") == "post_add":
                residual = h
            h = layer_norm(h)
        if c.get("residual_before_ln", True) is False:
            residual = h
        up = self.adapter_up(self.adapter_down(h)) * float(c.get("scaling", 1.0))
        up = F.dropout(up, c.get("dropout", 0.0), self.training)
        norm_after = getattr(self, "adapter_norm_after", None)
        if c.get("adapter_residual_before_ln"):
            out = up + residual
            if norm_after is not None:
                out = norm_after(out)
        else:
            if norm_after is not None:
                up = norm_after(up)
            out = up + residual
        if c.get("original_ln_after", True):
            return layer_norm(out + residual_input)
        return out + residual_input
