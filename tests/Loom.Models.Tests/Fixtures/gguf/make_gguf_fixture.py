#!/usr/bin/env python3
"""Tiny GGUF fixtures written by llama.cpp's own gguf-py, with the conventions of its converter.

Run (from the repo root; needs numpy, e.g. Debian's /usr/bin/python3, and a llama.cpp tree's gguf-py,
the snapshot c392e509 that ../shared/anchors/build-llamacpp.sh extracts):

    /usr/bin/python3 tests/Loom.Models.Tests/Fixtures/gguf/make_gguf_fixture.py --gguf-py /tmp/anchors/llama.cpp/gguf-py

Writes, next to this script:
  gpt2_tiny/         a Hugging Face GPT-2 directory: config.json, model.safetensors (Conv1D layout), vocab.json, merges.txt
  gpt2_tiny.gguf     the same model as convert_hf_to_gguf.py --outtype f32 writes it (GPT2Model.modify_tensors:
                     Conv1D weights transposed, the tied head also written as output.weight; _set_vocab_gpt2:
                     tokenizer.ggml.model "gpt2", pre "gpt-2", tokens, token_type, merges, bos/eos)
  gpt2_tiny_f16.gguf the same with --outtype f16 (2-D weights F16; 1-D tensors, norms and position_embd F32)
  gpt2_tiny_q8_0.gguf the same with --outtype q8_0 (gguf-py's reference Q8_0 quantizer, gguf.quants.quantize)
  llama_tiny/        a Hugging Face Llama directory (config.json, model.safetensors, vocab.json, merges.txt)
  llama_tiny.gguf    the same as convert_hf_to_gguf.py writes it (LlamaModel.permute on q_proj/k_proj)

The tokenizer is a byte-level BPE learned here from one sentence (GPT-2's byte-to-unicode alphabet, 256
byte tokens in that alphabet's order, merges by pair count), plus <|endoftext|>. Weights ~ N(0, 0.2) from a
fixed seed, so the files are deterministic.
"""
import argparse, json, os, struct, sys, types
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def import_gguf(path):
    sys.path.insert(0, path)
    try:
        import sentencepiece  # noqa: F401
    except ImportError:  # gguf.vocab imports it; nothing here uses it
        stub = types.ModuleType("sentencepiece")
        stub.SentencePieceProcessor = None
        sys.modules["sentencepiece"] = stub
    import gguf
    return gguf


def bytes_to_unicode():  # openai/gpt-2 encoder.py
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def learn_bpe(text, n_merges):
    b2u = bytes_to_unicode()
    order = sorted(b2u, key=lambda b: list(b2u).index(b))
    vocab = [b2u[b] for b in list(b2u)]          # 256 byte tokens, in the alphabet's order (as GPT-2's ids 0..255)
    import re
    words = [[b2u[b] for b in w.encode()] for w in re.findall(r" ?\w+| ?[^\s\w]+|\s+", text)]
    merges = []
    for _ in range(n_merges):
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        best = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        vocab.append(best[0] + best[1])
        new_words = []
        for w in words:
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1]); i += 2
                else:
                    out.append(w[i]); i += 1
            new_words.append(out)
        words = new_words
    vocab.append("<|endoftext|>")
    return vocab, merges


def save_safetensors(tensors, path):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype=np.float32).tobytes()
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


def write_hf_dir(d, config, tensors, vocab, merges):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    save_safetensors(tensors, os.path.join(d, "model.safetensors"))
    with open(os.path.join(d, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(d, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))


def add_vocab(w, gguf, vocab, merges):
    eot = vocab.index("<|endoftext|>")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(vocab)
    w.add_token_types([gguf.TokenType.CONTROL if t == "<|endoftext|>" else gguf.TokenType.NORMAL for t in vocab])
    w.add_token_merges([f"{a} {b}" for a, b in merges])
    w.add_bos_token_id(eot)
    w.add_eos_token_id(eot)


def write_gguf(gguf, path, arch, params, tensors, vocab, merges, outtype):
    ftype = {"f32": 0, "f16": 1, "q8_0": 7}[outtype]
    w = gguf.GGUFWriter(path, arch)
    w.add_name(os.path.splitext(os.path.basename(path))[0])
    params(w)
    w.add_file_type(ftype)
    add_vocab(w, gguf, vocab, merges)
    for name, data in tensors:
        # convert_hf_to_gguf.py prepare_tensors: 1-D and norms F32, position_embd F32, else the outtype
        if data.ndim <= 1 or name.endswith("_norm.weight") or name == "position_embd.weight" or outtype == "f32":
            w.add_tensor(name, data.astype(np.float32))
        elif outtype == "f16":
            w.add_tensor(name, data.astype(np.float16))
        else:
            q = gguf.quants.quantize(data.astype(np.float32), gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf-py", default="/tmp/anchors/llama.cpp/gguf-py")
    a = ap.parse_args()
    gguf = import_gguf(a.gguf_py)
    rng = np.random.default_rng(20261202)
    vocab, merges = learn_bpe("to be or not to be, that is the question: whether tis nobler in the mind to suffer " * 3, 40)
    V = len(vocab)

    # GPT-2 (transformers GPT2LMHeadModel names and Conv1D (in, out) layout)
    C, L, H, T = 32, 2, 2, 32
    n = lambda *s: (rng.standard_normal(s) * 0.2).astype(np.float32)
    hf = {"wte.weight": n(V, C), "wpe.weight": n(T, C), "ln_f.weight": 1 + n(C), "ln_f.bias": n(C)}
    for l in range(L):
        p = f"h.{l}."
        hf.update({p + "ln_1.weight": 1 + n(C), p + "ln_1.bias": n(C), p + "attn.c_attn.weight": n(C, 3 * C), p + "attn.c_attn.bias": n(3 * C),
                   p + "attn.c_proj.weight": n(C, C), p + "attn.c_proj.bias": n(C), p + "ln_2.weight": 1 + n(C), p + "ln_2.bias": n(C),
                   p + "mlp.c_fc.weight": n(C, 4 * C), p + "mlp.c_fc.bias": n(4 * C), p + "mlp.c_proj.weight": n(4 * C, C), p + "mlp.c_proj.bias": n(C)})
    write_hf_dir(os.path.join(HERE, "gpt2_tiny"), {"model_type": "gpt2", "vocab_size": V, "n_positions": T, "n_embd": C, "n_layer": L, "n_head": H,
                 "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "tie_word_embeddings": True}, hf, vocab, merges)
    # GPT2Model.modify_tensors + the tensor map (gguf-py tensor_mapping.py), in HF's state-dict order
    g = [("token_embd.weight", hf["wte.weight"]), ("output.weight", hf["wte.weight"]), ("position_embd.weight", hf["wpe.weight"])]
    for l in range(L):
        p, b = f"h.{l}.", f"blk.{l}."
        g += [(b + "attn_norm.weight", hf[p + "ln_1.weight"]), (b + "attn_norm.bias", hf[p + "ln_1.bias"]),
              (b + "attn_qkv.weight", hf[p + "attn.c_attn.weight"].T.copy()), (b + "attn_qkv.bias", hf[p + "attn.c_attn.bias"]),
              (b + "attn_output.weight", hf[p + "attn.c_proj.weight"].T.copy()), (b + "attn_output.bias", hf[p + "attn.c_proj.bias"]),
              (b + "ffn_norm.weight", hf[p + "ln_2.weight"]), (b + "ffn_norm.bias", hf[p + "ln_2.bias"]),
              (b + "ffn_up.weight", hf[p + "mlp.c_fc.weight"].T.copy()), (b + "ffn_up.bias", hf[p + "mlp.c_fc.bias"]),
              (b + "ffn_down.weight", hf[p + "mlp.c_proj.weight"].T.copy()), (b + "ffn_down.bias", hf[p + "mlp.c_proj.bias"])]
    g += [("output_norm.weight", hf["ln_f.weight"]), ("output_norm.bias", hf["ln_f.bias"])]

    def gpt2_params(w):  # GPT2Model.set_gguf_parameters
        w.add_block_count(L); w.add_context_length(T); w.add_embedding_length(C); w.add_feed_forward_length(4 * C)
        w.add_head_count(H); w.add_layer_norm_eps(1e-5)
    for outtype, suffix in (("f32", ""), ("f16", "_f16"), ("q8_0", "_q8_0")):
        write_gguf(gguf, os.path.join(HERE, f"gpt2_tiny{suffix}.gguf"), "gpt2", gpt2_params, g, vocab, merges, outtype)

    # Llama (transformers LlamaForCausalLM names), GQA: 4 heads, 2 kv heads, head_dim 8
    C, I, L, H, KV, T = 32, 64, 1, 4, 2, 64
    D = C // H
    hf = {"model.embed_tokens.weight": n(V, C), "model.norm.weight": 1 + n(C), "lm_head.weight": n(V, C)}
    for l in range(L):
        p = f"model.layers.{l}."
        hf.update({p + "input_layernorm.weight": 1 + n(C), p + "self_attn.q_proj.weight": n(H * D, C), p + "self_attn.k_proj.weight": n(KV * D, C),
                   p + "self_attn.v_proj.weight": n(KV * D, C), p + "self_attn.o_proj.weight": n(C, H * D), p + "post_attention_layernorm.weight": 1 + n(C),
                   p + "mlp.gate_proj.weight": n(I, C), p + "mlp.up_proj.weight": n(I, C), p + "mlp.down_proj.weight": n(C, I)})
    write_hf_dir(os.path.join(HERE, "llama_tiny"), {"model_type": "llama", "vocab_size": V, "hidden_size": C, "intermediate_size": I,
                 "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": KV, "max_position_embeddings": T,
                 "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False, "hidden_act": "silu"}, hf, vocab, merges)

    def permute(weights, n_head, n_head_kv):  # convert_hf_to_gguf.py LlamaModel.permute, verbatim in numpy
        if n_head_kv is not None and n_head != n_head_kv:
            n_head = n_head_kv
        return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape))
    g = [("token_embd.weight", hf["model.embed_tokens.weight"])]
    for l in range(L):
        p, b = f"model.layers.{l}.", f"blk.{l}."
        g += [(b + "attn_norm.weight", hf[p + "input_layernorm.weight"]),
              (b + "attn_q.weight", permute(hf[p + "self_attn.q_proj.weight"], H, H)),
              (b + "attn_k.weight", permute(hf[p + "self_attn.k_proj.weight"], H, KV)),
              (b + "attn_v.weight", hf[p + "self_attn.v_proj.weight"]), (b + "attn_output.weight", hf[p + "self_attn.o_proj.weight"]),
              (b + "ffn_norm.weight", hf[p + "post_attention_layernorm.weight"]),
              (b + "ffn_gate.weight", hf[p + "mlp.gate_proj.weight"]), (b + "ffn_up.weight", hf[p + "mlp.up_proj.weight"]),
              (b + "ffn_down.weight", hf[p + "mlp.down_proj.weight"])]
    g += [("output_norm.weight", hf["model.norm.weight"]), ("output.weight", hf["lm_head.weight"])]

    def llama_params(w):  # Model.set_gguf_parameters + LlamaModel.set_gguf_parameters
        w.add_block_count(L); w.add_context_length(T); w.add_embedding_length(C); w.add_feed_forward_length(I)
        w.add_head_count(H); w.add_head_count_kv(KV); w.add_rope_freq_base(10000.0); w.add_layer_norm_rms_eps(1e-5)
        w.add_vocab_size(V); w.add_rope_dimension_count(D)
    write_gguf(gguf, os.path.join(HERE, "llama_tiny.gguf"), "llama", llama_params, g, vocab, merges, "f32")
    print("wrote fixtures to", HERE, "vocab", V)


if __name__ == "__main__":
    main()
