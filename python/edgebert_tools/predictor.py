# SPDX-License-Identifier: Apache-2.0
"""EdgeBERT's exit-predictor table (reference/edgebert.md §4.1): a small MLP maps the layer-1 off-ramp entropy to
the entropies of the later layers (4 hidden Dense(64, ReLU), linear output, MSE, Adam), trained on training-set
entropy traces; evaluated at 0.00, 0.01, ..., 0.99 with negative outputs clamped to 0, one row per key:
[key, predicted entropy of layers 2 .. L_ramps]. Written like the shipped sst2_lookup_table_opt.csv
(numpy.savetxt, %.18e, comma-separated)."""
import numpy as np
import torch
import torch.nn as nn


def fit_table(traces, epochs=30, seed=0, batch=64, lr=1e-3):
    """traces: [N, K] off-ramp entropies of layers 1..K (the columns the table uses). Returns [100, K] array."""
    traces = np.asarray(traces, dtype=np.float32)
    if traces.ndim != 2 or traces.shape[1] < 2:
        raise ValueError("traces must be [sentences, layers>=2]")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    K = traces.shape[1]
    net = nn.Sequential(nn.Linear(1, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                        nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, K - 1))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    x = torch.from_numpy(traces[:, :1])
    y = torch.from_numpy(traces[:, 1:])
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            loss = nn.functional.mse_loss(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    keys = np.round(np.arange(100) * 0.01, 2).astype(np.float64)
    with torch.no_grad():
        pred = net(torch.from_numpy(keys[:, None].astype(np.float32))).numpy().clip(min=0.0)
    return np.concatenate([keys[:, None], pred.astype(np.float64)], axis=1)


def write_csv(path, table):
    np.savetxt(path, table, fmt="%.18e", delimiter=",")


def read_csv(path):
    return np.loadtxt(path, delimiter=",", ndmin=2)


def predicted_exit_layer(table, h1, threshold, predict_layer=1):
    """EdgeBERT's lookup (§4.2): nearest key row (ties to the lower row), first column below T, else the last."""
    row = int(np.argmin(np.abs(table[:, 0] - h1)))
    cols = table[row, 1:]
    below = np.nonzero(cols < threshold)[0]
    k = int(below[0]) if len(below) else len(cols) - 1
    return predict_layer + 1 + k
