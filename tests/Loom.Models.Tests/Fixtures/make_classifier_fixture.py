#!/usr/bin/python3
# Makes {gpt2,llama,bert}_classifier.safetensors: the reference states Loom's sequence classifiers
# must reproduce. transformers is not in Debian, so the three heads are written here in plain
# PyTorch following Hugging Face's modeling files (transformers main, 2025):
#   GPT2ForSequenceClassification (models/gpt2/modeling_gpt2.py) and LlamaForSequenceClassification
#   (models/llama/modeling_llama.py, GenericForSequenceClassification): logits = score(hidden) with
#   score = nn.Linear(C, num_labels, bias=False);
#     non_pad_mask = (input_ids != pad_token_id); last_non_pad_token = (arange(T) * non_pad_mask).argmax(-1)
#     pooled_logits = logits[arange(B), last_non_pad_token]
#   BertForSequenceClassification (models/bert/modeling_bert.py): pooled = tanh(pooler.dense(h[:, 0])),
#   dropout (off here: eval), classifier = nn.Linear(C, num_labels) with bias.
#   Loss (loss/loss_utils.py ForSequenceClassificationLoss): regression MSELoss on squeezed logits when
#   num_labels == 1; single-label cross_entropy(ignore_index=-100); multi-label BCEWithLogitsLoss.
# The bodies are the same torch references as make_{gpt2,llama,bert}_fixture.py (HF GPT2Model,
# LlamaModel, BertModel), under the classifier's state-dict names (transformer.*, model.*, bert.*).
# GPT-2 and Llama run causal attention without the key padding mask: the rows the head reads come
# before any padding, so neither their values nor the gradients differ from HF's masked run.
# Each file holds, for the cases single (3 labels), regression (1) and multi (3 labels): the head's
# weights ("<case>.w.<name>"), labels, logits, loss and every parameter's gradient ("<case>.g.<name>");
# the shared body weights ("w.<name>"), ids, attention mask and token types; and in the metadata the
# config and the classifier's state-dict names ("names.<case>", HF's module tree for that config).
#   /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/make_classifier_fixture.py
import json, math, os, sys
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import save_safetensors  # noqa: E402

B, T = 4, 8
LENGTHS = [8, 5, 3, 6]
PAD = 0
here = os.path.dirname(os.path.abspath(__file__))

def P(*shape, std):
    return torch.nn.Parameter(torch.randn(*shape) * std)

def batch(V):
    ids = torch.randint(1, V, (B, T))
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        mask[b, :n] = 1
        ids[b, n:] = PAD
    ids[1, 2] = PAD          # a pad id among real tokens: HF takes the rightmost non-pad token, so it is not the end
    return ids, mask

def gpt2_body(V=97, NPOS=16, C=32, NH=4, L=2, EPS=1e-5):
    params = {"transformer.wte.weight": P(V, C, std=0.02), "transformer.wpe.weight": P(NPOS, C, std=0.01)}
    for i in range(L):
        h = f"transformer.h.{i}."
        params[h + "ln_1.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C)); params[h + "ln_1.bias"] = P(C, std=0.02)
        params[h + "attn.c_attn.weight"] = P(C, 3 * C, std=0.02); params[h + "attn.c_attn.bias"] = P(3 * C, std=0.02)
        params[h + "attn.c_proj.weight"] = P(C, C, std=0.02); params[h + "attn.c_proj.bias"] = P(C, std=0.02)
        params[h + "ln_2.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C)); params[h + "ln_2.bias"] = P(C, std=0.02)
        params[h + "mlp.c_fc.weight"] = P(C, 4 * C, std=0.02); params[h + "mlp.c_fc.bias"] = P(4 * C, std=0.02)
        params[h + "mlp.c_proj.weight"] = P(4 * C, C, std=0.02); params[h + "mlp.c_proj.bias"] = P(C, std=0.02)
    params["transformer.ln_f.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C)); params["transformer.ln_f.bias"] = P(C, std=0.02)

    def forward(ids, mask, types):
        x = params["transformer.wte.weight"][ids] + params["transformer.wpe.weight"][:T]
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for i in range(L):
            h = f"transformer.h.{i}."
            a = F.layer_norm(x, (C,), params[h + "ln_1.weight"], params[h + "ln_1.bias"], EPS)
            q, k, v = (a @ params[h + "attn.c_attn.weight"] + params[h + "attn.c_attn.bias"]).split(C, dim=2)
            q, k, v = [t.view(B, T, NH, C // NH).transpose(1, 2) for t in (q, k, v)]
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(C // NH)).masked_fill(~causal, float("-inf")).softmax(-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, C)
            x = x + y @ params[h + "attn.c_proj.weight"] + params[h + "attn.c_proj.bias"]
            a = F.layer_norm(x, (C,), params[h + "ln_2.weight"], params[h + "ln_2.bias"], EPS)
            a = F.gelu(a @ params[h + "mlp.c_fc.weight"] + params[h + "mlp.c_fc.bias"], approximate="tanh")
            x = x + a @ params[h + "mlp.c_proj.weight"] + params[h + "mlp.c_proj.bias"]
        return F.layer_norm(x, (C,), params["transformer.ln_f.weight"], params["transformer.ln_f.bias"], EPS)

    config = {"model_type": "gpt2", "vocab_size": V, "n_positions": NPOS, "n_embd": C, "n_head": NH, "n_layer": L,
              "layer_norm_epsilon": EPS, "pad_token_id": PAD}
    return params, forward, config, C

def llama_body(V=97, C=32, NH=4, NKV=2, L=2, I=64, MAXPOS=32, EPS=1e-6, THETA=10000.0):
    HD = C // NH
    params = {"model.embed_tokens.weight": P(V, C, std=0.5)}
    for i in range(L):
        p = f"model.layers.{i}."
        params[p + "input_layernorm.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
        params[p + "self_attn.q_proj.weight"] = P(NH * HD, C, std=0.2)
        params[p + "self_attn.k_proj.weight"] = P(NKV * HD, C, std=0.2)
        params[p + "self_attn.v_proj.weight"] = P(NKV * HD, C, std=0.2)
        params[p + "self_attn.o_proj.weight"] = P(C, NH * HD, std=0.2)
        params[p + "post_attention_layernorm.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
        params[p + "mlp.gate_proj.weight"] = P(I, C, std=0.2)
        params[p + "mlp.up_proj.weight"] = P(I, C, std=0.2)
        params[p + "mlp.down_proj.weight"] = P(C, I, std=0.2)
    params["model.norm.weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))
    inv_freq = 1.0 / (THETA ** (torch.arange(0, HD, 2).float() / HD))
    emb = torch.cat((torch.outer(torch.arange(T).float(), inv_freq),) * 2, dim=-1)
    cos, sin = emb.cos(), emb.sin()

    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w

    def rope(x):
        return x * cos + torch.cat((-x[..., HD // 2:], x[..., :HD // 2]), dim=-1) * sin

    def forward(ids, mask, types):
        x = params["model.embed_tokens.weight"][ids]
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for i in range(L):
            p = f"model.layers.{i}."
            h = rms(x, params[p + "input_layernorm.weight"])
            q = rope((h @ params[p + "self_attn.q_proj.weight"].T).view(B, T, NH, HD).transpose(1, 2))
            k = rope((h @ params[p + "self_attn.k_proj.weight"].T).view(B, T, NKV, HD).transpose(1, 2))
            v = (h @ params[p + "self_attn.v_proj.weight"].T).view(B, T, NKV, HD).transpose(1, 2)
            k, v = k.repeat_interleave(NH // NKV, dim=1), v.repeat_interleave(NH // NKV, dim=1)
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).masked_fill(~causal, float("-inf")).softmax(-1)
            x = x + (att @ v).transpose(1, 2).reshape(B, T, NH * HD) @ params[p + "self_attn.o_proj.weight"].T
            h = rms(x, params[p + "post_attention_layernorm.weight"])
            x = x + (F.silu(h @ params[p + "mlp.gate_proj.weight"].T) * (h @ params[p + "mlp.up_proj.weight"].T)) @ params[p + "mlp.down_proj.weight"].T
        return rms(x, params["model.norm.weight"])

    config = {"model_type": "llama", "vocab_size": V, "hidden_size": C, "intermediate_size": I, "num_hidden_layers": L,
              "num_attention_heads": NH, "num_key_value_heads": NKV, "max_position_embeddings": MAXPOS, "rms_norm_eps": EPS,
              "rope_theta": THETA, "tie_word_embeddings": False, "pad_token_id": PAD}
    return params, forward, config, C

def bert_body(V=97, C=32, NH=4, L=2, I=64, MAXPOS=16, EPS=1e-12):
    HD = C // NH
    params = {"bert.embeddings.word_embeddings.weight": P(V, C, std=0.5),
              "bert.embeddings.position_embeddings.weight": P(MAXPOS, C, std=0.1),
              "bert.embeddings.token_type_embeddings.weight": P(2, C, std=0.1)}

    def ln_params(prefix):
        params[prefix + ".weight"] = torch.nn.Parameter(1 + 0.1 * torch.randn(C)); params[prefix + ".bias"] = P(C, std=0.05)
    ln_params("bert.embeddings.LayerNorm")
    for i in range(L):
        pre = f"bert.encoder.layer.{i}."
        for n in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            params[pre + n + ".weight"] = P(C, C, std=0.2); params[pre + n + ".bias"] = P(C, std=0.05)
        ln_params(pre + "attention.output.LayerNorm")
        params[pre + "intermediate.dense.weight"] = P(I, C, std=0.2); params[pre + "intermediate.dense.bias"] = P(I, std=0.05)
        params[pre + "output.dense.weight"] = P(C, I, std=0.2); params[pre + "output.dense.bias"] = P(C, std=0.05)
        ln_params(pre + "output.LayerNorm")
    params["bert.pooler.dense.weight"] = P(C, C, std=0.2); params["bert.pooler.dense.bias"] = P(C, std=0.05)

    def lin(x, name):
        return x @ params[name + ".weight"].T + params[name + ".bias"]

    def ln(x, name):
        return F.layer_norm(x, (C,), params[name + ".weight"], params[name + ".bias"], EPS)

    def forward(ids, mask, types):
        x = params["bert.embeddings.word_embeddings.weight"][ids] + params["bert.embeddings.position_embeddings.weight"][:T] \
            + params["bert.embeddings.token_type_embeddings.weight"][types]
        x = ln(x, "bert.embeddings.LayerNorm")
        keep = mask[:, None, None, :].bool()
        for i in range(L):
            pre = f"bert.encoder.layer.{i}."
            q, k, v = [lin(x, pre + "attention.self." + n).view(B, T, NH, HD).transpose(1, 2) for n in ("query", "key", "value")]
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).masked_fill(~keep, float("-inf")).softmax(-1)
            x = ln(x + lin((att @ v).transpose(1, 2).reshape(B, T, C), pre + "attention.output.dense"), pre + "attention.output.LayerNorm")
            x = ln(x + lin(F.gelu(lin(x, pre + "intermediate.dense")), pre + "output.dense"), pre + "output.LayerNorm")
        return x

    config = {"model_type": "bert", "vocab_size": V, "hidden_size": C, "num_hidden_layers": L, "num_attention_heads": NH,
              "intermediate_size": I, "max_position_embeddings": MAXPOS, "type_vocab_size": 2, "layer_norm_eps": EPS,
              "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "pad_token_id": PAD}
    return params, forward, config, C

CASES = {"single": (3, "single_label_classification"), "regression": (1, "regression"), "multi": (3, "multi_label_classification")}

def make(family, body, seed):
    torch.manual_seed(seed)
    params, forward, config, C = body()
    ids, mask = batch(config["vocab_size"])
    types = torch.zeros(B, T, dtype=torch.long)
    types[:, 4:] = 1
    out = {f"w.{k}": v.detach().clone() for k, v in params.items()}
    out["ids"], out["attention_mask"], out["token_types"] = ids.to(torch.int32), mask.to(torch.int32), types.to(torch.int32)
    meta = {"config": json.dumps(config), "batch": str(B), "time": str(T), "torch": torch.__version__}
    bert = family == "bert"
    head_name = "classifier" if bert else "score"
    for case, (N, problem) in CASES.items():
        head = {f"{head_name}.weight": P(N, C, std=0.3)}
        if bert:
            head[f"{head_name}.bias"] = P(N, std=0.1)
        for v in params.values():
            v.grad = None
        hidden = forward(ids, mask, types)
        if bert:
            pooled = torch.tanh(hidden[:, 0] @ params["bert.pooler.dense.weight"].T + params["bert.pooler.dense.bias"])
            logits = pooled @ head["classifier.weight"].T + head["classifier.bias"]
        else:
            token_logits = hidden @ head["score.weight"].T
            non_pad_mask = (ids != PAD).to(torch.int32)
            last = (torch.arange(T, dtype=torch.int32) * non_pad_mask).argmax(-1)
            logits = token_logits[torch.arange(B), last]
            out["last_token"] = last.to(torch.int32)
        if problem == "single_label_classification":
            labels = torch.tensor([2, 0, 1, -100])
            loss = F.cross_entropy(logits.view(-1, N), labels.view(-1), ignore_index=-100)
            out[f"{case}.labels"] = labels.to(torch.int32)
        elif problem == "regression":
            labels = torch.randn(B)
            loss = F.mse_loss(logits.squeeze(), labels.squeeze())
            out[f"{case}.labels"] = labels.float()
        else:
            labels = torch.tensor([[1., 0., 1.], [0., 0., 0.], [1., 1., 1.], [0., 1., 0.]])
            loss = F.binary_cross_entropy_with_logits(logits, labels)
            out[f"{case}.labels"] = labels.reshape(-1)
        loss.backward()
        everything = dict(params, **head)
        out.update({f"{case}.w.{k}": v.detach().clone() for k, v in head.items()})
        out.update({f"{case}.g.{k}": (v.grad if v.grad is not None else torch.zeros_like(v)).detach().clone() for k, v in everything.items()})
        out[f"{case}.logits"] = logits.detach().reshape(-1)
        out[f"{case}.loss"] = loss.detach().reshape(1)
        meta[f"names.{case}"] = json.dumps(sorted(everything))
        meta[f"problem_type.{case}"] = problem
        meta[f"num_labels.{case}"] = str(N)
        print(family, case, "loss", loss.item())
    save_safetensors(out, os.path.join(here, f"{family}_classifier.safetensors"), meta)

make("gpt2", gpt2_body, 1111)
make("llama", llama_body, 2222)
make("bert", bert_body, 3333)
