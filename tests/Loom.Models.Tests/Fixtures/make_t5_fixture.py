#!/usr/bin/python3
# Makes t5_tiny_v10.safetensors and t5_tiny_v11.safetensors: the reference states Loom's T5 must
# reproduce, and t5_generate.safetensors: the sequences Hugging Face's `generate` would produce on
# them. `transformers` is not installed here, so T5 is written in plain PyTorch following
# transformers' models/t5/modeling_t5.py (T5ForConditionalGeneration, v4.3x) line by line:
#   - T5LayerNorm: RMS over the last axis without mean subtraction or bias, in fp32, eps 1e-6
#   - T5Attention: q, k, v, o without bias, inner dim n_heads·d_kv ≠ d_model allowed, NO 1/√d_kv
#     scaling (folded into the initialisation, Raffel et al. 2020 §3.1 / mesh-tensorflow)
#   - relative position buckets (_relative_position_bucket): bidirectional in the encoder, causal in
#     the decoder; the bias table lives in block 0 of each stack and is shared by every block of it;
#     cross-attention has no position bias
#   - T5LayerFF: ReLU (v1.0, "relu") or gated GELU (v1.1/FLAN-T5, "gated-gelu" = gelu_new · wi_1)
#   - the tied head rescales the decoder output by d_model^-0.5 (v1.0); v1.1 has an untied lm_head
#   - loss: cross-entropy with ignore_index −100; decoder_input_ids = labels shifted right with
#     decoder_start_token_id and −100 → pad (_shift_right)
# Dropout is off (model.eval(), or dropout_rate 0). Stored per model: weights ("w.<HF name>"),
# input_ids, attention_mask, labels, decoder_input_ids, logits, loss, every gradient ("g.<name>"),
# 10 AdamW step losses (lr 1e-3, weight decay 0.1 on projection matrices and lm_head), and the
# relative-position bucket tables for relative positions −300..300.
# Generation (t5_generate.safetensors), following transformers' generation/utils.py and
# generation/beam_search.py (v4.30, BeamSearchScorer/BeamHypotheses, NoRepeatNGramLogitsProcessor,
# TemperatureLogitsWarper → TopKLogitsWarper → TopPLogitsWarper): greedy and beam-search sequences
# for several (num_beams, length_penalty, early_stopping, no_repeat_ngram_size) and the warped
# sampling distributions along a fixed decoder prefix.
#   /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/make_t5_fixture.py
import json, math, os, sys
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import adamw_step_losses, save_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
B, S, T = 2, 9, 7
EOS_BOOST = float(os.environ.get('EOS_BOOST', '3'))


class T5:
    def __init__(self, cfg, seed):
        torch.manual_seed(seed)
        self.cfg = cfg
        C, dkv, NH, F_ = cfg["d_model"], cfg["d_kv"], cfg["num_heads"], cfg["d_ff"]
        inner, V, NB = NH * dkv, cfg["vocab_size"], cfg["relative_attention_num_buckets"]
        self.gated = cfg["feed_forward_proj"].startswith("gated-")
        P = {}

        def p(name, *shape, std=0.2):
            P[name] = torch.nn.Parameter(torch.randn(*shape) * std)

        def ln(name):
            P[name] = torch.nn.Parameter(1 + 0.1 * torch.randn(C))

        p("shared.weight", V, C, std=0.5)
        for stack, layers in (("encoder", cfg["num_layers"]), ("decoder", cfg["num_decoder_layers"])):
            for i in range(layers):
                pre = f"{stack}.block.{i}.layer."
                attns = [("0", "SelfAttention")] + ([("1", "EncDecAttention")] if stack == "decoder" else [])
                for idx, kind in attns:
                    for n in "qkv":
                        p(f"{pre}{idx}.{kind}.{n}.weight", inner, C)
                    p(f"{pre}{idx}.{kind}.o.weight", C, inner)
                    if i == 0 and kind == "SelfAttention":
                        p(f"{pre}{idx}.{kind}.relative_attention_bias.weight", NB, NH, std=0.5)
                    ln(f"{pre}{idx}.layer_norm.weight")
                ff = "2" if stack == "decoder" else "1"
                if self.gated:
                    p(f"{pre}{ff}.DenseReluDense.wi_0.weight", F_, C)
                    p(f"{pre}{ff}.DenseReluDense.wi_1.weight", F_, C)
                else:
                    p(f"{pre}{ff}.DenseReluDense.wi.weight", F_, C)
                p(f"{pre}{ff}.DenseReluDense.wo.weight", C, F_)
                ln(f"{pre}{ff}.layer_norm.weight")
            ln(f"{stack}.final_layer_norm.weight")
        if not cfg["tie_word_embeddings"]:
            p("lm_head.weight", V, C)
        # A louder </s> row in the head, so that generation on random weights does end with </s> at
        # times (and beam search exercises its finished-hypothesis bookkeeping).
        with torch.no_grad():
            P["shared.weight" if cfg["tie_word_embeddings"] else "lm_head.weight"][cfg["eos_token_id"]] *= EOS_BOOST
        self.P = P

    # modeling_t5.py T5Attention._relative_position_bucket; the log is taken in float32 as torch does.
    @staticmethod
    def bucket(rel, bidirectional, num_buckets, max_distance):
        buckets = torch.zeros_like(rel)
        if bidirectional:
            num_buckets //= 2
            buckets += (rel > 0).to(torch.long) * num_buckets
            rel = torch.abs(rel)
        else:
            rel = -torch.min(rel, torch.zeros_like(rel))
        max_exact = num_buckets // 2
        small = rel < max_exact
        large = max_exact + (torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact)
                             * (num_buckets - max_exact)).to(torch.long)
        large = torch.min(large, torch.full_like(large, num_buckets - 1))
        return buckets + torch.where(small, rel, large)

    def position_bias(self, table, q_len, k_len, bidirectional):
        ctx = torch.arange(q_len)[:, None]
        mem = torch.arange(k_len)[None, :]
        b = self.bucket(mem - ctx, bidirectional, self.cfg["relative_attention_num_buckets"], self.cfg["relative_attention_max_distance"])
        return self.P[table][b].permute(2, 0, 1).unsqueeze(0)            # (1, NH, q, k)

    def rms(self, x, name):
        var = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        return self.P[name] * (x * torch.rsqrt(var + self.cfg["layer_norm_epsilon"]))

    def attend(self, pre, x, kv, bias, mask_add, past=None):
        cfg = self.cfg
        NH, dkv = cfg["num_heads"], cfg["d_kv"]
        Bx = x.shape[0]
        q = (x @ self.P[pre + ".q.weight"].T).view(Bx, -1, NH, dkv).transpose(1, 2)
        k = (kv @ self.P[pre + ".k.weight"].T).view(Bx, -1, NH, dkv).transpose(1, 2)
        v = (kv @ self.P[pre + ".v.weight"].T).view(Bx, -1, NH, dkv).transpose(1, 2)
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        scores = q @ k.transpose(-2, -1)                                 # no 1/sqrt(d_kv)
        if bias is not None:
            scores = scores + bias
        if mask_add is not None:
            scores = scores + mask_add
        w = scores.float().softmax(-1)
        y = (w @ v).transpose(1, 2).reshape(Bx, -1, NH * dkv)
        return y @ self.P[pre + ".o.weight"].T, (k, v)

    def ff(self, pre, x):
        if self.gated:   # T5DenseGatedActDense: gelu_new(wi_0 x) * wi_1 x
            h = F.gelu(x @ self.P[pre + ".wi_0.weight"].T, approximate="tanh") * (x @ self.P[pre + ".wi_1.weight"].T)
        else:            # T5DenseActDense: relu(wi x)
            h = F.relu(x @ self.P[pre + ".wi.weight"].T)
        return h @ self.P[pre + ".wo.weight"].T

    def encode(self, ids, mask):
        x = self.P["shared.weight"][ids]
        mask_add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        bias = self.position_bias("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", ids.shape[1], ids.shape[1], True)
        for i in range(self.cfg["num_layers"]):
            pre = f"encoder.block.{i}.layer."
            h = self.rms(x, pre + "0.layer_norm.weight")
            x = x + self.attend(pre + "0.SelfAttention", h, h, bias, mask_add)[0]
            x = x + self.ff(pre + "1.DenseReluDense", self.rms(x, pre + "1.layer_norm.weight"))
        return self.rms(x, "encoder.final_layer_norm.weight")

    def decode(self, dec_ids, enc, enc_mask, past=None):
        """Decoder over dec_ids (positions past_len.. when past is given); returns logits and the new cache."""
        cfg = self.cfg
        x = self.P["shared.weight"][dec_ids]
        Tq = dec_ids.shape[1]
        past_len = 0 if past is None else past[0][0].shape[2]
        Tk = past_len + Tq
        causal = torch.tril(torch.ones(Tk, Tk, dtype=torch.bool))[past_len:]
        bias = self.position_bias("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", Tk, Tk, False)[:, :, past_len:, :]
        self_add = (~causal).float()[None, None] * torch.finfo(torch.float32).min
        cross_add = (1.0 - enc_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        new = []
        for i in range(cfg["num_decoder_layers"]):
            pre = f"decoder.block.{i}.layer."
            h = self.rms(x, pre + "0.layer_norm.weight")
            a, kv = self.attend(pre + "0.SelfAttention", h, h, bias, self_add, None if past is None else past[i])
            x = x + a
            h = self.rms(x, pre + "1.layer_norm.weight")
            x = x + self.attend(pre + "1.EncDecAttention", h, enc, None, cross_add)[0]
            x = x + self.ff(pre + "2.DenseReluDense", self.rms(x, pre + "2.layer_norm.weight"))
            new.append(kv)
        x = self.rms(x, "decoder.final_layer_norm.weight")
        if cfg["tie_word_embeddings"]:
            x = x * cfg["d_model"] ** -0.5
            return x @ self.P["shared.weight"].T, new
        return x @ self.P["lm_head.weight"].T, new

    def shift_right(self, labels):
        shifted = labels.new_zeros(labels.shape)
        shifted[..., 1:] = labels[..., :-1].clone()
        shifted[..., 0] = self.cfg["decoder_start_token_id"]
        return shifted.masked_fill(shifted == -100, self.cfg["pad_token_id"])

    def forward(self, ids, mask, labels):
        return self.decode(self.shift_right(labels), self.encode(ids, mask), mask)[0]


def base_config(**kw):
    c = {"model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "vocab_size": 61, "d_model": 32, "d_kv": 6,
         "d_ff": 48, "num_layers": 2, "num_decoder_layers": 3, "num_heads": 4, "relative_attention_num_buckets": 8,
         "relative_attention_max_distance": 20, "dropout_rate": 0.0, "layer_norm_epsilon": 1e-6, "initializer_factor": 1.0,
         "feed_forward_proj": "relu", "tie_word_embeddings": True, "is_encoder_decoder": True, "decoder_start_token_id": 0,
         "pad_token_id": 0, "eos_token_id": 1}
    c.update(kw)
    return c


def make_reference(name, cfg, seed):
    m = T5(cfg, seed)
    V = cfg["vocab_size"]
    ids = torch.randint(2, V, (B, S))
    mask = torch.ones(B, S, dtype=torch.long)
    mask[1, 6:] = 0                              # three padded source positions in the second sequence
    ids[1, 6:] = cfg["pad_token_id"]
    ids[:, 5] = cfg["eos_token_id"]; ids[0, -1] = cfg["eos_token_id"]
    labels = torch.randint(2, V, (B, T))
    labels[1, 5:] = -100                         # label padding, ignored by the loss and → pad in the shift
    labels[0, -1] = cfg["eos_token_id"]
    out = {f"w.{k}": v.detach().clone() for k, v in m.P.items()}
    logits = m.forward(ids, mask, labels)
    loss = F.cross_entropy(logits.view(-1, V), labels.view(-1), ignore_index=-100)
    loss.backward()
    out.update({f"g.{k}": (v.grad if v.grad is not None else torch.zeros_like(v)).detach().clone() for k, v in m.P.items()})
    for v in m.P.values():
        v.grad = None
    out["input_ids"], out["attention_mask"] = ids.to(torch.int32), mask.to(torch.int32)
    out["labels"], out["decoder_input_ids"] = labels.to(torch.int32), m.shift_right(labels).to(torch.int32)
    out["logits"], out["loss"] = logits.detach(), loss.detach().reshape(1)
    rel = torch.arange(-300, 301)
    out["relative_positions"] = rel.to(torch.int32)
    out["buckets_bidirectional"] = T5.bucket(rel, True, cfg["relative_attention_num_buckets"], cfg["relative_attention_max_distance"]).to(torch.int32)
    out["buckets_causal"] = T5.bucket(rel, False, cfg["relative_attention_num_buckets"], cfg["relative_attention_max_distance"]).to(torch.int32)
    # Weight decay on the projection matrices and lm_head; none on shared, norms and the position-bias tables.
    decays = lambda k, v: v.dim() == 2 and k != "shared.weight" and "relative_attention_bias" not in k
    out["step_losses"] = adamw_step_losses(m.P, lambda _: m.forward(ids, mask, labels), ids, labels, V, decays, lr=1e-3)
    save_safetensors(out, os.path.join(HERE, name), {"config": json.dumps(cfg), "batch": str(B), "source": str(S), "target": str(T), "lr": "1e-3"})
    print(name, "loss", loss.item(), "steps", [round(x, 4) for x in out["step_losses"].tolist()])
    return T5(cfg, seed)   # fresh weights (the AdamW steps changed these)


# ---- generation, as transformers' generate (v4.30) runs it for an encoder-decoder model ----

def no_repeat_ngram_banned(seq, n):
    """NoRepeatNGramLogitsProcessor: tokens that would complete an n-gram already in seq (decoder ids incl. start)."""
    cur = len(seq)
    if n <= 0 or cur + 1 < n:
        return []
    grams = {}
    for i in range(cur - n + 1):
        grams.setdefault(tuple(seq[i:i + n - 1]), []).append(seq[i + n - 1])
    return grams.get(tuple(seq[cur - n + 1:]), [])


def greedy(m, src, max_new, nrng=0):
    cfg = m.cfg
    ids = torch.tensor([src]); mask = torch.ones_like(ids)
    enc = m.encode(ids, mask)
    seq, past = [cfg["decoder_start_token_id"]], None
    for _ in range(max_new):
        logits, past = m.decode(torch.tensor([[seq[-1]]]), enc, mask, past)
        scores = logits[0, -1].clone()
        for t in no_repeat_ngram_banned(seq, nrng):
            scores[t] = -float("inf")
        tok = int(scores.argmax())
        seq.append(tok)
        if tok == cfg["eos_token_id"]:
            break
    return seq[1:]


def beam_search(m, src, max_new, num_beams, length_penalty, early_stopping, nrng):
    """generation/utils.py beam_search with BeamSearchScorer (batch 1, num_beam_hyps_to_keep 1)."""
    cfg = m.cfg
    eos, V = cfg["eos_token_id"], cfg["vocab_size"]
    ids = torch.tensor([src]); mask = torch.ones_like(ids)
    enc = m.encode(ids, mask).expand(num_beams, -1, -1)
    mask = mask.expand(num_beams, -1)
    max_length = max_new + 1                     # the decoder prompt is the start token
    input_ids = torch.full((num_beams, 1), cfg["decoder_start_token_id"])
    beam_scores = torch.zeros(num_beams); beam_scores[1:] = -1e9
    hyps, worst = [], 1e9                        # BeamHypotheses
    done = False

    def add(hyp, sum_logprobs):
        nonlocal worst
        score = sum_logprobs / (len(hyp) ** length_penalty)
        if len(hyps) < num_beams or score > worst:
            hyps.append((score, hyp))
            if len(hyps) > num_beams:
                order = sorted([(s, i) for i, (s, _) in enumerate(hyps)])
                del hyps[order[0][1]]
                worst = order[1][0]
            else:
                worst = min(score, worst)

    def is_done(best_sum, cur_len):
        if len(hyps) < num_beams:
            return False
        if early_stopping is True:
            return True
        if early_stopping is False:
            return worst >= best_sum / cur_len ** length_penalty
        denom = max_length if length_penalty > 0 else cur_len
        return worst >= best_sum / denom ** length_penalty

    past = None
    while True:
        cur_len = input_ids.shape[1]
        logits, past = m.decode(input_ids[:, -1:], enc, mask, past)
        scores = F.log_softmax(logits[:, -1], dim=-1)
        for r in range(num_beams):
            for t in no_repeat_ngram_banned(input_ids[r].tolist(), nrng):
                scores[r, t] = -float("inf")
        scores = scores + beam_scores[:, None]
        flat = scores.view(1, num_beams * V)
        top_scores, top_tokens = torch.topk(flat, 2 * num_beams, dim=1, largest=True, sorted=True)
        next_indices = torch.div(top_tokens, V, rounding_mode="floor")[0]
        next_tokens = (top_tokens % V)[0]
        top_scores = top_scores[0]
        nb_scores, nb_tokens, nb_idx = torch.zeros(num_beams), torch.zeros(num_beams, dtype=torch.long), torch.zeros(num_beams, dtype=torch.long)
        beam_idx = 0
        for rank, (tok, sc, ix) in enumerate(zip(next_tokens.tolist(), top_scores.tolist(), next_indices.tolist())):
            if tok == eos:
                if rank >= num_beams:
                    continue
                add(input_ids[ix].tolist(), sc)
            else:
                nb_scores[beam_idx], nb_tokens[beam_idx], nb_idx[beam_idx] = sc, tok, ix
                beam_idx += 1
            if beam_idx == num_beams:
                break
        done = done or is_done(top_scores.max().item(), cur_len)
        beam_scores = nb_scores
        input_ids = torch.cat([input_ids[nb_idx], nb_tokens[:, None]], dim=1)
        past = [(k[nb_idx], v[nb_idx]) for k, v in past]          # _reorder_cache
        if done or input_ids.shape[1] >= max_length:
            break
    if not done:                                                   # finalize: open beams join the hypotheses
        for r in range(num_beams):
            add(input_ids[r].tolist(), beam_scores[r].item())
    score, best = sorted(hyps, key=lambda x: x[0])[-1]
    ended = len(best) < max_length                                 # finalize appends eos when it fits
    return best[1:] + ([eos] if ended else []), score


def warped(logits, temperature, top_k, top_p):
    """TemperatureLogitsWarper → TopKLogitsWarper → TopPLogitsWarper, then softmax."""
    s = logits / temperature
    if top_k > 0:
        kth = torch.topk(s, top_k)[0][..., -1, None]
        s = s.masked_fill(s < kth, -float("inf"))
    if top_p < 1.0:
        sorted_logits, sorted_idx = torch.sort(s, descending=False)
        cum = sorted_logits.softmax(-1).cumsum(-1)
        remove = cum <= (1 - top_p)
        remove[..., -1:] = 0
        s = s.masked_fill(remove.scatter(-1, sorted_idx, remove), -float("inf"))
    return s.softmax(-1)


def make_generation(models):
    out, meta, cases = {}, {}, []
    sources = [[5, 17, 23, 9, 40, 1], [33, 12, 12, 7, 58, 21, 3, 44, 19, 1]]
    MAX_NEW = 12
    beam_settings = [(4, 1.0, False, 0), (3, 0.6, True, 2), (4, 2.0, "never", 0), (2, -0.5, False, 3), (5, 1.0, False, 2)]
    for mname, m in models.items():
        for si, src in enumerate(sources):
            out[f"source.{si}"] = torch.tensor(src, dtype=torch.int32)
            g = greedy(m, src, MAX_NEW)
            out[f"{mname}.greedy.{si}"] = torch.tensor(g, dtype=torch.int32)
            out[f"{mname}.greedy_nrng2.{si}"] = torch.tensor(greedy(m, src, MAX_NEW, 2), dtype=torch.int32)
            for bi, (nb, lp, es, nr) in enumerate(beam_settings):
                seq, score = beam_search(m, src, MAX_NEW, nb, lp, es, nr)
                out[f"{mname}.beam{bi}.{si}"] = torch.tensor(seq, dtype=torch.int32)
                out[f"{mname}.beam{bi}.{si}.score"] = torch.tensor([score], dtype=torch.float32)
                cases.append((mname, si, bi, seq))
            # Sampling: the distribution each step draws from, along the greedy prefix (teacher-forced).
            ids = torch.tensor([src]); mask = torch.ones_like(ids)
            prefix = [m.cfg["decoder_start_token_id"]] + g
            logits = m.decode(torch.tensor([prefix]), m.encode(ids, mask), mask)[0][0]
            out[f"{mname}.sample_prefix.{si}"] = torch.tensor(prefix, dtype=torch.int32)
            out[f"{mname}.sample_probs.{si}"] = warped(logits, 0.7, 10, 0.9).detach()
    meta["beam_settings"] = json.dumps([[nb, lp, es if isinstance(es, bool) else es, nr] for nb, lp, es, nr in beam_settings])
    meta["max_new_tokens"] = str(MAX_NEW)
    meta["sampling"] = json.dumps({"temperature": 0.7, "top_k": 10, "top_p": 0.9})
    save_safetensors({k: v.detach().contiguous() for k, v in out.items()}, os.path.join(HERE, "t5_generate.safetensors"), meta)
    for c in cases:
        print("beam", c)
    for k in out:
        if ".greedy" in k:
            print(k, out[k].tolist())


v10 = make_reference("t5_tiny_v10.safetensors", base_config(), 1812)
v11 = make_reference("t5_tiny_v11.safetensors", base_config(feed_forward_proj="gated-gelu", tie_word_embeddings=False, num_decoder_layers=2, d_kv=8), 1813)
with torch.no_grad():
    make_generation({"v10": v10, "v11": v11})


# ---- a tiny T5 directory for the CLI tests (tests/Loom.Cli.Tests/Fixtures/t5_tiny) ----
# Hugging Face's layout: config.json, model.safetensors (HF names) and spiece.model, a 100-piece
# Unigram SentencePiece model trained on the first 60,000 characters of the shipped tiny Shakespeare
# with T5's special ids (pad 0, </s> 1, <unk> 2, no <s>). Random FLAN-T5-shaped weights (gated GELU,
# untied head): the CLI tests check plumbing — T5Tokenizer's ids then </s>, decoding from
# decoder_start_token_id until </s>, printing without pad/</s> — against expected.json, which this
# torch implementation and python-sentencepiece produce.
def make_cli_directory():
    import sentencepiece as spm
    root = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
    out_dir = os.path.join(root, "tests", "Loom.Cli.Tests", "Fixtures", "t5_tiny")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(root, "data", "tinyshakespeare", "input.txt"), encoding="utf-8") as f:
        text = f.read(60000)
    corpus = os.path.join(out_dir, "corpus.tmp")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write(text)
    spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(out_dir, "spiece"), vocab_size=100, model_type="unigram",
                                   pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, num_threads=1, seed_sentencepiece_size=5000,
                                   minloglevel=2)
    os.remove(corpus)
    os.remove(os.path.join(out_dir, "spiece.vocab"))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(out_dir, "spiece.model"))
    cfg = base_config(vocab_size=sp.get_piece_size(), d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
                      feed_forward_proj="gated-gelu", tie_word_embeddings=False, relative_attention_num_buckets=32,
                      relative_attention_max_distance=128, dropout_rate=0.1)
    m = T5(cfg, 1814)
    save_safetensors({k: v.detach() for k, v in m.P.items()}, os.path.join(out_dir, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    expected = []
    for prompt in ["To be, or not to be", "First Citizen: speak."]:
        ids = sp.encode(prompt) + [cfg["eos_token_id"]]           # T5Tokenizer: ids then </s>
        g = greedy(m, ids, 16)
        b, _ = beam_search(m, ids, 16, 3, 1.0, False, 2)
        strip = lambda s: [t for t in s if t not in (cfg["eos_token_id"], cfg["pad_token_id"])]
        expected.append({"prompt": prompt, "input_ids": ids, "greedy_ids": g, "greedy_text": sp.decode(strip(g)),
                         "beam3_nrng2_ids": b, "beam3_nrng2_text": sp.decode(strip(b))})
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
    print("cli directory", out_dir, expected)


with torch.no_grad():
    make_cli_directory()
