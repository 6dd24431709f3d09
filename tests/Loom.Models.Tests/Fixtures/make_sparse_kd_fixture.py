#!/usr/bin/python3
# Makes sparse_kd.safetensors: distillation against a cached sparse teacher (top-k + tail bucket), its loss
# and gradient with respect to the student's logits by PyTorch autograd — the reference of
# SparseDistillationLoss and SparseDistillationLoss.TopK.
#  - The teacher's cache per position: the k most likely ids S (torch.topk of the teacher logits) and
#    log p_i = log_softmax(t / T)[S]; the tail mass r = 1 - sum(p_S) is the rest of the vocabulary as one class.
#  - The student, coarsened the same way: log q_i = log_softmax(s / T)[S], log q_r = logsumexp of
#    log_softmax(s / T) over the ids outside S.
#  - KL_S = sum_S p (log p - log q) + r (log r - log q_r); loss = alpha * T^2 * KL_S + (1 - alpha) * CE(s, y),
#    both averaged over the positions whose target != -100 (as the full distillation loss, make_loss_fixtures.py).
#  - A second case with k = V checks that the coarsened KL is then the full KL (r = 0).
# Run: /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/make_sparse_kd_fixture.py
import os, sys
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from fixture_io import save_safetensors  # noqa: E402

torch.manual_seed(1414)
N, V, K, ALPHA, TEMP = 7, 29, 5, 0.6, 2.0
out = {}


def case(name, k):
    student = (torch.randn(N, V, dtype=torch.float64) * 3).requires_grad_()
    teacher = torch.randn(N, V, dtype=torch.float64) * 3
    targets = torch.randint(0, V, (N,))
    targets[3] = -100
    logp_all = F.log_softmax(teacher / TEMP, -1)
    top = torch.topk(teacher, k, dim=-1)
    ids = top.indices
    logp = logp_all.gather(1, ids)
    tail = (1 - logp.exp().sum(-1)).clamp(min=0)
    logq_all = F.log_softmax(student / TEMP, -1)
    logq = logq_all.gather(1, ids)
    outside = torch.ones(N, V, dtype=torch.bool).scatter(1, ids, False)
    tail = torch.where(outside.any(-1), tail, torch.zeros_like(tail))   # k = V: no tail class
    logq_tail = torch.logsumexp(logq_all.masked_fill(~outside, float("-inf")), -1)
    kl_top = (logp.exp() * (logp - logq)).sum(-1)
    kl_tail = torch.where(tail > 0, tail * (tail.clamp(min=1e-300).log() - logq_tail.clamp(min=-1e300)), torch.zeros_like(tail))
    kl = kl_top + kl_tail
    m = targets != -100
    ce = F.cross_entropy(student, targets, ignore_index=-100)
    loss = ALPHA * TEMP * TEMP * kl[m].mean() + (1 - ALPHA) * ce
    loss.backward()
    out.update({
        f"{name}.student": student.detach().float(), f"{name}.teacher": teacher.float(), f"{name}.targets": targets.to(torch.int32),
        f"{name}.ids": ids.to(torch.int32), f"{name}.logp": logp.float(),
        f"{name}.loss": loss.detach().float().reshape(1), f"{name}.grad": student.grad.float(),
    })
    if k == V:
        full = F.kl_div(logq_all[m], logp_all[m].exp(), reduction="sum") / m.sum()
        out[f"{name}.full_kl"] = full.detach().float().reshape(1)
        out[f"{name}.sparse_kl"] = kl[m].mean().detach().float().reshape(1)
    print(name, loss.item())


case("topk", K)
case("all", V)
save_safetensors(out, os.path.join(here, "sparse_kd.safetensors"), {"torch": torch.__version__, "alpha": str(ALPHA), "temperature": str(TEMP), "k": str(K), "vocab": str(V)})
