#!/usr/bin/python3
# Makes the harness reference: a tiny GPT-2 model directory (config.json, model.safetensors and a
# byte-level tokenizer.json with no merges, so a text's ids are its UTF-8 bytes and Python needs no
# tokenizer library), a multiple-choice task (task.yaml + test.jsonl) and expected.json with, per
# document and choice, the log-likelihood of " " + choice given the question, computed by a float64
# PyTorch forward of the same weights, plus lm-evaluation-harness's acc and acc_norm
# (lm_eval/api/task.py, ConfigurableTask.process_results for output_type multiple_choice):
#   acc      = 1 if argmax(lls) == gold
#   acc_norm = 1 if argmax(lls / completion_len) == gold, completion_len = len(choice) (characters
#              of the choice without the target delimiter; equal to its byte length for ASCII)
# and, for the target log-likelihood task, sum(log p(target tokens)) and whether each is greedy.
#
# Run with Debian's python3 and python3-torch:
#   /usr/bin/python3 tests/Loom.Inference.Tests/Fixtures/harness/make_harness_fixture.py
import json, math, os, sys
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Loom.Models.Tests", "Fixtures"))
from fixture_io import save_safetensors  # noqa: E402

torch.manual_seed(20261202)
V, NPOS, C, NH, L = 257, 128, 32, 4, 2
EPS = 1e-5

def r(*shape, std):
    return torch.randn(*shape) * std

# Sharper than GPT-2's 0.02 initialisation so the choices' log-likelihoods differ clearly.
params = {"wte.weight": r(V, C, std=0.5), "wpe.weight": r(NPOS, C, std=0.1)}
for i in range(L):
    params[f"h.{i}.ln_1.weight"] = 1 + 0.1 * torch.randn(C)
    params[f"h.{i}.ln_1.bias"] = r(C, std=0.05)
    params[f"h.{i}.attn.c_attn.weight"] = r(C, 3 * C, std=0.3)
    params[f"h.{i}.attn.c_attn.bias"] = r(3 * C, std=0.05)
    params[f"h.{i}.attn.c_proj.weight"] = r(C, C, std=0.3)
    params[f"h.{i}.attn.c_proj.bias"] = r(C, std=0.05)
    params[f"h.{i}.ln_2.weight"] = 1 + 0.1 * torch.randn(C)
    params[f"h.{i}.ln_2.bias"] = r(C, std=0.05)
    params[f"h.{i}.mlp.c_fc.weight"] = r(C, 4 * C, std=0.3)
    params[f"h.{i}.mlp.c_fc.bias"] = r(4 * C, std=0.05)
    params[f"h.{i}.mlp.c_proj.weight"] = r(4 * C, C, std=0.3)
    params[f"h.{i}.mlp.c_proj.bias"] = r(C, std=0.05)
params["ln_f.weight"] = 1 + 0.1 * torch.randn(C)
params["ln_f.bias"] = r(C, std=0.05)

def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

def log_probs(ids):
    """(T, V) float64 log-softmax of the logits of one sequence."""
    P = {k: v.double() for k, v in params.items()}
    T = len(ids)
    x = P["wte.weight"][torch.tensor(ids)] + P["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        h = F.layer_norm(x, (C,), P[f"h.{i}.ln_1.weight"], P[f"h.{i}.ln_1.bias"], EPS)
        qkv = h @ P[f"h.{i}.attn.c_attn.weight"] + P[f"h.{i}.attn.c_attn.bias"]
        q, k, v = [t.view(T, NH, C // NH).transpose(0, 1) for t in qkv.split(C, dim=1)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // NH)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(0, 1).contiguous().view(T, C)
        x = x + y @ P[f"h.{i}.attn.c_proj.weight"] + P[f"h.{i}.attn.c_proj.bias"]
        h = F.layer_norm(x, (C,), P[f"h.{i}.ln_2.weight"], P[f"h.{i}.ln_2.bias"], EPS)
        x = x + gelu(h @ P[f"h.{i}.mlp.c_fc.weight"] + P[f"h.{i}.mlp.c_fc.bias"]) @ P[f"h.{i}.mlp.c_proj.weight"] + P[f"h.{i}.mlp.c_proj.bias"]
    x = F.layer_norm(x, (C,), P["ln_f.weight"], P["ln_f.bias"], EPS)
    return (x @ P["wte.weight"].T).log_softmax(-1)

def enc(text):
    return list(text.encode("utf-8"))

def loglikelihood(context, continuation):
    """lm-eval's HFLM._encode_pair + _loglikelihood_tokens for a byte-level tokenizer."""
    n = len(context) - len(context.rstrip())
    if n > 0:
        continuation = context[-n:] + continuation
        context = context[:-n]
    whole = enc(context + continuation)
    ctx = enc(context)
    cont = whole[len(ctx):]
    inp = (ctx + cont)[-(NPOS + 1):][:-1]
    lp = log_probs(inp)[-len(cont):]
    ll = sum(lp[i, t].item() for i, t in enumerate(cont))
    greedy = all(lp[i].argmax().item() == t for i, t in enumerate(cont))
    return ll, greedy

# ---- the model directory ----
os.makedirs(os.path.join(HERE, "model"), exist_ok=True)
save_safetensors({k: v.float() for k, v in params.items()}, os.path.join(HERE, "model", "model.safetensors"), {"format": "pt"})
with open(os.path.join(HERE, "model", "config.json"), "w") as f:
    json.dump({"model_type": "gpt2", "vocab_size": V, "n_positions": NPOS, "n_embd": C, "n_layer": L, "n_head": NH,
               "layer_norm_epsilon": EPS, "bos_token_id": 256, "eos_token_id": 256}, f, indent=1)

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return dict(zip(bs, [chr(c) for c in cs]))

b2u = bytes_to_unicode()
tokenizer = {
    "version": "1.0",
    "added_tokens": [{"id": 256, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": True}],
    "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": None,
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
              "fuse_unk": False, "byte_fallback": False, "vocab": {b2u[b]: b for b in range(256)}, "merges": []},
}
with open(os.path.join(HERE, "model", "tokenizer.json"), "w", encoding="utf-8") as f:
    json.dump(tokenizer, f, ensure_ascii=False)

# ---- a multiple-choice task: choices of very different lengths so acc and acc_norm can disagree ----
docs = [
    {"question": "Is the sky blue?", "choices": ["yes", "no", "it depends on the weather"], "label": 0},
    {"question": "2 + 2 =", "choices": ["4", "5", "four, obviously", "22"], "label": 2},
    {"question": "Capital of France:", "choices": ["Paris", "Lyon", "Marseille"], "label": 0},
    {"question": "The cat sat on the", "choices": ["mat", "moon and then it flew away", "dog"], "label": 1},
    {"question": "Colour of grass? ", "choices": ["green", "red", "a deep shade of purple"], "label": 0},
    {"question": "Opposite of hot:", "choices": ["cold", "warm", "tepid water"], "label": 2},
    {"question": "Café au", "choices": ["lait", "chocolat chaud", "thé"], "label": 0},
    {"question": "Fish live in", "choices": ["water", "trees", "the deepest parts of the ocean"], "label": 1},
]
for d in docs:
    d["answer"] = d["choices"][d["label"]]   # the target of the log-likelihood task
with open(os.path.join(HERE, "test.jsonl"), "w", encoding="utf-8") as f:
    for d in docs:
        f.write(json.dumps(d, ensure_ascii=False) + "\n")

expected = {"multiple_choice": [], "loglikelihood": []}
acc = acc_norm = 0
for d in docs:
    res = [loglikelihood(d["question"], " " + c) for c in d["choices"]]
    lls = [x[0] for x in res]
    lens = [float(len(c)) for c in d["choices"]]
    pred = max(range(len(lls)), key=lambda i: lls[i])
    pred_norm = max(range(len(lls)), key=lambda i: lls[i] / lens[i])
    a, an = float(pred == d["label"]), float(pred_norm == d["label"])
    acc += a; acc_norm += an
    expected["multiple_choice"].append({"lls": lls, "is_greedy": [x[1] for x in res], "acc": a, "acc_norm": an, "pred": pred, "pred_norm": pred_norm})
    # The target log-likelihood task: the gold choice as the target.
    ll, g = loglikelihood(d["question"], " " + d["choices"][d["label"]])
    expected["loglikelihood"].append({"ll": ll, "is_greedy": g})
expected["acc"] = acc / len(docs)
expected["acc_norm"] = acc_norm / len(docs)
with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print("acc", expected["acc"], "acc_norm", expected["acc_norm"],
      "items where they differ:", sum(1 for e in expected["multiple_choice"] if e["pred"] != e["pred_norm"]))
