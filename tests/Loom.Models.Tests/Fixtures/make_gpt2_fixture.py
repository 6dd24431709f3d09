#!/usr/bin/python3
# Makes gpt2_tiny.safetensors: the reference state Loom's GPT-2 must reproduce (llm.c's test
# approach). A tiny GPT-2 written directly in PyTorch with Hugging Face's tensor names and GPT-2's
# Conv1D layout (weight (in, out), y = x @ W + b), tied LM head, tanh GELU, causal attention,
# cross-entropy with ignore_index=-100. Stored: the initial weights ("w.<name>"), inputs, logits,
# loss, every gradient ("g.<name>"), and the losses of 10 AdamW steps (lr 1e-2, betas (0.9, 0.999),
# eps 1e-8, weight decay 0.1 on the 2-D matmul weights only, global-norm clipping at 1.0).
#
# Run with Debian's python3 and python3-torch (apt-get install python3-torch):
#   /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/make_gpt2_fixture.py
import json, math, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import adamw_step_losses, save_safetensors  # noqa: E402
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float32)
V, NPOS, C, NH, L = 97, 16, 32, 4, 2
B, T = 2, 8
EPS = 1e-5

def p(*shape, std=0.02):
    return torch.nn.Parameter(torch.randn(*shape) * std)

params = {"wte.weight": p(V, C), "wpe.weight": p(NPOS, C, std=0.01)}
for i in range(L):
    params[f"h.{i}.ln_1.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
    params[f"h.{i}.ln_1.bias"] = p(C)
    params[f"h.{i}.attn.c_attn.weight"] = p(C, 3 * C)
    params[f"h.{i}.attn.c_attn.bias"] = p(3 * C)
    params[f"h.{i}.attn.c_proj.weight"] = p(C, C)
    params[f"h.{i}.attn.c_proj.bias"] = p(C)
    params[f"h.{i}.ln_2.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
    params[f"h.{i}.ln_2.bias"] = p(C)
    params[f"h.{i}.mlp.c_fc.weight"] = p(C, 4 * C)
    params[f"h.{i}.mlp.c_fc.bias"] = p(4 * C)
    params[f"h.{i}.mlp.c_proj.weight"] = p(4 * C, C)
    params[f"h.{i}.mlp.c_proj.bias"] = p(C)
params["ln_f.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
params["ln_f.bias"] = p(C)

ids = torch.randint(0, V, (B, T))
targets = torch.randint(0, V, (B, T))
targets[0, 3] = -100
targets[1, 7] = -100

def forward(ids):
    x = params["wte.weight"][ids] + params["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        h = F.layer_norm(x, (C,), params[f"h.{i}.ln_1.weight"], params[f"h.{i}.ln_1.bias"], EPS)
        qkv = h @ params[f"h.{i}.attn.c_attn.weight"] + params[f"h.{i}.attn.c_attn.bias"]
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

out = {f"w.{k}": v.detach().clone() for k, v in params.items()}
logits = forward(ids)
loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100)
loss.backward()
out.update({f"g.{k}": v.grad.detach().clone() for k, v in params.items()})
out["ids"] = ids.to(torch.int32)
out["targets"] = targets.to(torch.int32)
out["logits"] = logits.detach()
out["loss"] = loss.detach().reshape(1)

out["step_losses"] = adamw_step_losses(params, forward, ids, targets, V, lambda k, v: v.dim() == 2 and not k.startswith(("wte", "wpe")))
losses = out["step_losses"].tolist()

config = {"vocab_size": V, "n_positions": NPOS, "n_embd": C, "n_head": NH, "n_layer": L, "layer_norm_epsilon": EPS}
here = os.path.dirname(os.path.abspath(__file__))
save_safetensors(out, os.path.join(here, "gpt2_tiny.safetensors"),
                 {"config": json.dumps(config), "batch": str(B), "time": str(T), "torch": torch.__version__})
print("loss", loss.item(), "step losses", losses)
