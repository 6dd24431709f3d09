"""Per-class precision/recall/F1 of the moderation classifier on the held-out split (scikit-learn as the reference).

    /tmp/loom classify --model runs/moderation/classifier/model --input runs/moderation/test.jsonl \
        --output runs/moderation/test_predictions.jsonl
    /usr/bin/python3 examples/moderation/report.py [runs/moderation/test.jsonl runs/moderation/test_predictions.jsonl]

Prints sklearn's classification_report over hate/offensive/neither (the argmax label), then the server's view:
a text is flagged when P(hate) >= 0.5 (category hate) or P(offensive) >= 0.5 (category harassment), as
`loom serve --moderation-model` does at the default --moderation-threshold 0.5, scored as flagged vs not
against the truth "hate or offensive".
"""
import json
import sys
from sklearn.metrics import classification_report, precision_recall_fscore_support

test = sys.argv[1] if len(sys.argv) > 1 else "runs/moderation/test.jsonl"
pred = sys.argv[2] if len(sys.argv) > 2 else "runs/moderation/test_predictions.jsonl"
truth = [json.loads(l)["label"] for l in open(test, encoding="utf-8") if l.strip()]
preds = [json.loads(l) for l in open(pred, encoding="utf-8") if l.strip()]
assert len(truth) == len(preds), (len(truth), len(preds))
labels = ["hate", "offensive", "neither"]
print(classification_report(truth, [p["label"] for p in preds], labels=labels, digits=3))
y = [t != "neither" for t in truth]
flag = [p["probabilities"]["hate"] >= 0.5 or p["probabilities"]["offensive"] >= 0.5 for p in preds]
pr, rc, f1, _ = precision_recall_fscore_support(y, flag, average="binary")
print(f"flagged (hate or harassment >= 0.5) vs truth hate|offensive: precision {pr:.3f} recall {rc:.3f} F1 {f1:.3f}  "
      f"({sum(flag)} flagged of {len(flag)}; {sum(y)} harmful)")
for cat, label in (("hate", "hate"), ("harassment", "offensive")):
    f = [p["probabilities"][label] >= 0.5 for p in preds]
    pr, rc, f1, _ = precision_recall_fscore_support([t == label for t in truth], f, average="binary", zero_division=0)
    print(f"category {cat} (P({label}) >= 0.5): precision {pr:.3f} recall {rc:.3f} F1 {f1:.3f}")
