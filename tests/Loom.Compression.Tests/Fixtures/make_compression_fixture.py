#!/usr/bin/python3
"""Reference outputs for Loom.Compression's pruners and SVD (run with Debian's /usr/bin/python3: torch, numpy).

    /usr/bin/python3 tests/Loom.Compression.Tests/Fixtures/make_compression_fixture.py

writes compression_fixture.json next to this script. It holds a small layer W (16 x 64, float32) and
calibration inputs X (256 tokens x 64, float32, correlated columns of unequal scale), and:
  - magnitude masks (50% unstructured per layer, 2:4, 4:8), as locuslab/wanda lib/prune.py prune_magnitude;
  - Wanda masks (|W| * ||X_j||_2 per output row; 2:4, 4:8), as prune_wanda;
  - SparseGPT's pruned W (50% with block 32, 2:4, 4:8; dampening 1%), a float64 port of
    IST-DASLab/sparsegpt sparsegpt.py SparseGPT.fasterprune;
  - numpy.linalg.svd of a 24 x 40 matrix: singular values and the rank-5 reconstruction.
One deliberate difference from both references, shared with Loom: an unstructured mask takes exactly
k = int(numel * sparsity) weights (torch.topk), where the references' `metric <= sorted[k]` takes k + 1.
"""
import json
import os

import numpy as np
import torch

torch.manual_seed(0)
rng = np.random.default_rng(1234)
ROWS, COLS, TOKENS = 16, 64, 256

Z = rng.standard_normal((TOKENS, COLS))
mix = rng.standard_normal((COLS, COLS)) * 0.35 + np.eye(COLS)
scale = np.exp(rng.uniform(-1.5, 1.5, COLS))
X = ((Z @ mix) * scale).astype(np.float32)
W = (rng.standard_normal((ROWS, COLS)) * 0.2).astype(np.float32)


def nm_mask(metric, n, m):
    mask = torch.zeros_like(metric, dtype=torch.bool)
    for ii in range(metric.shape[1]):
        if ii % m == 0:
            tmp = metric[:, ii:(ii + m)]
            mask.scatter_(1, ii + torch.topk(tmp, n, dim=1, largest=False)[1], True)
    return mask


def magnitude(w, sparsity=0.5, n=0, m=0):
    metric = torch.abs(w)
    if n:
        return nm_mask(metric, n, m)
    k = int(w.numel() * sparsity)
    mask = torch.zeros(w.numel(), dtype=torch.bool)
    mask[torch.topk(metric.flatten(), k, largest=False)[1]] = True
    return mask.reshape(w.shape)


def wanda(w, x, sparsity=0.5, n=0, m=0):
    norms = torch.sum(x.double() ** 2, dim=0)  # sum over tokens of X_j^2
    metric = torch.abs(w.double()) * torch.sqrt(norms).reshape(1, -1)
    if n:
        return nm_mask(metric, n, m)
    mask = torch.zeros_like(metric, dtype=torch.bool)
    idx = torch.sort(metric, dim=-1, stable=True)[1][:, :int(metric.shape[1] * sparsity)]
    mask.scatter_(1, idx, True)
    return mask


def sparsegpt(w, x, sparsity=0.5, prunen=0, prunem=0, blocksize=128, percdamp=.01):
    W = w.double().clone()
    columns = W.shape[1]
    xd = x.double()
    H = 2.0 / xd.shape[0] * xd.t() @ xd
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    damp = percdamp * torch.mean(torch.diag(H))
    diag = torch.arange(columns)
    H[diag, diag] += damp
    H = torch.linalg.cholesky(H)
    H = torch.cholesky_inverse(H)
    H = torch.linalg.cholesky(H, upper=True)
    Hinv = H
    for i1 in range(0, columns, blocksize):
        i2 = min(i1 + blocksize, columns)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        if prunen == 0:
            tmp = W1 ** 2 / (torch.diag(Hinv1).reshape((1, -1))) ** 2
            k = int(tmp.numel() * sparsity)
            flat = torch.zeros(tmp.numel(), dtype=torch.bool)
            flat[torch.topk(tmp.flatten(), k, largest=False)[1]] = True
            mask1 = flat.reshape(tmp.shape)
        else:
            mask1 = torch.zeros_like(W1) == 1
        for i in range(count):
            w_ = W1[:, i]
            d = Hinv1[i, i]
            if prunen != 0 and i % prunem == 0:
                tmp = W1[:, i:(i + prunem)] ** 2 / (torch.diag(Hinv1)[i:(i + prunem)].reshape((1, -1))) ** 2
                mask1.scatter_(1, i + torch.topk(tmp, prunen, dim=1, largest=False)[1], True)
            q = w_.clone()
            q[mask1[:, i]] = 0
            Q1[:, i] = q
            err1 = (w_ - q) / d
            W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
            Err1[:, i] = err1
        W[:, i1:i2] = Q1
        W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
    return W


w = torch.from_numpy(W)
x = torch.from_numpy(X)
out = {
    "rows": ROWS, "cols": COLS, "tokens": TOKENS,
    "W": [float(v) for v in W.flatten()],
    "X": [float(v) for v in X.flatten()],
}
for name, kw in [("50", dict(sparsity=0.5)), ("2_4", dict(n=2, m=4)), ("4_8", dict(n=4, m=8))]:
    out[f"magnitude_{name}"] = [int(b) for b in magnitude(w, **kw).flatten()]
    out[f"wanda_{name}"] = [int(b) for b in wanda(w, x, **kw).flatten()]
for name, kw in [("50", dict(sparsity=0.5, blocksize=32)), ("2_4", dict(prunen=2, prunem=4, blocksize=32)), ("4_8", dict(prunen=4, prunem=8, blocksize=32))]:
    out[f"sparsegpt_{name}"] = [float(v) for v in sparsegpt(w, x, **kw).flatten()]

A = rng.standard_normal((24, 40)) @ np.diag(np.exp(-np.arange(40) / 6.0))
A = A.astype(np.float32)
U, S, Vt = np.linalg.svd(A.astype(np.float64), full_matrices=False)
out["svd_rows"], out["svd_cols"] = 24, 40
out["svd_A"] = [float(v) for v in A.flatten()]
out["svd_S"] = [float(v) for v in S]
out["svd_rank5"] = [float(v) for v in ((U[:, :5] * S[:5]) @ Vt[:5]).flatten()]

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compression_fixture.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
