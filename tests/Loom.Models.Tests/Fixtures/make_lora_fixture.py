#!/usr/bin/python3
# Makes the LoRA fixtures: PEFT-layout adapters for the tiny GPT-2 and Llama of gpt2_tiny.safetensors
# and llama_tiny.safetensors, and the logits and adapter gradients PyTorch computes with them.
# `peft` is not in Debian, so PEFT's layout and math are written here directly:
#  - peft/tuners/lora/layer.py, Linear.forward: result = base_layer(x) + lora_B(lora_A(dropout(x))) * scaling,
#    scaling = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora (update_layer); lora_A is
#    nn.Linear(in, r) (weight (r, in)), lora_B nn.Linear(r, out) (weight (out, r)), both bias-free, the
#    same around GPT-2's Conv1D (fan_in_fan_out only transposes the merged delta).
#  - peft/utils/save_and_load.py, get_peft_model_state_dict: tensors named
#    "base_model.model.<module path of the *ForCausalLM>.lora_A.weight" (".default" stripped); with
#    bias="lora_only" the adapted layers' biases are saved as "<module path>.bias".
#    GPT2LMHeadModel's modules live under "transformer.", LlamaForCausalLM's under "model.".
# Written: Fixtures/lora/{gpt2,llama}/adapter_config.json + adapter_model.safetensors, and
# Fixtures/lora/{gpt2,llama}_expected.safetensors (ids, targets, logits, loss, gradients of every
# lora_A/lora_B under their PEFT names prefixed "g.").
#
# Run with Debian's python3 and python3-torch:
#   /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/make_lora_fixture.py
import json, math, os, sys
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from fixture_io import load_safetensors, save_safetensors  # noqa: E402

torch.manual_seed(2024)


def make_adapter(modules, r, alpha, rslora, peft_prefix):
    """Random non-zero A and B for each (module path, in, out); returns {path: (A, B)} as leaf tensors."""
    adapters = {}
    for path, fin, fout in modules:
        a = (torch.rand(r, fin) * 2 - 1) / math.sqrt(fin)      # kaiming_uniform_(a=sqrt(5)) bound
        b = torch.randn(fout, r) * 0.1                          # non-zero, as after training
        adapters[path] = (a.requires_grad_(), b.requires_grad_())
    scaling = alpha / math.sqrt(r) if rslora else alpha / r
    return adapters, scaling


def lora_delta(adapters, scaling, path, x):
    if path not in adapters:
        return 0
    a, b = adapters[path]
    return (x @ a.T) @ b.T * scaling                            # lora_B(lora_A(x)) * scaling (dropout is the identity in eval)


def write(name, config, adapters, extra, expected, peft_path):
    d = os.path.join(here, "lora", name)
    os.makedirs(d, exist_ok=True)
    tensors = {}
    for path, (a, b) in adapters.items():
        tensors[f"base_model.model.{peft_path(path)}.lora_A.weight"] = a.detach().clone()
        tensors[f"base_model.model.{peft_path(path)}.lora_B.weight"] = b.detach().clone()
    tensors.update(extra)
    save_safetensors(tensors, os.path.join(d, "adapter_model.safetensors"), {"format": "pt"})
    with open(os.path.join(d, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    save_safetensors(expected, os.path.join(here, "lora", name + "_expected.safetensors"), {"torch": torch.__version__})


# ---- GPT-2: c_attn and c_fc, r 4, alpha 8, bias lora_only (c_attn/c_fc biases changed and saved) ----
w, meta = load_safetensors(os.path.join(here, "gpt2_tiny.safetensors"))
cfg = json.loads(meta["config"])
B, T = int(meta["batch"]), int(meta["time"])
V, C, NH, L, EPS = cfg["vocab_size"], cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg["layer_norm_epsilon"]
P = {k[2:]: v for k, v in w.items() if k.startswith("w.")}
mods = []
for i in range(L):
    mods += [(f"h.{i}.attn.c_attn", C, 3 * C), (f"h.{i}.mlp.c_fc", C, 4 * C)]
adapters, s = make_adapter(mods, r=4, alpha=8, rslora=False, peft_prefix="transformer.")
extra = {}
for path, _, fout in mods:                                      # bias="lora_only": the adapted layers' biases train
    P[path + ".bias"] = P[path + ".bias"] + 0.05 * torch.randn(fout)
    extra[f"base_model.model.transformer.{path}.bias"] = P[path + ".bias"].clone()
ids, targets = w["ids"].long(), w["targets"].long()


def conv(path, h):
    return h @ P[path + ".weight"] + P[path + ".bias"] + lora_delta(adapters, s, path, h)


def gpt2_forward(ids):
    x = P["wte.weight"][ids] + P["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        h = F.layer_norm(x, (C,), P[f"h.{i}.ln_1.weight"], P[f"h.{i}.ln_1.bias"], EPS)
        q, k, v = conv(f"h.{i}.attn.c_attn", h).split(C, dim=2)
        q, k, v = [t.view(B, T, NH, C // NH).transpose(1, 2) for t in (q, k, v)]
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(C // NH)).masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + conv(f"h.{i}.attn.c_proj", y)
        h = F.layer_norm(x, (C,), P[f"h.{i}.ln_2.weight"], P[f"h.{i}.ln_2.bias"], EPS)
        x = x + conv(f"h.{i}.mlp.c_proj", F.gelu(conv(f"h.{i}.mlp.c_fc", h), approximate="tanh"))
    x = F.layer_norm(x, (C,), P["ln_f.weight"], P["ln_f.bias"], EPS)
    return x @ P["wte.weight"].T


logits = gpt2_forward(ids)
loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100)
loss.backward()
expected = {"ids": ids.to(torch.int32), "targets": targets.to(torch.int32), "logits": logits.detach(), "loss": loss.detach().reshape(1)}
for path, (a, b) in adapters.items():
    expected[f"g.base_model.model.transformer.{path}.lora_A.weight"] = a.grad.clone()
    expected[f"g.base_model.model.transformer.{path}.lora_B.weight"] = b.grad.clone()
write("gpt2", {
    "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "tiny-gpt2", "r": 4, "lora_alpha": 8,
    "lora_dropout": 0.1, "target_modules": ["c_attn", "c_fc"], "fan_in_fan_out": True, "bias": "lora_only",
    "use_rslora": False, "modules_to_save": None, "init_lora_weights": True, "inference_mode": True,
    "layers_to_transform": None, "layers_pattern": None, "rank_pattern": {}, "alpha_pattern": {},
    "megatron_config": None, "loftq_config": {}, "use_dora": False, "revision": None,
    "some_future_peft_field": {"tolerated": True},
}, adapters, extra, expected, lambda p: "transformer." + p)
print("gpt2 loss", loss.item())

# ---- Llama: q_proj, v_proj, down_proj, r 2, alpha 4, rsLoRA ----
w, meta = load_safetensors(os.path.join(here, "llama_tiny.safetensors"))
cfg = json.loads(meta["config"])
B, T = int(meta["batch"]), int(meta["time"])
V, C, NH, NKV, L, I = cfg["vocab_size"], cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["num_hidden_layers"], cfg["intermediate_size"]
EPS, THETA, FACTOR = cfg["rms_norm_eps"], cfg["rope_theta"], cfg["rope_scaling"]["factor"]
HD = C // NH
P = {k[2:]: v for k, v in w.items() if k.startswith("w.")}
mods = []
for i in range(L):
    pre = f"model.layers.{i}."
    mods += [(pre + "self_attn.q_proj", C, NH * HD), (pre + "self_attn.v_proj", C, NKV * HD), (pre + "mlp.down_proj", I, C)]
adapters, s = make_adapter(mods, r=2, alpha=4, rslora=True, peft_prefix="")
ids, targets = w["ids"].long(), w["targets"].long()


def lin(path, h):
    return h @ P[path + ".weight"].T + lora_delta(adapters, s, path, h)


def rms(x, wt):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * wt


inv_freq = 1.0 / (THETA ** (torch.arange(0, HD, 2).float() / HD))
emb = torch.cat([torch.outer(torch.arange(T).float() / FACTOR, inv_freq)] * 2, dim=-1)
cos, sin = emb.cos(), emb.sin()


def rope(x):
    x1, x2 = x[..., : HD // 2], x[..., HD // 2:]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def llama_forward(ids):
    x = P["model.embed_tokens.weight"][ids]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        pre = f"model.layers.{i}."
        h = rms(x, P[pre + "input_layernorm.weight"])
        q = lin(pre + "self_attn.q_proj", h).view(B, T, NH, HD).transpose(1, 2)
        k = lin(pre + "self_attn.k_proj", h).view(B, T, NKV, HD).transpose(1, 2)
        v = lin(pre + "self_attn.v_proj", h).view(B, T, NKV, HD).transpose(1, 2)
        q, k = rope(q), rope(k)
        k, v = k.repeat_interleave(NH // NKV, dim=1), v.repeat_interleave(NH // NKV, dim=1)
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + lin(pre + "self_attn.o_proj", (att @ v).transpose(1, 2).reshape(B, T, NH * HD))
        h = rms(x, P[pre + "post_attention_layernorm.weight"])
        x = x + lin(pre + "mlp.down_proj", F.silu(lin(pre + "mlp.gate_proj", h)) * lin(pre + "mlp.up_proj", h))
    return rms(x, P["model.norm.weight"]) @ P["lm_head.weight"].T


logits = llama_forward(ids)
loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100)
loss.backward()
expected = {"ids": ids.to(torch.int32), "targets": targets.to(torch.int32), "logits": logits.detach(), "loss": loss.detach().reshape(1)}
for path, (a, b) in adapters.items():
    expected[f"g.base_model.model.{path}.lora_A.weight"] = a.grad.clone()
    expected[f"g.base_model.model.{path}.lora_B.weight"] = b.grad.clone()
write("llama", {
    "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "tiny-llama", "r": 2, "lora_alpha": 4,
    "lora_dropout": 0.0, "target_modules": ["q_proj", "v_proj", "down_proj"], "fan_in_fan_out": False, "bias": "none",
    "use_rslora": True, "modules_to_save": None, "inference_mode": True,
}, adapters, {}, expected, lambda p: p)
print("llama loss", loss.item())
