#!/usr/bin/python3
# Makes objectives.safetensors: DPO and distillation on a tiny GPT-2, end to end through the model,
# computed by PyTorch autograd — the reference DpoObjective and DistillationObjective must reproduce
# (loss, TRL's statistics, and the gradient of every trainable tensor).
#  - The model: a 2-layer GPT-2 written in PyTorch with HF's names and Conv1D layout, tied head, tanh
#    GELU (as make_gpt2_fixture.py in tests/Loom.Models.Tests/Fixtures).
#  - DPO (Rafailov et al. 2023, eq. 7; TRL's DPOTrainer): rows 0..N-1 chosen, N..2N-1 rejected (one
#    concatenated forward), labels aligned with the logits, -100 on the prompt and padding; sequence
#    log-probs = sum of log_softmax(logits)[label]; loss = -logsigmoid(beta*((pc-rc)-(pr-rr))).mean().
#      dpo_full: policy "w.*" trains in full, reference = a frozen copy with other weights "r.*".
#      dpo_lora: policy = w.* + LoRA on c_attn (A "lora.*.lora_A.weight", B "...lora_B.weight", scale alpha/r),
#                only A and B train; reference = the base w.* with the adapter disabled (PEFT's disable_adapter).
#  - Distillation (Hinton et al. 2015): alpha*T^2*KL(softmax(t/T)||softmax(s/T)) + (1-alpha)*CE(s, y),
#    both averaged over positions whose target != -100; student "w.*", frozen teacher "t.*" (3 layers).
# Run: /usr/bin/python3 tests/Loom.Training.Tests/Fixtures/make_objective_fixtures.py
import json, math, os, sys
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "Loom.Models.Tests", "Fixtures"))
from fixture_io import save_safetensors  # noqa: E402

torch.manual_seed(4242)
V, NPOS, C, NH = 97, 16, 32, 4
EPS = 1e-5
BETA, ALPHA, TEMP, R, LORA_ALPHA = 0.1, 0.6, 2.0, 2, 4.0


def make(L, std=0.02):
    def p(*shape, s=std):
        return torch.nn.Parameter(torch.randn(*shape) * s)
    params = {"wte.weight": p(V, C, s=0.3), "wpe.weight": p(NPOS, C, s=0.05)}
    for i in range(L):
        params[f"h.{i}.ln_1.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
        params[f"h.{i}.ln_1.bias"] = p(C)
        params[f"h.{i}.attn.c_attn.weight"] = p(C, 3 * C, s=0.2)
        params[f"h.{i}.attn.c_attn.bias"] = p(3 * C)
        params[f"h.{i}.attn.c_proj.weight"] = p(C, C, s=0.1)
        params[f"h.{i}.attn.c_proj.bias"] = p(C)
        params[f"h.{i}.ln_2.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
        params[f"h.{i}.ln_2.bias"] = p(C)
        params[f"h.{i}.mlp.c_fc.weight"] = p(C, 4 * C, s=0.1)
        params[f"h.{i}.mlp.c_fc.bias"] = p(4 * C)
        params[f"h.{i}.mlp.c_proj.weight"] = p(4 * C, C, s=0.1)
        params[f"h.{i}.mlp.c_proj.bias"] = p(C)
    params["ln_f.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
    params["ln_f.bias"] = p(C)
    return params


def forward(params, ids, L, lora=None, scale=0.0):
    B, T = ids.shape
    x = params["wte.weight"][ids] + params["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        h = F.layer_norm(x, (C,), params[f"h.{i}.ln_1.weight"], params[f"h.{i}.ln_1.bias"], EPS)
        qkv = h @ params[f"h.{i}.attn.c_attn.weight"] + params[f"h.{i}.attn.c_attn.bias"]
        if lora is not None:   # PEFT: lora_B(lora_A(x)) * scaling, A and B as nn.Linear
            qkv = qkv + scale * (h @ lora[f"h.{i}.attn.c_attn.lora_A.weight"].T) @ lora[f"h.{i}.attn.c_attn.lora_B.weight"].T
        q, k, v = qkv.split(C, dim=2)
        q, k, v = [t.view(B, T, NH, C // NH).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // NH)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + y @ params[f"h.{i}.attn.c_proj.weight"] + params[f"h.{i}.attn.c_proj.bias"]
        h = F.layer_norm(x, (C,), params[f"h.{i}.ln_2.weight"], params[f"h.{i}.ln_2.bias"], EPS)
        h = F.gelu(h @ params[f"h.{i}.mlp.c_fc.weight"] + params[f"h.{i}.mlp.c_fc.bias"], approximate="tanh")
        x = x + h @ params[f"h.{i}.mlp.c_proj.weight"] + params[f"h.{i}.mlp.c_proj.bias"]
    x = F.layer_norm(x, (C,), params["ln_f.weight"], params["ln_f.bias"], EPS)
    return x @ params["wte.weight"].T


def seq_logps(logits, labels):
    lp = logits.log_softmax(-1)
    m = labels != -100
    return (lp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1) * m).sum(-1)


def dpo(policy_logits, ref_logits, labels, n):
    pl, rl = seq_logps(policy_logits, labels), seq_logps(ref_logits, labels)
    pc, pr, rc, rr = pl[:n], pl[n:], rl[:n], rl[n:]
    loss = -F.logsigmoid(BETA * ((pc - rc) - (pr - rr))).mean()
    cr, rj = BETA * (pc - rc).detach(), BETA * (pr - rr).detach()
    stats = torch.stack([cr.mean(), rj.mean(), (cr - rj).mean(), (cr > rj).float().mean()])
    return loss, stats


L = 2
policy = make(L)
reference = {k: (v.detach() + 0.05 * torch.randn_like(v)) for k, v in policy.items()}
out = {f"w.{k}": v.detach().clone() for k, v in policy.items()}
out.update({f"r.{k}": v.clone() for k, v in reference.items()})

# ---- DPO batch: N = 2 pairs, T = 8; prompts of 3 and 2 tokens; the second rejected answer padded ----
N, T = 2, 8
ids = torch.randint(0, V, (2 * N, T))
labels = torch.randint(0, V, (2 * N, T))
for row, prompt in enumerate([3, 2, 3, 2]):
    labels[row, :prompt - 1] = -100            # positions whose next token is still prompt
ids[3, 6:] = 0
labels[3, 5:] = -100                           # right padding
out["dpo.ids"] = ids.to(torch.int32)
out["dpo.labels"] = labels.to(torch.int32)

loss, stats = dpo(forward(policy, ids, L), forward(reference, ids, L).detach(), labels, N)
loss.backward()
out["dpo_full.loss"] = loss.detach().reshape(1)
out["dpo_full.stats"] = stats
out.update({f"dpo_full.g.{k}": v.grad.detach().clone() for k, v in policy.items()})
for v in policy.values():
    v.grad = None

lora = {}
for i in range(L):
    lora[f"h.{i}.attn.c_attn.lora_A.weight"] = torch.nn.Parameter(torch.randn(R, C) * 0.3)
    lora[f"h.{i}.attn.c_attn.lora_B.weight"] = torch.nn.Parameter(torch.randn(3 * C, R) * 0.3)
out.update({f"lora.{k}": v.detach().clone() for k, v in lora.items()})
frozen = {k: v.detach() for k, v in policy.items()}
loss, stats = dpo(forward(frozen, ids, L, lora, LORA_ALPHA / R), forward(frozen, ids, L).detach(), labels, N)
loss.backward()
out["dpo_lora.loss"] = loss.detach().reshape(1)
out["dpo_lora.stats"] = stats
out.update({f"dpo_lora.g.{k}": v.grad.detach().clone() for k, v in lora.items()})

# ---- Distillation: student = w.*, teacher t.* (3 layers), B = 2, T = 8 ----
teacher = {k: v.detach() for k, v in make(3).items()}
out.update({f"t.{k}": v.clone() for k, v in teacher.items()})
dids = torch.randint(0, V, (2, T))
dtargets = torch.randint(0, V, (2, T))
dtargets[0, 2] = -100
dtargets[1, 6:] = -100
out["distill.ids"] = dids.to(torch.int32)
out["distill.targets"] = dtargets.to(torch.int32)
s = forward(policy, dids, L).view(-1, V)
t = forward(teacher, dids, 3).view(-1, V)
y = dtargets.view(-1)
m = y != -100
kl = F.kl_div(F.log_softmax(s[m] / TEMP, -1), F.softmax(t[m] / TEMP, -1), reduction="sum") / m.sum()
ce = F.cross_entropy(s, y, ignore_index=-100)
dloss = ALPHA * TEMP * TEMP * kl + (1 - ALPHA) * ce
dloss.backward()
out["distill.loss"] = dloss.detach().reshape(1)
out["distill.ce"] = ce.detach().reshape(1)
out.update({f"distill.g.{k}": v.grad.detach().clone() for k, v in policy.items()})

cfg = lambda layers: json.dumps({"vocab_size": V, "n_positions": NPOS, "n_embd": C, "n_head": NH, "n_layer": layers, "layer_norm_epsilon": EPS})
save_safetensors(out, os.path.join(here, "objectives.safetensors"),
                 {"config": cfg(L), "teacher_config": cfg(3), "beta": str(BETA), "alpha": str(ALPHA), "temperature": str(TEMP),
                  "r": str(R), "lora_alpha": str(LORA_ALPHA), "torch": torch.__version__})
print("dpo_full", out["dpo_full.loss"].item(), out["dpo_full.stats"].tolist(), "dpo_lora", out["dpo_lora.loss"].item(), "distill", dloss.item())
