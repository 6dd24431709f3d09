#!/usr/bin/python3
# The PyTorch side of the `eval` bench suite: Hugging Face's sliding-window perplexity loop
# (https://huggingface.co/docs/transformers/perplexity) over a GPT-2 whose weights Loom wrote
# (model.safetensors in HF's GPT-2 layout, read here without the safetensors package), on the token ids
# Loom wrote (int32 little-endian), with the same context, stride and thread count, under
# torch.inference_mode. The forward is HF's GPT2LMHeadModel (eager attention, tanh GELU, tied head);
# the loss is cross_entropy over the labels not set to -100, shifted by one as the model shifts them.
# Prints one JSON object: seconds (wall or process CPU ÷ threads), total_nll, tokens, windows.
#
#   /usr/bin/python3 eval_perplexity_anchor.py MODEL_DIR IDS.bin CONTEXT STRIDE THREADS wall|cpu
import json, math, os, struct, sys, time
import torch
import torch.nn.functional as F

model_dir, ids_path, context, stride, threads, clock = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
torch.set_num_threads(threads)
cfg = json.load(open(os.path.join(model_dir, "config.json")))
C, NH, L, EPS = cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg.get("layer_norm_epsilon", 1e-5)

with open(os.path.join(model_dir, "model.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
header.pop("__metadata__", None)
w = {}
for name, e in header.items():
    assert e["dtype"] == "F32", e["dtype"]
    b, end = e["data_offsets"]
    key = name[len("transformer."):] if name.startswith("transformer.") else name
    w[key] = torch.frombuffer(bytearray(data[b:end]), dtype=torch.float32).reshape(e["shape"])
del data

ids = torch.frombuffer(bytearray(open(ids_path, "rb").read()), dtype=torch.int32).long()


def forward(x_ids):                        # (1, T) → logits (T, V)
    T = x_ids.shape[1]
    x = w["wte.weight"][x_ids[0]] + w["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = f"h.{i}."
        h = F.layer_norm(x, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], EPS)
        q, k, v = torch.addmm(w[p + "attn.c_attn.bias"], h, w[p + "attn.c_attn.weight"]).split(C, dim=1)
        q, k, v = [t.view(T, NH, C // NH).transpose(0, 1) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // NH)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, C)
        x = x + torch.addmm(w[p + "attn.c_proj.bias"], y, w[p + "attn.c_proj.weight"])
        h = F.layer_norm(x, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], EPS)
        h = F.gelu(torch.addmm(w[p + "mlp.c_fc.bias"], h, w[p + "mlp.c_fc.weight"]), approximate="tanh")
        x = x + torch.addmm(w[p + "mlp.c_proj.bias"], h, w[p + "mlp.c_proj.weight"])
    x = F.layer_norm(x, (C,), w["ln_f.weight"], w["ln_f.bias"], EPS)
    return x @ w["wte.weight"].T


now = (lambda: time.process_time() / threads) if clock == "cpu" else time.perf_counter
with torch.inference_mode():
    forward(ids[None, :16])                # warm-up
    seq_len, prev_end, nll_sum, n_tokens, windows = ids.shape[0], 0, 0.0, 0, 0
    start = now()
    for begin in range(0, seq_len, stride):
        end = min(begin + context, seq_len)
        trg_len = end - prev_end
        input_ids = ids[None, begin:end]
        target_ids = input_ids.clone()
        target_ids[:, :-trg_len] = -100
        logits = forward(input_ids)
        labels = target_ids[0, 1:]
        loss = F.cross_entropy(logits[:-1], labels, ignore_index=-100)   # mean, as model(..., labels=...).loss
        valid = int((labels != -100).sum())
        nll_sum += loss.item() * valid
        n_tokens += valid
        windows += 1
        prev_end = end
        if end == seq_len:
            break
    seconds = now() - start
print(json.dumps({"seconds": seconds, "total_nll": nll_sum, "tokens": n_tokens, "windows": windows, "torch": torch.__version__}))
