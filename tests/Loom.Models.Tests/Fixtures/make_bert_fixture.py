#!/usr/bin/python3
# Makes bert_tiny.safetensors: the reference state Loom's BERT must reproduce. A tiny BERT encoder in
# plain PyTorch following Hugging Face's BertForMaskedLM (+ pooler): word + position + token-type
# embeddings and LayerNorm (eps 1e-12), post-LN blocks with biased projections, exact (erf) GELU,
# bidirectional attention with a key padding mask, the MLM head (dense, GELU, LayerNorm, decoder
# tied to the word embeddings plus a bias), and the tanh pooler on [CLS]. Stored: weights
# ("w.<name>"), ids, token types, attention mask, targets (−100 on unmasked and padded positions),
# logits, pooled output, loss, every gradient ("g.<name>") and 10 AdamW step losses (lr 1e-3).
#   /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/make_bert_fixture.py          (bert_tiny: T = 8, head size 8)
#   /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/make_bert_fixture.py --long   (bert_long: T = 256, head size 64,
#     the shapes of the IMDB recipe's pre-training, where the attention kernels take their blocked paths)
import json, math, os, sys
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import adamw_step_losses, save_safetensors  # noqa: E402

LONG = "--long" in sys.argv
torch.manual_seed(2468)
V, C, NH, L, I, MAXPOS = (97, 128, 2, 1, 128, 256) if LONG else (97, 32, 4, 2, 64, 16)
HD = C // NH
B, T = (2, 256) if LONG else (2, 8)
EPS = 1e-12

def p(*shape, std=0.2):
    return torch.nn.Parameter(torch.randn(*shape) * std)

def ln_params(prefix):
    params[prefix + ".weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
    params[prefix + ".bias"] = p(C, std=0.05)

params = {
    "bert.embeddings.word_embeddings.weight": p(V, C, std=0.5),
    "bert.embeddings.position_embeddings.weight": p(MAXPOS, C, std=0.1),
    "bert.embeddings.token_type_embeddings.weight": p(2, C, std=0.1),
}
ln_params("bert.embeddings.LayerNorm")
for i in range(L):
    pre = f"bert.encoder.layer.{i}."
    for n in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
        params[pre + n + ".weight"] = p(C, C)
        params[pre + n + ".bias"] = p(C, std=0.05)
    ln_params(pre + "attention.output.LayerNorm")
    params[pre + "intermediate.dense.weight"] = p(I, C)
    params[pre + "intermediate.dense.bias"] = p(I, std=0.05)
    params[pre + "output.dense.weight"] = p(C, I)
    params[pre + "output.dense.bias"] = p(C, std=0.05)
    ln_params(pre + "output.LayerNorm")
params["bert.pooler.dense.weight"] = p(C, C)
params["bert.pooler.dense.bias"] = p(C, std=0.05)
params["cls.predictions.transform.dense.weight"] = p(C, C)
params["cls.predictions.transform.dense.bias"] = p(C, std=0.05)
ln_params("cls.predictions.transform.LayerNorm")
params["cls.predictions.bias"] = p(V, std=0.05)

ids = torch.randint(0, V, (B, T))
token_types = torch.zeros(B, T, dtype=torch.long)
token_types[:, 5:] = 1
attention_mask = torch.ones(B, T, dtype=torch.long)
targets = torch.full((B, T), -100)
if LONG:
    attention_mask[1, 217:] = 0                 # 39 padded positions in the second sequence
    chosen = torch.rand(B, T) < 0.15
    chosen[1, 217:] = False
    targets[chosen] = torch.randint(0, V, (int(chosen.sum()),))
else:
    attention_mask[1, 6:] = 0                   # two padded positions in the second sequence
    targets[0, 1], targets[0, 4], targets[1, 2], targets[1, 5] = 7, 30, 55, 91

def lin(x, name):
    return x @ params[name + ".weight"].T + params[name + ".bias"]

def ln(x, name):
    return F.layer_norm(x, (C,), params[name + ".weight"], params[name + ".bias"], EPS)

def forward(ids, with_pooled=False):
    x = params["bert.embeddings.word_embeddings.weight"][ids] + params["bert.embeddings.position_embeddings.weight"][:T] \
        + params["bert.embeddings.token_type_embeddings.weight"][token_types]
    x = ln(x, "bert.embeddings.LayerNorm")
    keep = attention_mask[:, None, None, :].bool()
    for i in range(L):
        pre = f"bert.encoder.layer.{i}."
        q, k, v = [lin(x, pre + "attention.self." + n).view(B, T, NH, HD).transpose(1, 2) for n in ("query", "key", "value")]
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).masked_fill(~keep, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = ln(x + lin(y, pre + "attention.output.dense"), pre + "attention.output.LayerNorm")
        h = F.gelu(lin(x, pre + "intermediate.dense"))
        x = ln(x + lin(h, pre + "output.dense"), pre + "output.LayerNorm")
    pooled = torch.tanh(lin(x[:, 0], "bert.pooler.dense"))
    h = ln(F.gelu(lin(x, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
    logits = h @ params["bert.embeddings.word_embeddings.weight"].T + params["cls.predictions.bias"]
    return (logits, pooled) if with_pooled else logits

out = {f"w.{k}": v.detach().clone() for k, v in params.items()}
logits, pooled = forward(ids, with_pooled=True)
loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100)
loss.backward()
out.update({f"g.{k}": (v.grad if v.grad is not None else torch.zeros_like(v)).detach().clone() for k, v in params.items()})
out["ids"], out["token_types"] = ids.to(torch.int32), token_types.to(torch.int32)
out["attention_mask"], out["targets"] = attention_mask.to(torch.int32), targets.to(torch.int32)
out["logits"], out["pooled"], out["loss"] = logits.detach(), pooled.detach(), loss.detach().reshape(1)
# lr 1e-3: at 1e-2 this tiny post-LN model's loss falls from 7.9 to 0.008 in ten steps, and that
# dynamics amplifies float-level gradient differences (which match PyTorch to 1e-4) past 1e-5 by step 2.
out["step_losses"] = adamw_step_losses(params, forward, ids, targets, V,
                                       lambda k, v: v.dim() == 2 and "embeddings" not in k, lr=1e-3)
config = {"model_type": "bert", "vocab_size": V, "hidden_size": C, "num_hidden_layers": L, "num_attention_heads": NH,
          "intermediate_size": I, "max_position_embeddings": MAXPOS, "type_vocab_size": 2, "layer_norm_eps": EPS,
          "hidden_act": "gelu"}
here = os.path.dirname(os.path.abspath(__file__))
save_safetensors(out, os.path.join(here, "bert_long.safetensors" if LONG else "bert_tiny.safetensors"), {"config": json.dumps(config), "batch": str(B), "time": str(T), "lr": "1e-3"})
print("loss", loss.item(), "step losses", out["step_losses"].tolist())
