#!/usr/bin/python3
# Makes perplexity/: two tiny causal models with committed random weights (a GPT-2 and a Llama with
# GQA, written directly in PyTorch with Hugging Face's tensor names, as tests/Loom.Models.Tests/
# Fixtures/make_{gpt2,llama}_fixture.py), each as a model directory (config.json + model.safetensors),
# a token sequence, and the sliding-window perplexity of that sequence computed with the loop Hugging
# Face documents (https://huggingface.co/docs/transformers/perplexity):
#
#   for begin_loc in range(0, seq_len, stride):
#       end_loc = min(begin_loc + max_length, seq_len); trg_len = end_loc - prev_end_loc
#       input_ids = ids[begin_loc:end_loc]; target_ids = input_ids.clone(); target_ids[:-trg_len] = -100
#       loss = model(input_ids, labels=target_ids).loss     # labels shifted left by one inside the model
#       prev_end_loc = end_loc; break when end_loc == seq_len
#
# in float64, summing each window's token NLLs (cross_entropy reduction="sum"), for several
# (context, stride) pairs, stride < context and stride = context. Written to perplexity/expected.json.
#
# Run with Debian's python3 and python3-torch:
#   /usr/bin/python3 tests/Loom.Evaluation.Tests/Fixtures/make_perplexity_fixture.py
import json, math, os, struct
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "perplexity")


def save_safetensors(tensors, path):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def gpt2():
    torch.manual_seed(16)
    V, NPOS, C, NH, L, EPS = 97, 16, 32, 4, 2, 1e-5
    r = lambda *s, std=0.3: torch.randn(*s) * std
    w = {"wte.weight": r(V, C, std=0.5), "wpe.weight": r(NPOS, C, std=0.2)}
    for i in range(L):
        w[f"h.{i}.ln_1.weight"] = 1 + 0.1 * torch.randn(C); w[f"h.{i}.ln_1.bias"] = r(C, std=0.05)
        w[f"h.{i}.attn.c_attn.weight"] = r(C, 3 * C); w[f"h.{i}.attn.c_attn.bias"] = r(3 * C, std=0.05)
        w[f"h.{i}.attn.c_proj.weight"] = r(C, C); w[f"h.{i}.attn.c_proj.bias"] = r(C, std=0.05)
        w[f"h.{i}.ln_2.weight"] = 1 + 0.1 * torch.randn(C); w[f"h.{i}.ln_2.bias"] = r(C, std=0.05)
        w[f"h.{i}.mlp.c_fc.weight"] = r(C, 4 * C); w[f"h.{i}.mlp.c_fc.bias"] = r(4 * C, std=0.05)
        w[f"h.{i}.mlp.c_proj.weight"] = r(4 * C, C, std=0.15); w[f"h.{i}.mlp.c_proj.bias"] = r(C, std=0.05)
    w["ln_f.weight"] = 1 + 0.1 * torch.randn(C); w["ln_f.bias"] = r(C, std=0.05)
    d = {k: v.double() for k, v in w.items()}

    def forward(ids):                       # ids (T,) → logits (T, V), GPT-2's Conv1D layout y = x @ W + b
        T = ids.shape[0]
        x = d["wte.weight"][ids] + d["wpe.weight"][:T]
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for i in range(L):
            h = F.layer_norm(x, (C,), d[f"h.{i}.ln_1.weight"], d[f"h.{i}.ln_1.bias"], EPS)
            q, k, v = (h @ d[f"h.{i}.attn.c_attn.weight"] + d[f"h.{i}.attn.c_attn.bias"]).split(C, dim=1)
            q, k, v = [t.view(T, NH, C // NH).transpose(0, 1) for t in (q, k, v)]
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(C // NH)).masked_fill(~mask, float("-inf")).softmax(-1)
            y = (att @ v).transpose(0, 1).reshape(T, C)
            x = x + y @ d[f"h.{i}.attn.c_proj.weight"] + d[f"h.{i}.attn.c_proj.bias"]
            h = F.layer_norm(x, (C,), d[f"h.{i}.ln_2.weight"], d[f"h.{i}.ln_2.bias"], EPS)
            h = F.gelu(h @ d[f"h.{i}.mlp.c_fc.weight"] + d[f"h.{i}.mlp.c_fc.bias"], approximate="tanh")
            x = x + h @ d[f"h.{i}.mlp.c_proj.weight"] + d[f"h.{i}.mlp.c_proj.bias"]
        x = F.layer_norm(x, (C,), d["ln_f.weight"], d["ln_f.bias"], EPS)
        return x @ d["wte.weight"].T

    config = {"model_type": "gpt2", "vocab_size": V, "n_positions": NPOS, "n_embd": C, "n_head": NH, "n_layer": L,
              "layer_norm_epsilon": EPS}
    return "gpt2", w, config, forward, V, NPOS


def llama():
    torch.manual_seed(61)
    V, C, NH, NKV, L, I, MAXPOS, EPS, THETA = 97, 32, 4, 2, 2, 64, 16, 1e-6, 10000.0
    HD = C // NH
    r = lambda *s, std=0.2: torch.randn(*s) * std
    w = {"model.embed_tokens.weight": r(V, C, std=0.5)}
    for i in range(L):
        pre = f"model.layers.{i}."
        w[pre + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(C)
        w[pre + "self_attn.q_proj.weight"] = r(NH * HD, C); w[pre + "self_attn.k_proj.weight"] = r(NKV * HD, C)
        w[pre + "self_attn.v_proj.weight"] = r(NKV * HD, C); w[pre + "self_attn.o_proj.weight"] = r(C, NH * HD)
        w[pre + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(C)
        w[pre + "mlp.gate_proj.weight"] = r(I, C); w[pre + "mlp.up_proj.weight"] = r(I, C); w[pre + "mlp.down_proj.weight"] = r(C, I)
    w["model.norm.weight"] = 1 + 0.1 * torch.randn(C)
    w["lm_head.weight"] = r(V, C)
    d = {k: v.double() for k, v in w.items()}
    rms = lambda x, g: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * g
    inv_freq = 1.0 / (THETA ** (torch.arange(0, HD, 2).double() / HD))
    rot = lambda x: torch.cat((-x[..., HD // 2:], x[..., : HD // 2]), dim=-1)

    def forward(ids):                       # positions restart at 0 in every window, as HF's model(input_ids)
        T = ids.shape[0]
        emb = torch.outer(torch.arange(T).double(), inv_freq)
        emb = torch.cat((emb, emb), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        x = d["model.embed_tokens.weight"][ids]
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for i in range(L):
            pre = f"model.layers.{i}."
            h = rms(x, d[pre + "input_layernorm.weight"])
            q = (h @ d[pre + "self_attn.q_proj.weight"].T).view(T, NH, HD).transpose(0, 1)
            k = (h @ d[pre + "self_attn.k_proj.weight"].T).view(T, NKV, HD).transpose(0, 1)
            v = (h @ d[pre + "self_attn.v_proj.weight"].T).view(T, NKV, HD).transpose(0, 1)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            k, v = k.repeat_interleave(NH // NKV, dim=0), v.repeat_interleave(NH // NKV, dim=0)
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).masked_fill(~mask, float("-inf")).softmax(-1)
            x = x + (att @ v).transpose(0, 1).reshape(T, C) @ d[pre + "self_attn.o_proj.weight"].T
            h = rms(x, d[pre + "post_attention_layernorm.weight"])
            x = x + (F.silu(h @ d[pre + "mlp.gate_proj.weight"].T) * (h @ d[pre + "mlp.up_proj.weight"].T)) @ d[pre + "mlp.down_proj.weight"].T
        return rms(x, d["model.norm.weight"]) @ d["lm_head.weight"].T

    config = {"model_type": "llama", "vocab_size": V, "hidden_size": C, "intermediate_size": I, "num_hidden_layers": L,
              "num_attention_heads": NH, "num_key_value_heads": NKV, "max_position_embeddings": MAXPOS, "rms_norm_eps": EPS,
              "rope_theta": THETA, "tie_word_embeddings": False}
    return "llama", w, config, forward, V, MAXPOS


def sliding_window(forward, ids, max_length, stride):
    seq_len, prev_end, nll_sum, n_tokens, windows = ids.shape[0], 0, 0.0, 0, 0
    for begin in range(0, seq_len, stride):
        end = min(begin + max_length, seq_len)
        trg_len = end - prev_end
        input_ids = ids[begin:end]
        target_ids = input_ids.clone()
        target_ids[:-trg_len] = -100
        logits = forward(input_ids)
        # the model's internal shift: logits[:-1] predict labels[1:]
        labels = target_ids[1:]
        nll_sum += F.cross_entropy(logits[:-1], labels, ignore_index=-100, reduction="sum").item()
        n_tokens += int((labels != -100).sum())
        windows += 1
        prev_end = end
        if end == seq_len:
            break
    return nll_sum, n_tokens, windows


os.makedirs(OUT, exist_ok=True)
expected = {"torch": torch.__version__, "models": {}}
for name, w, config, forward, V, ctx in (gpt2(), llama()):
    os.makedirs(os.path.join(OUT, name), exist_ok=True)
    save_safetensors(w, os.path.join(OUT, name, "model.safetensors"))
    with open(os.path.join(OUT, name, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    g = torch.Generator().manual_seed(7 if name == "gpt2" else 8)
    ids = torch.randint(0, V, (45,), generator=g)
    cases = []
    for context, stride in ((ctx, ctx), (ctx, 5), (ctx, 1), (8, 3), (8, 8), (ctx, 15)):
        total, n, windows = sliding_window(forward, ids, context, stride)
        cases.append({"context": context, "stride": stride, "total_nll": total, "tokens": n, "windows": windows,
                      "nll": total / n, "perplexity": math.exp(total / n)})
    expected["models"][name] = {"ids": ids.tolist(), "cases": cases}
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print(json.dumps({k: [(c["context"], c["stride"], c["tokens"], round(c["perplexity"], 4)) for c in v["cases"]] for k, v in expected["models"].items()}))
