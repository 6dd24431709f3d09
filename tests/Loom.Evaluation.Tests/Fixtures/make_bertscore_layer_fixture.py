#!/usr/bin/python3
# Makes bertscore_layer/: BERTScore with bert_score's num_layers on the tiny BERT of
# tests/Loom.Models.Tests/Fixtures/bert_tiny.safetensors (made by make_bert_fixture.py; 2 layers,
# C = 32). bert_score (utils.py get_model) truncates model.encoder.layer to its first num_layers
# layers and reads last_hidden_state: the output of layer L, the embeddings' LayerNorm output for
# L = 0. The forward here is make_bert_fixture.py's plain-PyTorch BertModel (post-LN, erf GELU, eps
# 1e-12), one sequence per call with token types 0 and no padding (bert_score masks its padding, so
# this is the same per pair); the matching is bert_score's greedy_cos_idf (float64, L2-normalised
# rows, max over the other side's tokens with [CLS]/[SEP] included, weights normalised to sum 1,
# [CLS]/[SEP] weight 0, F = 2PR/(P+R)) with plain weights and with get_idf_dict's idf
# (log((M+1)/(df+1)) over the references, log(M+1) for an unseen id).
# Writes model/config.json + model/model.safetensors (the weights under Hugging Face's names) and
# expected.json: the id pairs and, per layer 0..2 and weighting, the per-pair P, R, F1.
#
#   /usr/bin/python3 tests/Loom.Evaluation.Tests/Fixtures/make_bertscore_layer_fixture.py
import json, math, os, sys
from collections import Counter
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "Loom.Models.Tests", "Fixtures")
sys.path.insert(0, MODELS)
from fixture_io import load_safetensors, save_safetensors  # noqa: E402

tensors, meta = load_safetensors(os.path.join(MODELS, "bert_tiny.safetensors"))
cfg = json.loads(meta["config"])
C, NH, L, EPS = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"], cfg["layer_norm_eps"]
HD = C // NH
w = {k[2:]: v.double() for k, v in tensors.items() if k.startswith("w.")}
CLS, SEP = 2, 3


def lin(x, name):
    return x @ w[name + ".weight"].T + w[name + ".bias"]


def ln(x, name):
    return F.layer_norm(x, (C,), w[name + ".weight"], w[name + ".bias"], EPS)


def hidden(ids, layers):                     # (T,) → output of the first `layers` layers, (T, C)
    T = len(ids)
    ids = torch.tensor(ids)
    x = w["bert.embeddings.word_embeddings.weight"][ids] + w["bert.embeddings.position_embeddings.weight"][:T] \
        + w["bert.embeddings.token_type_embeddings.weight"][torch.zeros(T, dtype=torch.long)]
    x = ln(x, "bert.embeddings.LayerNorm")
    for i in range(layers):
        pre = f"bert.encoder.layer.{i}."
        q, k, v = [lin(x, pre + "attention.self." + n).view(T, NH, HD).transpose(0, 1) for n in ("query", "key", "value")]
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, C)
        x = ln(x + lin(y, pre + "attention.output.dense"), pre + "attention.output.LayerNorm")
        h = F.gelu(lin(x, pre + "intermediate.dense"))
        x = ln(x + lin(h, pre + "output.dense"), pre + "output.LayerNorm")
    return x


def greedy_cos_idf(ref_emb, ref_w, hyp_emb, hyp_w):
    ref_emb = ref_emb / ref_emb.norm(dim=-1, keepdim=True)
    hyp_emb = hyp_emb / hyp_emb.norm(dim=-1, keepdim=True)
    sim = hyp_emb @ ref_emb.T
    P = (sim.max(dim=1)[0] * (hyp_w / hyp_w.sum())).sum()
    R = (sim.max(dim=0)[0] * (ref_w / ref_w.sum())).sum()
    return [P.item(), R.item(), (2 * P * R / (P + R)).item()]


g = torch.Generator().manual_seed(16)
def text(n):
    return [CLS] + torch.randint(5, cfg["vocab_size"], (n,), generator=g).tolist() + [SEP]
pairs = []
for n, m in [(5, 7), (9, 4), (3, 3), (12, 10)]:
    ref = text(m)
    hyp = text(n)
    hyp[1:1 + min(n, m) // 2] = ref[1:1 + min(n, m) // 2]      # some shared tokens, so the layers' matches differ
    pairs.append((hyp, ref))
M = len(pairs)
df = Counter()
for _, ref in pairs:
    df.update(set(ref))
idf = lambda i: 0.0 if i in (CLS, SEP) else math.log((M + 1) / (df[i] + 1)) if i in df else math.log(M + 1)
plain = lambda ids: torch.tensor([0.0 if i in (CLS, SEP) else 1.0 for i in ids], dtype=torch.float64)
weighted = lambda ids: torch.tensor([idf(i) for i in ids], dtype=torch.float64)

out = {"torch": torch.__version__, "cls": CLS, "sep": SEP, "pairs": [{"candidate": h, "reference": r} for h, r in pairs], "layers": []}
for layers in range(L + 1):
    out["layers"].append({
        "layer": layers,
        "plain": [greedy_cos_idf(hidden(r, layers), plain(r), hidden(h, layers), plain(h)) for h, r in pairs],
        "idf": [greedy_cos_idf(hidden(r, layers), weighted(r), hidden(h, layers), weighted(h)) for h, r in pairs],
    })
folder = os.path.join(HERE, "bertscore_layer")
os.makedirs(os.path.join(folder, "model"), exist_ok=True)
save_safetensors({k[2:]: v for k, v in tensors.items() if k.startswith("w.")}, os.path.join(folder, "model", "model.safetensors"), {"format": "pt"})
json.dump(cfg, open(os.path.join(folder, "model", "config.json"), "w"), indent=1)
json.dump(out, open(os.path.join(folder, "expected.json"), "w"), indent=1)
print({l["layer"]: [round(x[2], 4) for x in l["plain"]] for l in out["layers"]})
