# SPDX-License-Identifier: Apache-2.0
"""Pruning of the encoder's Linear weights as EdgeBERT does it (reference/edgebert.md §9.1): movement pruning
(topK of learned scores, straight-through gradient) or magnitude pruning (topK of |w|), the keep fraction
following the cubic schedule of Sanh et al. Masks are per tensor and keep `threshold` of the weights."""
import torch


class TopKBinarizer(torch.autograd.Function):
    """mask = 1 for the top `keep` fraction of scores, 0 elsewhere; the gradient passes straight through."""

    @staticmethod
    def forward(ctx, scores, keep):
        return topk_mask(scores.detach(), keep)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def topk_mask(scores, keep):
    keep = float(keep)
    if keep >= 1.0:
        return torch.ones_like(scores)
    n = scores.numel()
    k = int(round(keep * n))
    out = torch.zeros(n, dtype=scores.dtype, device=scores.device)
    if k > 0:
        # sort-based (not topk) so ties are broken by index deterministically on every platform
        idx = torch.argsort(scores.flatten(), descending=True, stable=True)[:k]
        out[idx] = 1.0
    return out.view_as(scores)


def cubic_threshold(step, total_steps, warmup_steps, initial=1.0, final=0.5, initial_warmup=1, final_warmup=2):
    """Keep fraction at optimizer step `step` (Sanh et al.'s schedule as EdgeBERT's masked_run_highway_glue.py
    uses it): initial for step <= initial_warmup*W, final for step > N - final_warmup*W, cubic in between."""
    a = initial_warmup * warmup_steps
    b = total_steps - final_warmup * warmup_steps
    if step <= a:
        return initial
    if step > b:
        return final
    frac = 1.0 - (step - a) / max(1, b - a)
    return final + (initial - final) * frac ** 3


def magnitude_mask(weight, keep):
    return topk_mask(weight.detach().abs(), keep)


def sparsity(mask):
    return 1.0 - float(mask.sum()) / mask.numel()
