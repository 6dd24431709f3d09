"""Makes the moderation data: a stratified train/test split of the Davidson et al. (2017) tweets and the
small shipped sample the tests read. WARNING: the text is offensive (that is its purpose).

Reads ../shared/data/moderation/davidson_labeled_data.csv (MIT) and ldnoobw_en.txt (CC BY 4.0). Writes:
  runs/moderation/train.jsonl          90% of each class (22,305 tweets), {"text", "label", "row"}
  runs/moderation/test.jsonl           the other 10% (2,478 tweets: 143 hate, 1,919 offensive, 416 neither): the held-out split docs/SAFETY.md reports on
  runs/moderation/train_ldnoobw.jsonl  train.jsonl plus one "offensive" record per LDNOOBW entry (403), the extra
                                       training signal of examples/moderation/finetune.yaml
  runs/moderation/text.txt             the training tweets and LDNOOBW entries, one per line (tokenizer training)
  data/samples/moderation/train.jsonl  100 hate + 100 offensive + 100 neither tweets from the train split
  data/samples/moderation/test.jsonl   30 + 30 + 30 tweets from the test split
Labels: class 0 -> "hate", 1 -> "offensive", 2 -> "neither" (the annotators' majority). HTML entities of the
raw tweets (&amp;, &#128514;) are decoded; nothing else is changed. Run from the repository root:

    /usr/bin/python3 data/samples/moderation/make_split.py
"""
import csv
import html
import json
import os
import random

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SOURCE = os.path.join(ROOT, "..", "shared", "data", "moderation")
RUNS = os.path.join(ROOT, "runs", "moderation")
SAMPLE = os.path.dirname(os.path.abspath(__file__))
NAMES = {"0": "hate", "1": "offensive", "2": "neither"}

rows = {name: [] for name in NAMES.values()}
with open(os.path.join(SOURCE, "davidson_labeled_data.csv"), encoding="utf-8", newline="") as f:
    for rec in csv.DictReader(f):
        rows[NAMES[rec["class"]]].append({"text": html.unescape(rec["tweet"]), "label": NAMES[rec["class"]], "row": int(rec[""])})
assert sum(len(v) for v in rows.values()) == 24783, "expected the 24,783 tweets of the Davidson set"

rng = random.Random(17)
train, test = [], []
for name in NAMES.values():
    items = rows[name][:]
    rng.shuffle(items)
    n_test = round(len(items) * 0.1)
    test += [(name, r) for r in items[:n_test]]
    train += [(name, r) for r in items[n_test:]]
rng.shuffle(train)
rng.shuffle(test)

with open(os.path.join(SOURCE, "ldnoobw_en.txt"), encoding="utf-8") as f:
    lexicon = [w.strip() for w in f if w.strip()]

def write(path, records):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

write(os.path.join(RUNS, "train.jsonl"), [r for _, r in train])
write(os.path.join(RUNS, "test.jsonl"), [r for _, r in test])
extra = [{"text": w, "label": "offensive", "row": -1, "source": "ldnoobw"} for w in lexicon]
mixed = [r for _, r in train] + extra
rng.shuffle(mixed)
write(os.path.join(RUNS, "train_ldnoobw.jsonl"), mixed)
with open(os.path.join(RUNS, "text.txt"), "w", encoding="utf-8") as f:
    for r in mixed:
        f.write(r["text"].replace("\n", " ") + "\n")

def sample(split, per_class):
    out = []
    for name in NAMES.values():
        out += [r for n, r in split if n == name][:per_class]
    rng.shuffle(out)
    return out

write(os.path.join(SAMPLE, "train.jsonl"), sample(train, 100))
write(os.path.join(SAMPLE, "test.jsonl"), sample(test, 30))
print(f"train {len(train)} (+{len(extra)} LDNOOBW), test {len(test)}:",
      {n: sum(1 for m, _ in test if m == n) for n in NAMES.values()})
