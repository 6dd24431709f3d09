#!/usr/bin/python3
"""tiny_pairs.jsonl: a tiny synthetic text-to-text set for the seq2seq training tests (a copy task:
"copy: w1 w2 w3" -> "w1 w2 w3" and a reverse task, over a fixed list of common English words), seeded.
t5style.model.gz is a copy of tests/Loom.Tokenizers.Tests/Fixtures/sentencepiece/t5style.model.gz (made by
make_fixtures.py there: a 2000-piece unigram SentencePiece model with T5's pad 0, </s> 1, <unk> 2).
Run: /usr/bin/python3 make_tiny_pairs.py"""
import json
import os
import random

WORDS = "the cat dog sat ran on a mat big small red blue green house tree car book sun moon sea".split()
rng = random.Random(18)
rows = []
for i in range(48):
    words = [rng.choice(WORDS) for _ in range(rng.randint(2, 6))]
    if i % 2 == 0:
        rows.append({"source": "copy: " + " ".join(words), "target": " ".join(words)})
    else:
        rows.append({"source": "reverse: " + " ".join(words), "target": " ".join(reversed(words))})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_pairs.jsonl"), "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
