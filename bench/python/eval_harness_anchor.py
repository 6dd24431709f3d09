#!/usr/bin/python3
# The PyTorch side of the `eval` bench suite's harness case: lm-evaluation-harness's loglikelihood
# loop (lm_eval/models/huggingface.py _loglikelihood_tokens) over the token ids Loom's EngineTaskModel
# built for each request (written by the suite), on the GPT-2 whose weights Loom wrote. Same batching
# policy as EngineTaskModel: requests sorted longest first, right-padded batches of at most
# TOKENS_PER_BATCH (batch x padded length) tokens; causal attention, so padding after a sequence never
# changes it. Score = sum of log_softmax(logits) at the continuation's tokens; greedy = each is the argmax.
# lm-eval's logits cache (Collator(group_by="contexts", group_fn=context + continuation[:-1])):
# requests with the same input ids (e.g. the single-token choices of one question) run one forward
# row and are all scored from it. As lm-eval, the head and log_softmax run on every position.
# Prints one JSON object: seconds (wall or process CPU / threads), loglikelihoods (request order), torch.
#
#   /usr/bin/python3 eval_harness_anchor.py MODEL_DIR REQUESTS.bin TOKENS_PER_BATCH THREADS wall|cpu
# REQUESTS.bin: int32 LE: n, then per request: input_len, cont_len, input ids, continuation ids.
import json, math, os, struct, sys, time
import torch
import torch.nn.functional as F

model_dir, req_path, per_batch, threads, clock = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
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

raw = torch.frombuffer(bytearray(open(req_path, "rb").read()), dtype=torch.int32).tolist()
count, at, requests = raw[0], 1, []
for _ in range(count):
    ni, nc = raw[at], raw[at + 1]
    at += 2
    requests.append((raw[at:at + ni], raw[at + ni:at + ni + nc]))
    at += ni + nc


def forward(x_ids):                        # (B, T) → logits (B, T, V)
    B, T = x_ids.shape
    x = w["wte.weight"][x_ids] + w["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = f"h.{i}."
        h = F.layer_norm(x, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], EPS)
        q, k, v = (h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]).split(C, dim=2)
        q, k, v = [t.view(B, T, NH, C // NH).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // NH)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + (y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"])
        h = F.layer_norm(x, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], EPS)
        h = F.gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], approximate="tanh")
        x = x + (h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"])
    x = F.layer_norm(x, (C,), w["ln_f.weight"], w["ln_f.bias"], EPS)
    return x @ w["wte.weight"].T


now = (lambda: time.process_time() / threads) if clock == "cpu" else time.perf_counter
groups = {}                                # input ids → the requests scored from that row
for j, (ids, _) in enumerate(requests):
    groups.setdefault(tuple(ids), []).append(j)
rows = list(groups.values())
order = sorted(range(len(rows)), key=lambda g: -len(requests[rows[g][0]][0]))
out = [0.0] * count
with torch.inference_mode():
    forward(torch.zeros(1, 8, dtype=torch.long))   # warm-up
    start = now()
    i = 0
    while i < len(order):
        longest = len(requests[rows[order[i]][0]][0])
        b = max(1, per_batch // longest)
        chunk = order[i:i + b]
        batch = torch.zeros(len(chunk), longest, dtype=torch.long)
        for r, g in enumerate(chunk):
            ids = requests[rows[g][0]][0]
            batch[r, :len(ids)] = torch.tensor(ids)
        logp = F.log_softmax(forward(batch), dim=-1)
        for r, g in enumerate(chunk):
            for j in rows[g]:
                ids, cont = requests[j]
                pos = torch.arange(len(ids) - len(cont), len(ids))
                out[j] = float(logp[r, pos, torch.tensor(cont)].double().sum())
        i += len(chunk)
    seconds = now() - start
print(json.dumps({"seconds": seconds, "loglikelihoods": out, "torch": torch.__version__}))
