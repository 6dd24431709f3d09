"""Makes the shipped SMS spam sample from the SMS Spam Collection v.1 (../shared/data/sms_spam).

A balanced, seeded sample: 250 spam + 250 ham messages for training and 60 + 60 for validation,
written as JSONL {"text": ..., "label": "spam" | "ham"}. Run from the repository root:

    /usr/bin/python3 data/samples/sms_spam/make_sample.py
"""
import json
import os
import random

SOURCE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data", "sms_spam", "SMSSpamCollection")
OUT = os.path.dirname(os.path.abspath(__file__))

rows = {"ham": [], "spam": []}
with open(SOURCE, encoding="utf-8") as f:
    for line in f:
        label, text = line.rstrip("\n").split("\t", 1)
        if text.strip():
            rows[label].append(text)

rng = random.Random(20111)
for label in rows:
    rng.shuffle(rows[label])

def write(name, n):
    items = [(t, l) for l in ("ham", "spam") for t in rows[l][:n]]
    for l in ("ham", "spam"):
        del rows[l][:n]
    rng.shuffle(items)
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        for text, label in items:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")

write("train.jsonl", 250)
write("validation.jsonl", 60)
