#!/usr/bin/python3
"""Makes the SentencePiece conformance fixtures with the reference implementation.

Run from this folder with Debian's python3-sentencepiece (0.1.97):
    /usr/bin/python3 make_fixtures.py
then, for the tokenizer.json fixture, HF's Rust tokenizers through its Node binding:
    (cd ../../../../bench/node-hf && npm install) && node make_hf_unigram.mjs

Writes:
  <name>.model.gz     models trained by sentencepiece.SentencePieceTrainer on data/tinyshakespeare/input.txt
                      (public domain) plus corpus_extra.txt (written for this fixture, public domain)
  <name>.jsonl.gz     for every line of sentences.jsonl: {"text", "ids": sp.encode(text),
                      "decoded": sp.decode(ids)}
  sentences.jsonl     the test sentences (several hundred: ASCII, punctuation, runs of spaces, tabs/newlines,
                      NFKC cases, accents, CJK, emoji, scripts the models never saw, <extra_id_N> sentinels)
  t5_tokenizer.json.gz the t5style model converted to a tokenizer.json the way transformers' T5Converter
                      (SpmConverter) does: Precompiled normalizer, Metaspace, Unigram with scores, </s> template
  custom_rules.tsv    the user's normalization rules of the custom_rules model
Tests never run Python; they compare Loom's ids and decodes with these files.
"""
import json
import os
import random
import struct

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
CORPUS = os.path.join(REPO, "data", "tinyshakespeare", "input.txt")
EXTRA = os.path.join(HERE, "corpus_extra.txt")

# A few lines in other scripts so the models hold accents, CJK and full-width forms (still rare: coverage 0.9995
# leaves some of them out, which is what the unknown/byte-fallback paths need).
EXTRA_LINES = [
    "Café, naïve, résumé, déjà vu, Zürich, São Paulo, Ångström, façade, coöperate.",
    "東京は日本の首都です。京都も古い都です。",
    "北京是中国的首都。上海是一个大城市。",
    "Привет, мир! Как дела?",
    "Γειά σου κόσμε.",
    "The ﬁrst ﬂoor, ① ② ③, ｆｕｌｌ ｗｉｄｔｈ, ﾃｽﾄ.",
] * 20

SENTINELS = [f"<extra_id_{i}>" for i in range(100)]

MODELS = {
    # name: trainer keyword arguments
    "unigram_nfkc": dict(model_type="unigram", vocab_size=2000),
    # The nmt_nfkc charsmap is ~240 KB per model, so only unigram_nfkc and t5style carry it; the others use
    # identity (as Llama's BPE tokenizer.model does) or small custom rules, to keep the fixtures under 1 MB.
    "unigram_bytes": dict(model_type="unigram", vocab_size=2000, byte_fallback=True,
                          normalization_rule_name="identity"),
    "bpe": dict(model_type="bpe", vocab_size=2000, normalization_rule_name="identity"),
    "bpe_bytes": dict(model_type="bpe", vocab_size=2000, byte_fallback=True, normalization_rule_name="identity"),
    # T5's spiece.model layout: pad 0, </s> 1, <unk> 2, no <s>; sentinels as user-defined pieces.
    "t5style": dict(model_type="unigram", vocab_size=2000, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                    user_defined_symbols=SENTINELS),
    "identity": dict(model_type="unigram", vocab_size=1500, normalization_rule_name="identity"),
    "custom_rules": dict(model_type="unigram", vocab_size=1500,
                         normalization_rule_tsv=os.path.join(HERE, "custom_rules.tsv")),
    # No dummy prefix, whitespace kept as is.
    "no_dummy_prefix": dict(model_type="bpe", vocab_size=1500, add_dummy_prefix=False,
                            remove_extra_whitespaces=False, normalization_rule_name="identity"),
}

# Custom rules (sentencepiece's TSV: source code points <TAB> target code points, hex): fold a few letters,
# expand a ligature, map a circled digit, and turn tabs into spaces.
CUSTOM_RULES = [
    ("41", "61"), ("42", "62"), ("43", "63"),       # A B C -> a b c
    ("FB01", "66 69"),                               # ﬁ -> fi
    ("2460", "31"),                                  # ① -> 1
    ("9", "20"),                                     # tab -> space
    ("20 20", "20"),                                 # two spaces -> one (longest match wins)
    ("65 20 65", "45"),                              # "e e" -> "E": a multi-character source
]


def sentences():
    rnd = random.Random(18)
    with open(CORPUS, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    picked = [lines[i] for i in range(0, len(lines), max(1, len(lines) // 150))][:150]
    hand = [
        "", " ", "   ", "\t", "\n", "a", "hello world", "Hello World!", "  leading spaces", "trailing spaces   ",
        "multiple    spaces   inside", "tabs\tand\nnewlines\r\nmixed", " \t mixed \n whitespace \t ",
        "punctuation: ,.;:!?'\"()[]{}<>-_=+*&^%$#@~`|\\/", "numbers 0123456789 3.14159 1,000,000 2026-12-02",
        "ＦＵＬＬ ｗｉｄｔｈ ａｂｃ １２３", "ﾃｽﾄ ｶﾀｶﾅ", "① ② ⑩ ⑳", "ﬁnance ﬂow ﬀ ﬃ", "㍿ ㌔ ℡ ™ ½ ¼ ²³",
        "café naïve résumé Zürich", "e\u0301 combining acute, a\u0308 combining diaeresis", "Å Å Å (three forms)",
        "東京は日本の首都です。", "北京是中国的首都。", "한국어 텍스트", "Привет, мир!", "Γειά σου κόσμε",
        "emoji 😀 👍🏽 👨‍👩‍👧 🇯🇵", "ግዕዝ ፊደል", "ᚠᚢᚦᚨᚱᚲ runes", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 fraktur", "𓀀𓀁𓀂 hieroglyphs", "ꦗꦮ Javanese",
        "<extra_id_0>", "The <extra_id_0> walks in <extra_id_1> park", "<extra_id_0><extra_id_1><extra_id_99>",
        "x<extra_id_5>y", " <extra_id_7> ", "<extra_id_100> is not a sentinel", "<extra_id_", "extra_id_3",
        "<s> and </s> and <unk> and <pad> as text", "▁ the block character itself ▁▁", "zero\u200bwidth space",
        "non\u00a0breaking space", "ideographic\u3000space", "soft\u00adhyphen", "\u2028line separator",
        "ALL CAPS SHOUTING", "MiXeD CaSe", "a" * 60, "ab" * 40, "supercalifragilisticexpialidocious",
        "e e e e", "ABC abc AbC", "First Citizen:\nBefore we proceed any further, hear me speak.",
        "O Romeo, Romeo! wherefore art thou Romeo?", "What's done cannot be undone.", "I'll, you'd, we're, can't",
        "http://example.com/path?q=1&r=2", "email@example.com", "C# and .NET 10", "snake_case and camelCase",
    ]
    frags = [
        "the", "king", "KING", " ", "  ", "\t", "\n", ",", ".", "!", "?", "'", "café", "東京", "😀", "①", "ﬁ",
        "ｆｕｌｌ", "ﾃｽﾄ", "<extra_id_3>", "<extra_id_42>", "ᚠᚢ", "𝔘", "Ω", "ё", "1234", "thou", "dost", "hath",
        "▁", "e e", "ABC", "\u00a0", "naïve", "北京", "🇯🇵",
    ]
    gen = []
    for _ in range(180):
        n = rnd.randint(1, 12)
        gen.append("".join(rnd.choice(frags) + (" " if rnd.random() < 0.6 else "") for _ in range(n)))
    return picked + hand + gen


def read_proto(data):
    """Just enough protobuf to pull out ModelProto.normalizer_spec.precompiled_charsmap (field 3 → 2)."""
    def fields(buf):
        i = 0
        while i < len(buf):
            key, i = varint(buf, i)
            f, wt = key >> 3, key & 7
            if wt == 0:
                v, i = varint(buf, i)
            elif wt == 1:
                v, i = buf[i:i + 8], i + 8
            elif wt == 5:
                v, i = buf[i:i + 4], i + 4
            elif wt == 2:
                n, i = varint(buf, i)
                v, i = buf[i:i + n], i + n
            else:
                raise ValueError(wt)
            yield f, v

    def varint(buf, i):
        r = s = 0
        while True:
            b = buf[i]
            i += 1
            r |= (b & 0x7F) << s
            s += 7
            if b < 0x80:
                return r, i

    for f, v in fields(data):
        if f == 3:
            for g, w in fields(v):
                if g == 2:
                    return bytes(w)
    return b""


def t5_tokenizer_json(model_path):
    """transformers' convert_slow_tokenizer.T5Converter, written out by hand (transformers is not installed)."""
    import gzip
    proto = gzip.open(model_path + ".gz", "rb").read()
    sp = spm.SentencePieceProcessor(model_proto=proto)
    vocab = [[sp.id_to_piece(i), sp.get_score(i)] for i in range(sp.get_piece_size())]
    charsmap = read_proto(proto)
    import base64
    added = []
    for i in range(sp.get_piece_size()):
        if sp.is_control(i) or sp.is_unknown(i):
            added.append({"id": i, "content": sp.id_to_piece(i), "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True})
    # HF's T5Tokenizer adds the sentinels as special added tokens (they are matched whole before the model runs).
    for s in SENTINELS:
        added.append({"id": sp.piece_to_id(s), "content": s, "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True})
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode()},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [sp.piece_to_id("</s>")], "tokens": ["</s>"]}},
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": sp.unk_id(), "vocab": vocab, "byte_fallback": False},
    }


def gzip_file(path):
    """Fixtures are stored gzip-compressed (mtime 0, so reruns give the same bytes); the tests read them so."""
    import gzip
    with open(path, "rb") as f, open(path + ".gz", "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as z:
            z.write(f.read())
    os.remove(path)


def main():
    with open(EXTRA, "w", encoding="utf-8") as f:
        f.write("\n".join(EXTRA_LINES) + "\n")
    with open(os.path.join(HERE, "custom_rules.tsv"), "w", encoding="utf-8") as f:
        for src, dst in CUSTOM_RULES:
            f.write(f"{src}\t{dst}\n")
    texts = sentences()
    with open(os.path.join(HERE, "sentences.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    for name, kw in MODELS.items():
        spm.SentencePieceTrainer.train(input=[CORPUS, EXTRA], model_prefix=os.path.join(HERE, name),
                                       num_threads=1, seed_sentencepiece_size=100000, minloglevel=2, **kw)
        os.remove(os.path.join(HERE, name + ".vocab"))
        sp = spm.SentencePieceProcessor(model_file=os.path.join(HERE, name + ".model"))
        with open(os.path.join(HERE, name + ".jsonl"), "w", encoding="utf-8") as f:
            for t in texts:
                ids = sp.encode(t)
                f.write(json.dumps({"text": t, "ids": ids, "decoded": sp.decode(ids)}, ensure_ascii=False) + "\n")
        gzip_file(os.path.join(HERE, name + ".model"))
        gzip_file(os.path.join(HERE, name + ".jsonl"))
    with open(os.path.join(HERE, "t5_tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(t5_tokenizer_json(os.path.join(HERE, "t5style.model")), f, ensure_ascii=False)
    gzip_file(os.path.join(HERE, "t5_tokenizer.json"))
    print("sentencepiece", spm.__version__, len(texts), "sentences")


if __name__ == "__main__":
    main()
