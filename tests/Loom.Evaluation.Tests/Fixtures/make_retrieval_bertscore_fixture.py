#!/usr/bin/python3
# Makes retrieval_bertscore.json: (1) scikit-learn's ndcg_score on random relevance/score matrices
# (with ties in the scores, with and without k, a query with no relevant document), recall@k and MRR
# computed by direct loops over the rankings (BEIR / MS MARCO definitions); (2) BERTScore's greedy
# matching, a PyTorch reimplementation of bert_score's greedy_cos_idf (embeddings L2-normalised,
# bmm similarity, max over the other side's tokens — special tokens included —, idf weights normalised
# to sum 1, [CLS]/[SEP] weight 0, F = 2PR/(P+R)) and get_idf_dict (log((M+1)/(df+1))), on random
# embeddings standing for encoder hidden states.
#
#   /usr/bin/python3 tests/Loom.Evaluation.Tests/Fixtures/make_retrieval_bertscore_fixture.py
import json, math, os
from collections import Counter
import numpy as np
import sklearn
import torch
from sklearn.metrics import ndcg_score

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(16)
out = {"sklearn": sklearn.__version__, "torch": torch.__version__, "ndcg": [], "ranking": [], "bertscore": []}

for case in range(6):
    q, d = int(rng.integers(1, 5)), int(rng.integers(2, 9))
    rel = rng.integers(0, 4, size=(q, d)).astype(float)
    if case == 3:
        rel[0] = 0                               # a query with no relevant document scores 0
    scores = np.round(rng.normal(size=(q, d)), 1) if case % 2 else rng.normal(size=(q, d))   # rounding makes ties
    if case == 5:
        scores[:] = 1.0                          # everything tied
    for k in (None, 1, 3):
        out["ndcg"].append({"relevance": rel.tolist(), "scores": scores.tolist(), "k": k, "expected": float(ndcg_score(rel, scores, k=k))})

docs = [f"d{i}" for i in range(12)]
for case in range(5):
    rankings, relevant = [], []
    for _ in range(int(rng.integers(1, 6))):
        rankings.append(list(rng.permutation(docs)[: int(rng.integers(3, 12))]))
        relevant.append(sorted(set(rng.choice(docs, size=int(rng.integers(1, 4)), replace=False))))
    for k in (1, 3, 10):
        recall = np.mean([len(set(r[:k]) & set(rel)) / len(rel) for r, rel in zip(rankings, relevant)])
        mrr = np.mean([next((1.0 / (i + 1) for i, x in enumerate(r[:k]) if x in rel), 0.0) for r, rel in zip(rankings, relevant)])
        out["ranking"].append({"rankings": rankings, "relevant": relevant, "k": k, "recall": float(recall), "mrr": float(mrr)})


def greedy_cos_idf(ref_embedding, ref_idf, hyp_embedding, hyp_idf):
    ref_embedding = ref_embedding / torch.norm(ref_embedding, dim=-1, keepdim=True)
    hyp_embedding = hyp_embedding / torch.norm(hyp_embedding, dim=-1, keepdim=True)
    sim = torch.mm(hyp_embedding, ref_embedding.T)
    word_precision = sim.max(dim=1)[0]
    word_recall = sim.max(dim=0)[0]
    P = (word_precision * (hyp_idf / hyp_idf.sum())).sum()
    R = (word_recall * (ref_idf / ref_idf.sum())).sum()
    F = 2 * P * R / (P + R)
    return P.item(), R.item(), F.item()


CLS, SEP, V, C = 101, 102, 30, 16
refs = [[CLS] + list(rng.integers(0, V, size=int(rng.integers(2, 9)))) + [SEP] for _ in range(4)]
idf_count = Counter()
for ids in refs:
    idf_count.update(set(ids))
M = len(refs)
idf = {i: math.log((M + 1) / (c + 1)) for i, c in idf_count.items()}
idf_of = lambda i: 0.0 if i in (CLS, SEP) else idf.get(i, math.log(M + 1))
for case in range(4):
    ref = refs[case]
    hyp = [CLS] + list(rng.integers(0, V, size=int(rng.integers(2, 9)))) + [SEP]
    he = torch.tensor(rng.normal(size=(len(hyp), C)), dtype=torch.float64)
    re_ = torch.tensor(rng.normal(size=(len(ref), C)), dtype=torch.float64)
    if case == 1:
        he[1] = re_[2] * 3.0                     # a token matching exactly (up to scale)
    he, re_ = he.float().double(), re_.float().double()   # the values as the float32 the test passes
    w_plain = lambda ids: torch.tensor([0.0 if i in (CLS, SEP) else 1.0 for i in ids], dtype=torch.float64)
    w_idf = lambda ids: torch.tensor([idf_of(int(i)) for i in ids], dtype=torch.float64)
    out["bertscore"].append({
        "candidate_ids": [int(i) for i in hyp], "reference_ids": [int(i) for i in ref],
        "candidate": he.flatten().tolist(), "reference": re_.flatten().tolist(), "dim": C,
        "plain": greedy_cos_idf(re_, w_plain(ref), he, w_plain(hyp)),
        "idf": greedy_cos_idf(re_, w_idf(ref), he, w_idf(hyp)),
    })
out["bertscore_references"] = [[int(i) for i in r] for r in refs]
out["bertscore_special"] = [CLS, SEP]
with open(os.path.join(HERE, "retrieval_bertscore.json"), "w") as f:
    json.dump(out, f)
print(len(out["ndcg"]), len(out["ranking"]), len(out["bertscore"]))
