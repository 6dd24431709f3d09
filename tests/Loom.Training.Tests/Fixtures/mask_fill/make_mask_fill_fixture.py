#!/usr/bin/python3
# Makes the [MASK]-augmentation reference: a tiny BERT masked LM (random weights, Hugging Face's
# BertForMaskedLM tensor names and config.json, a word-level vocab.txt) and, computed with plain
# PyTorch, the masked-LM distribution at each [MASK] of a few sentences and the fills `loom augment
# --method mask` must propose. The forward is make_bert_fixture.py's (post-LN blocks, erf GELU, tied
# decoder plus bias), one sequence, no padding. Fill rule (docs/DATA.md): the top-k tokens by
# probability that are whole words — not a special token, not a ## continuation, alphabetic — and not
# the masked word itself (case-insensitive); probabilities are the softmax over the whole vocabulary.
# Writes config.json, model.safetensors, vocab.txt, tokenizer_config.json and expected.json here.
#   /usr/bin/python3 tests/Loom.Training.Tests/Fixtures/mask_fill/make_mask_fill_fixture.py
import json, math, os, struct
import torch
import torch.nn.functional as F

torch.manual_seed(1717)
here = os.path.dirname(os.path.abspath(__file__))
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ("the a an this it is was and but not no tells story film movie plot good bad sad great true funny dull "
         "boring lovely long short old new tale one of to in with love hate acting actor script ending begins . , ! ? "
         "##s ##ing ##ed ##ly 1 2 dark bright simple clever").split()
VOCAB = SPECIALS + WORDS
V, C, NH, L, I, MAXPOS = len(VOCAB), 32, 4, 2, 64, 32
HD = C // NH
EPS = 1e-12

def p(*shape, std=0.2):
    return torch.randn(*shape) * std

def ln_params(prefix):
    params[prefix + ".weight"] = 1 + 0.1 * torch.randn(C)
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
params["cls.predictions.transform.dense.weight"] = p(C, C)
params["cls.predictions.transform.dense.bias"] = p(C, std=0.05)
ln_params("cls.predictions.transform.LayerNorm")
params["cls.predictions.bias"] = p(V, std=0.05)

def lin(x, name):
    return x @ params[name + ".weight"].T + params[name + ".bias"]

def ln(x, name):
    return F.layer_norm(x, (C,), params[name + ".weight"], params[name + ".bias"], EPS)

def forward(ids):
    T = ids.shape[0]
    x = params["bert.embeddings.word_embeddings.weight"][ids] + params["bert.embeddings.position_embeddings.weight"][:T] \
        + params["bert.embeddings.token_type_embeddings.weight"][0]
    x = ln(x, "bert.embeddings.LayerNorm")
    for i in range(L):
        pre = f"bert.encoder.layer.{i}."
        q, k, v = [lin(x, pre + "attention.self." + n).view(T, NH, HD).transpose(0, 1) for n in ("query", "key", "value")]
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, C)
        x = ln(x + lin(y, pre + "attention.output.dense"), pre + "attention.output.LayerNorm")
        h = F.gelu(lin(x, pre + "intermediate.dense"))
        x = ln(x + lin(h, pre + "output.dense"), pre + "output.LayerNorm")
    h = ln(F.gelu(lin(x, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
    return h @ params["bert.embeddings.word_embeddings.weight"].T + params["cls.predictions.bias"]

def is_word(tok):
    return tok not in SPECIALS and not tok.startswith("##") and tok.isalpha()

TOP_K = 5
cases = []
# (text with [MASK] where the model fills, the word each [MASK] replaced or null)
for text, originals in [("this film tells no [MASK] story .", [None]),
                        ("the [MASK] was good but the ending was [MASK] .", ["plot", "bad"]),
                        ("a [MASK] tale", ["lovely"])]:
    ids = [VOCAB.index("[CLS]")] + [VOCAB.index(w) for w in text.split()] + [VOCAB.index("[SEP]")]
    with torch.no_grad():
        logits = forward(torch.tensor(ids)).double()
    masks = []
    for n, pos in enumerate(i for i, t in enumerate(ids) if t == VOCAB.index("[MASK]")):
        prob = logits[pos].softmax(-1)
        order = torch.argsort(prob, descending=True, stable=True).tolist()
        orig = originals[n]
        fills = [(VOCAB[t], prob[t].item()) for t in order if is_word(VOCAB[t]) and (orig is None or VOCAB[t] != orig.lower())][:TOP_K]
        masks.append({"position": pos, "original": orig, "probabilities": prob.tolist(),
                      "fills": [{"token": t, "probability": q} for t, q in fills]})
    cases.append({"text": text, "ids": ids, "masks": masks})

def save_safetensors(tensors, path, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

save_safetensors(params, os.path.join(here, "model.safetensors"), {"format": "pt"})
config = {"architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": V, "hidden_size": C,
          "num_hidden_layers": L, "num_attention_heads": NH, "intermediate_size": I, "max_position_embeddings": MAXPOS,
          "type_vocab_size": 2, "layer_norm_eps": EPS, "hidden_act": "gelu", "pad_token_id": 0,
          "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
with open(os.path.join(here, "config.json"), "w") as f:
    json.dump(config, f, indent=2)
with open(os.path.join(here, "vocab.txt"), "w") as f:
    f.write("\n".join(VOCAB) + "\n")
with open(os.path.join(here, "tokenizer_config.json"), "w") as f:
    json.dump({"do_lower_case": True, "model_max_length": MAXPOS, "tokenizer_class": "BertTokenizer"}, f, indent=2)
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump({"top_k": TOP_K, "cases": cases}, f, indent=1)
for c in cases:
    print(c["text"], [[(x["token"], round(x["probability"], 4)) for x in m["fills"]] for m in c["masks"]])
