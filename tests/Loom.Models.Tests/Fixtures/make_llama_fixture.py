#!/usr/bin/python3
# Makes llama_tiny.safetensors: the reference state Loom's Llama must reproduce. A tiny Llama in
# plain PyTorch following Hugging Face's LlamaForCausalLM: RMSNorm, rotary embeddings in the
# rotate_half convention (with linear position interpolation, factor 2), SwiGLU MLP, grouped-query
# attention (4 query heads sharing 2 key/value heads), untied LM head, nn.Linear (out, in) weights,
# HF tensor names. Stored: weights ("w.<name>"), ids, targets, logits, loss, every gradient
# ("g.<name>"), and 10 AdamW step losses (lr 1e-2, weight decay 0.1 on 2-D weights except the
# embedding, global-norm clipping at 1.0).
#   /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/make_llama_fixture.py
import json, math, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import adamw_step_losses, save_safetensors  # noqa: E402
import torch.nn.functional as F

torch.manual_seed(4321)
V, C, NH, NKV, L, I, MAXPOS = 97, 32, 4, 2, 2, 64, 32
HD = C // NH
B, T = 2, 8
EPS, THETA, FACTOR = 1e-6, 10000.0, 2.0

def p(*shape, std=0.05):
    return torch.nn.Parameter(torch.randn(*shape) * std)

params = {"model.embed_tokens.weight": p(V, C, std=0.5)}
for i in range(L):
    pre = f"model.layers.{i}."
    params[pre + "input_layernorm.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
    params[pre + "self_attn.q_proj.weight"] = p(NH * HD, C, std=0.2)
    params[pre + "self_attn.k_proj.weight"] = p(NKV * HD, C, std=0.2)
    params[pre + "self_attn.v_proj.weight"] = p(NKV * HD, C, std=0.2)
    params[pre + "self_attn.o_proj.weight"] = p(C, NH * HD, std=0.2)
    params[pre + "post_attention_layernorm.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
    params[pre + "mlp.gate_proj.weight"] = p(I, C, std=0.2)
    params[pre + "mlp.up_proj.weight"] = p(I, C, std=0.2)
    params[pre + "mlp.down_proj.weight"] = p(C, I, std=0.2)
params["model.norm.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
params["lm_head.weight"] = p(V, C, std=0.2)

ids = torch.randint(0, V, (B, T))
targets = torch.randint(0, V, (B, T))
targets[1, 2] = -100

def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w

inv_freq = 1.0 / (THETA ** (torch.arange(0, HD, 2).float() / HD))
pos = torch.arange(T).float() / FACTOR            # linear position interpolation
freqs = torch.outer(pos, inv_freq)                # (T, HD/2)
emb = torch.cat((freqs, freqs), dim=-1)           # (T, HD)
cos, sin = emb.cos(), emb.sin()

def rotate_half(x):
    x1, x2 = x[..., : HD // 2], x[..., HD // 2:]
    return torch.cat((-x2, x1), dim=-1)

def rope(x):                                      # x (B, H, T, HD)
    return x * cos + rotate_half(x) * sin

def forward(ids):
    x = params["model.embed_tokens.weight"][ids]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        pre = f"model.layers.{i}."
        h = rms(x, params[pre + "input_layernorm.weight"])
        q = (h @ params[pre + "self_attn.q_proj.weight"].T).view(B, T, NH, HD).transpose(1, 2)
        k = (h @ params[pre + "self_attn.k_proj.weight"].T).view(B, T, NKV, HD).transpose(1, 2)
        v = (h @ params[pre + "self_attn.v_proj.weight"].T).view(B, T, NKV, HD).transpose(1, 2)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(NH // NKV, dim=1)
        v = v.repeat_interleave(NH // NKV, dim=1)
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, NH * HD)
        x = x + y @ params[pre + "self_attn.o_proj.weight"].T
        h = rms(x, params[pre + "post_attention_layernorm.weight"])
        m = F.silu(h @ params[pre + "mlp.gate_proj.weight"].T) * (h @ params[pre + "mlp.up_proj.weight"].T)
        x = x + m @ params[pre + "mlp.down_proj.weight"].T
    x = rms(x, params["model.norm.weight"])
    return x @ params["lm_head.weight"].T

out = {f"w.{k}": v.detach().clone() for k, v in params.items()}
logits = forward(ids)
loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100)
loss.backward()
out.update({f"g.{k}": v.grad.detach().clone() for k, v in params.items()})
out["ids"], out["targets"] = ids.to(torch.int32), targets.to(torch.int32)
out["logits"], out["loss"] = logits.detach(), loss.detach().reshape(1)

out["step_losses"] = adamw_step_losses(params, forward, ids, targets, V, lambda k, v: v.dim() == 2 and "embed_tokens" not in k)
losses = out["step_losses"].tolist()

config = {"model_type": "llama", "vocab_size": V, "hidden_size": C, "intermediate_size": I, "num_hidden_layers": L,
          "num_attention_heads": NH, "num_key_value_heads": NKV, "max_position_embeddings": MAXPOS, "rms_norm_eps": EPS,
          "rope_theta": THETA, "rope_scaling": {"type": "linear", "factor": FACTOR}, "tie_word_embeddings": False}
here = os.path.dirname(os.path.abspath(__file__))
save_safetensors(out, os.path.join(here, "llama_tiny.safetensors"), {"config": json.dumps(config), "batch": str(B), "time": str(T)})
print("loss", loss.item(), "step losses", losses)
