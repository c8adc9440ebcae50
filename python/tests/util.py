# SPDX-License-Identifier: Apache-2.0
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(PYTHON_DIR)
PARITY_DIR = os.path.join(REPO, "tests", "parity")
for p in (PYTHON_DIR, PARITY_DIR):
    if p not in sys.path:
        sys.path.insert(0, p)

import torch  # noqa: E402

torch.set_num_threads(1)


def small_config(**kw):
    from edgebert_tools import albert
    base = dict(vocab_size=57, embedding_size=12, hidden_size=24, num_attention_heads=3, intermediate_size=40,
                num_hidden_layers=4, max_position_embeddings=32)
    base.update(kw)
    return albert.default_config(**base)


def randomize(module, seed, scale=0.3):
    """Non-trivial weights everywhere (LayerNorm gains near 1) so every term of the forward pass matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in module.named_parameters():
            if ("LayerNorm" in n or "layer_norm" in n or n.startswith("ln.")) and (n.endswith("weight") or n.endswith("_w")):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif n.endswith("span.value") or n == "value":
                p.copy_(torch.rand(p.shape, generator=g))
            else:
                p.copy_(scale * torch.randn(p.shape, generator=g))
