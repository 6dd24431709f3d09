#!/usr/bin/python3
# Makes the data of the shipped harness tasks from ../shared/data (seeded, so a rerun gives the same
# files). Run from the repository root:  /usr/bin/python3 data/tasks/make_task_samples.py
#   gsm8k/       200 test + 100 train problems of GSM8K (MIT, OpenAI), verbatim lines
#   squad2/      200 questions (about half unanswerable) of the SQuAD 2.0 dev subset (CC BY-SA 4.0),
#                flattened to {id, title, context, question, answers: [texts]}
#   lambada_wikitext2/  300 LAMBADA-style items from WikiText-2 validation (CC BY-SA 3.0): a passage
#                (at most 80 words, at least 20, no <unk> in it) ending in a sentence whose last word, alphabetic and
#                at least 3 letters, is the target; the context stops before that word
import json, os, random, re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/data"
OUT = os.path.join(ROOT, "data", "tasks")
rng = random.Random(20261202)

def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

# GSM8K
def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]
test = read_jsonl(os.path.join(SHARED, "gsm8k", "test.jsonl"))
train = read_jsonl(os.path.join(SHARED, "gsm8k", "train.jsonl"))
write_jsonl(os.path.join(OUT, "gsm8k", "test.jsonl"), rng.sample(test, 200))
write_jsonl(os.path.join(OUT, "gsm8k", "train.jsonl"), rng.sample(train, 100))

# SQuAD 2.0 dev subset
with open(os.path.join(SHARED, "squad2_cs224n", "dev-v2.0.json"), encoding="utf-8") as f:
    squad = json.load(f)
qs = []
for art in squad["data"]:
    for p in art["paragraphs"]:
        for qa in p["qas"]:
            qs.append({"id": qa["id"], "title": art["title"].replace("_", " "), "context": p["context"], "question": qa["question"],
                       "answers": [a["text"] for a in qa["answers"]]})
picked = rng.sample(qs, 260)
write_jsonl(os.path.join(OUT, "squad2", "test.jsonl"), picked[:200])
write_jsonl(os.path.join(OUT, "squad2", "train.jsonl"), [q for q in picked[200:] if q["answers"]][:40])

# LAMBADA-style cloze from WikiText-2 validation
items = []
with open(os.path.join(SHARED, "wikitext2", "valid.txt"), encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if not line or line.startswith("="):
            continue
        words = line.split(" ")
        # sentence ends: a "." token preceded by an alphabetic word
        ends = [i for i in range(1, len(words)) if words[i] == "." and re.fullmatch(r"[A-Za-z]{3,}", words[i - 1]) and i - 1 >= 20]
        for i in ends:
            context = words[max(0, i - 1 - 80):i - 1]
            if "<unk>" not in context:
                items.append({"context": " ".join(context), "target": words[i - 1]})
                break
write_jsonl(os.path.join(OUT, "lambada_wikitext2", "test.jsonl"), rng.sample(items, 300))
print(len(items), "cloze candidates")
