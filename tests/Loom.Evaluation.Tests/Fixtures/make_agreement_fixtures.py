#!/usr/bin/python3
# Makes agreement_fixtures.json, the references of the agreement, bootstrap and grouped-split tests:
#   cohen       sklearn.metrics.cohen_kappa_score(a, b, weights=None|"linear"|"quadratic") on random
#               rating vectors (ints 1..5 and string labels)
#   fleiss      Fleiss' kappa from its definition (Fleiss 1971; the formula of statsmodels'
#               fleiss_kappa(method="fleiss"), statsmodels is not in Debian's python here) in numpy,
#               on random items x categories count tables with n raters per item
#   percentile  numpy.percentile(x, q) (method "linear") on random vectors
#   bootstrap   percentile-bootstrap coverage of the mean of Bernoulli(p) samples, simulated with numpy
#               (the fraction of data sets whose 95% interval holds p), and the 95% interval of one
#               fixed 0/1 vector with B = 20000 resamples
#   sgkf        sklearn.model_selection.StratifiedGroupKFold(n_splits, shuffle=False) test folds
# Run: /usr/bin/python3 tests/Loom.Evaluation.Tests/Fixtures/make_agreement_fixtures.py
import json, os
import numpy as np
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import StratifiedGroupKFold

rng = np.random.default_rng(20261202)
out = {"sklearn": __import__("sklearn").__version__, "cohen": [], "fleiss": [], "percentile": [], "sgkf": []}

for case in range(6):
    n = int(rng.integers(10, 60))
    a = rng.integers(1, 6, n)
    # correlated second rater: agree 60% of the time
    b = np.where(rng.random(n) < 0.6, a, rng.integers(1, 6, n))
    row = {"a": a.tolist(), "b": b.tolist()}
    for w in (None, "linear", "quadratic"):
        row[str(w).lower()] = float(cohen_kappa_score(a, b, weights=w))
    out["cohen"].append(row)
labels = np.array(["good", "bad", "ok"])
a = labels[rng.integers(0, 3, 40)]
b = np.where(rng.random(40) < 0.5, a, labels[rng.integers(0, 3, 40)])
out["cohen_strings"] = {"a": a.tolist(), "b": b.tolist(), "none": float(cohen_kappa_score(a, b))}

def fleiss(table):
    table = np.asarray(table, dtype=float)
    N, k = table.shape
    n = table[0].sum()
    p = table.sum(0) / (N * n)
    P = ((table ** 2).sum(1) - n) / (n * (n - 1))
    Pbar, Pe = P.mean(), (p ** 2).sum()
    return (Pbar - Pe) / (1 - Pe)

for case in range(5):
    N, k, n = int(rng.integers(5, 30)), int(rng.integers(2, 6)), int(rng.integers(2, 7))
    # items lean to one category so agreement is above chance
    table = []
    for _ in range(N):
        pr = rng.dirichlet(np.ones(k) * 0.5)
        table.append(np.bincount(rng.choice(k, n, p=pr), minlength=k).tolist())
    out["fleiss"].append({"table": table, "kappa": float(fleiss(table))})
# Fleiss (1971)'s own example: 10 items, 5 categories, 14 raters -> 0.210 (Wikipedia's worked example)
wiki = [[0,0,0,0,14],[0,2,6,4,2],[0,0,3,5,6],[0,3,9,2,0],[2,2,8,1,1],[7,7,0,0,0],[3,2,6,3,0],[2,5,3,2,2],[6,5,2,1,0],[0,2,2,3,7]]
out["fleiss"].append({"table": wiki, "kappa": float(fleiss(wiki))})

for case in range(5):
    x = rng.normal(size=int(rng.integers(1, 40)))
    qs = [0, 2.5, 25, 50, 97.5, 100, 33.3]
    out["percentile"].append({"x": x.tolist(), "q": qs, "p": [float(np.percentile(x, q)) for q in qs]})

# Bootstrap coverage with numpy: n=40 Bernoulli(0.3) samples, 95% percentile interval, B=500, 400 data sets.
p, n, B, sets = 0.3, 40, 500, 400
covered = 0
for _ in range(sets):
    x = (rng.random(n) < p).astype(float)
    means = x[rng.integers(0, n, (B, n))].mean(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    covered += lo <= p <= hi
fixed = (rng.random(60) < 0.4).astype(float)
means = fixed[rng.integers(0, 60, (20000, 60))].mean(1)
lo, hi = np.percentile(means, [2.5, 97.5])
out["bootstrap"] = {"p": p, "n": n, "resamples": B, "sets": sets, "coverage": covered / sets,
                    "fixed": fixed.tolist(), "fixed_lower": float(lo), "fixed_upper": float(hi), "fixed_se": float(means.std(ddof=1))}

for case in range(5):
    n = int(rng.integers(30, 80))
    groups = rng.integers(0, int(rng.integers(6, 15)), n)
    y = rng.integers(0, int(rng.integers(2, 4)), n)
    k = int(rng.integers(2, 5))
    if len(set(groups.tolist())) < k:
        continue
    fold = [-1] * n
    for f, (_, test) in enumerate(StratifiedGroupKFold(n_splits=k).split(np.zeros(n), y, groups)):
        for i in test:
            fold[i] = f
    out["sgkf"].append({"groups": [f"g{g:02d}" for g in groups.tolist()], "y": y.tolist(), "k": k, "fold": fold})

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "agreement_fixtures.json"), "w") as f:
    json.dump(out, f)
print("coverage", out["bootstrap"]["coverage"], "sgkf cases", len(out["sgkf"]), "fleiss wiki", out["fleiss"][-1]["kappa"])
