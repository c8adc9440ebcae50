# SPDX-License-Identifier: Apache-2.0
"""Adaptive attention span, applied to the attention probabilities after the softmax and renormalised with
+1e-8 (EdgeBERT's placement). Two mask variants (reference/edgebert.md §8):
  distance (Sukhbaatar et al., facebookresearch/adaptive-span): m(i, j) = clamp((R + z - |i - j|) / R, 0, 1),
           z = value * max_span;
  absolute (EdgeBERT's code): m(j) = clamp((j - (T - 1) + z) / R + 1, 0, 1), z = value * T, T the template length.
One learned value in [0, 1] per head, shared by every layer (ALBERT shares its layer)."""
import torch
import torch.nn as nn


class AdaptiveSpan(nn.Module):
    def __init__(self, heads, mode="distance", ramp=8.0, max_span=64.0, template_length=128, init=1.0, coeff=0.0):
        super().__init__()
        if mode not in ("distance", "absolute"):
            raise ValueError(f"span mode must be distance or absolute, not {mode!r}")
        self.mode, self.ramp, self.max_span, self.template_length, self.coeff = mode, float(ramp), float(max_span), int(template_length), coeff
        self.value = nn.Parameter(torch.full((heads,), float(init)))

    def scale(self):
        return self.max_span if self.mode == "distance" else float(self.template_length)

    def mask(self, S, device=None):
        """[heads, S, S] soft mask."""
        z = self.value * self.scale()
        i = torch.arange(S, device=device, dtype=torch.float32)[:, None]
        j = torch.arange(S, device=device, dtype=torch.float32)[None, :]
        if self.mode == "distance":
            x = (i - j).abs()
            m = (self.ramp + z[:, None, None] - x[None]) / self.ramp
        else:
            m = (j[None] - (self.template_length - 1) + z[:, None, None]) / self.ramp + 1 + 0 * i[None]
        return m.clamp(0.0, 1.0)

    def apply(self, probs):
        m = self.mask(probs.shape[-1], probs.device)
        p = probs * m[None]
        return p / (p.sum(-1, keepdim=True) + 1e-8)

    def loss(self):
        """The original span penalty: coeff x max_span x mean(value)."""
        return self.coeff * self.scale() * self.value.mean()

    @torch.no_grad()
    def clamp_(self):
        self.value.clamp_(0.0, 1.0)

    def spans(self):
        """Effective span per head in tokens (z + R for distance mode: keys farther away get weight 0)."""
        z = self.value.detach() * self.scale()
        return (z + self.ramp).tolist() if self.mode == "distance" else z.tolist()

    def task_json(self):
        d = {"mode": self.mode, "ramp": self.ramp}
        if self.mode == "distance":
            d["max_span"] = self.max_span
        else:
            d["template_length"] = self.template_length
        return d
