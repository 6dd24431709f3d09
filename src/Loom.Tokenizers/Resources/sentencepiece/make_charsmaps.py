#!/usr/bin/python3
"""Extracts sentencepiece's built-in normalization rules (precompiled charsmaps) so Loom's trainer can write
models with them, as spm_train --normalization_rule_name=... does. Run with Debian's python3-sentencepiece:
    /usr/bin/python3 make_charsmaps.py
Writes <rule>.charsmap.gz: NormalizerSpec.precompiled_charsmap of a throwaway model trained with that rule
(sentencepiece 0.1.97, Apache-2.0; the tables derive from Unicode's NFKC data).
"""
import gzip
import io
import os

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = ["the quick brown fox jumps over the lazy dog"] * 50


def charsmap(model):
    def varint(b, i):
        r = s = 0
        while True:
            c = b[i]; i += 1; r |= (c & 0x7F) << s; s += 7
            if c < 0x80:
                return r, i

    def fields(b):
        i = 0
        while i < len(b):
            k, i = varint(b, i)
            f, wt = k >> 3, k & 7
            if wt == 0:
                v, i = varint(b, i)
            elif wt == 5:
                v, i = b[i:i + 4], i + 4
            elif wt == 1:
                v, i = b[i:i + 8], i + 8
            else:
                n, i = varint(b, i)
                v, i = b[i:i + n], i + n
            yield f, v

    for f, v in fields(model):
        if f == 3:
            for g, w in fields(v):
                if g == 2:
                    return bytes(w)
    raise SystemExit("no charsmap")


for rule in ["nmt_nfkc"]:  # the default rule; others can be added here (~140 KB each)
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(TEXT), model_writer=out, vocab_size=30,
                                   normalization_rule_name=rule, minloglevel=2)
    data = charsmap(out.getvalue())
    with open(os.path.join(HERE, rule + ".charsmap.gz"), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as z:
            z.write(data)
    print(rule, len(data), "bytes")
