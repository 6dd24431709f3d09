#!/usr/bin/python3
# Makes generation/squad_{subset,predictions,expected}.json: a subset of the SQuAD 2.0 dev split in
# ../shared/data/squad2_cs224n (the first articles, cut to a few paragraphs each), deterministic synthetic
# predictions that exercise every branch of the official metrics (exact gold, gold with case, punctuation
# and article changes, partial spans, wrong spans, "" for answerable and unanswerable questions, a span
# for an unanswerable one), and the numbers the official scripts print for them.
#
# The official evaluate-v2.0.py / evaluate-v1.1.py are not on this machine; the functions below follow
# them line by line (normalize_answer, get_tokens, compute_exact, compute_f1, get_raw_scores,
# make_eval_dict with the HasAns/NoAns split and no na_prob file; v1.1's f1_score,
# exact_match_score and metric_max_over_ground_truths over answerable questions only).
#
#   /usr/bin/python3 tests/Loom.Evaluation.Tests/Fixtures/make_squad_fixture.py [PATH/dev-v2.0.json]
import collections, json, os, random, re, string, sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "squad2_cs224n", "dev-v2.0.json")


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(re.compile(r"\b(a|an|the)\b", re.UNICODE), " ", text)
    def white_space_fix(text):
        return " ".join(text.split())
    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)
    return white_space_fix(remove_articles(remove_punc(s.lower())))


def get_tokens(s):
    return normalize_answer(s).split() if s else []


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks, pred_toks = get_tokens(a_gold), get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision, recall = num_same / len(pred_toks), num_same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def evaluate_v2(dataset, preds):
    qid_to_has_ans, exact, f1 = {}, {}, {}
    for article in dataset:
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                qid_to_has_ans[qa["id"]] = bool(qa["answers"])
                gold = [a["text"] for a in qa["answers"] if normalize_answer(a["text"])] or [""]
                if qa["id"] not in preds:
                    continue
                exact[qa["id"]] = max(compute_exact(a, preds[qa["id"]]) for a in gold)
                f1[qa["id"]] = max(compute_f1(a, preds[qa["id"]]) for a in gold)
    def eval_dict(ids):
        return {"exact": 100.0 * sum(exact[k] for k in ids) / len(ids), "f1": 100.0 * sum(f1[k] for k in ids) / len(ids), "total": len(ids)}
    out = {"exact": 100.0 * sum(exact.values()) / len(exact), "f1": 100.0 * sum(f1.values()) / len(f1), "total": len(exact)}
    has = [k for k, v in qid_to_has_ans.items() if v]
    no = [k for k, v in qid_to_has_ans.items() if not v]
    if has:
        out.update({"HasAns_" + k: v for k, v in eval_dict(has).items()})
    if no:
        out.update({"NoAns_" + k: v for k, v in eval_dict(no).items()})
    return out


def f1_score_v1(prediction, ground_truth):
    p, g = normalize_answer(prediction).split(), normalize_answer(ground_truth).split()
    common = collections.Counter(p) & collections.Counter(g)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision, recall = num_same / len(p), num_same / len(g)
    return 2 * precision * recall / (precision + recall)


def evaluate_v1(dataset, predictions):
    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                gts = [x["text"] for x in qa["answers"]]
                exact_match += max(normalize_answer(predictions[qa["id"]]) == normalize_answer(g) for g in gts)
                f1 += max(f1_score_v1(predictions[qa["id"]], g) for g in gts)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


with open(SRC, encoding="utf-8") as f:
    full = json.load(f)
subset = {"version": full.get("version", "v2.0"), "data": []}
for article in full["data"][:3]:
    subset["data"].append({"title": article["title"], "paragraphs": article["paragraphs"][:6]})

rng = random.Random(2)
preds = {}
for article in subset["data"]:
    for p in article["paragraphs"]:
        words = p["context"].split()
        for qa in p["qas"]:
            kind = rng.randrange(8)
            golds = [a["text"] for a in qa["answers"]]
            if not golds:
                preds[qa["id"]] = "" if kind < 5 else " ".join(words[rng.randrange(len(words) - 3):][:rng.randrange(1, 4)])
                continue
            g = rng.choice(golds)
            gw = g.split()
            preds[qa["id"]] = [
                g,                                            # exact
                "The " + g.upper() + ".",                     # case, article, punctuation
                " ".join(gw[: max(1, len(gw) // 2)]),         # partial span
                " ".join(gw + words[:2]),                     # span too long
                "",                                           # abstained on an answerable question
                " ".join(words[rng.randrange(len(words) - 3):][:3]),   # a wrong span (sometimes overlapping)
                "  " + g + "  ",                              # whitespace
                g.replace(" ", "-"),                          # hyphens merge tokens
            ][kind]

answerable = {"version": subset["version"], "data": [
    {"title": a["title"], "paragraphs": [{"context": p["context"], "qas": [qa for qa in p["qas"] if qa["answers"]]} for p in a["paragraphs"]]}
    for a in subset["data"]]}
expected = {"squad_v2": evaluate_v2(subset["data"], preds), "squad_v1_answerable": evaluate_v1(answerable["data"], preds),
            "note": "squad_v1_answerable: evaluate-v1.1 on squad_subset_answerable.json (the answerable questions only)"}
out = os.path.join(HERE, "generation")
for name, obj in (("squad_subset.json", subset), ("squad_subset_answerable.json", answerable), ("squad_predictions.json", preds), ("squad_expected.json", expected)):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1 if name == "squad_expected.json" else None)
print(json.dumps(expected, indent=1))
