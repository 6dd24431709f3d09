#!/usr/bin/python3
# Makes metric_fixtures.json: seeded vectors and what scikit-learn / scipy compute on them, the
# reference Loom.Evaluation's metrics must equal (1e-12 relative; integer outputs exactly).
#
# Run with Debian's python3, python3-sklearn and python3-scipy (apt-get install python3-sklearn
# python3-scipy); the versions that made the committed file are recorded in it ("versions"):
#   /usr/bin/python3 tests/Loom.Evaluation.Tests/Fixtures/make_metric_fixtures.py
#
# Non-finite floats are written as the strings "NaN", "Infinity", "-Infinity" (JSON has no literal).
import json, math, os, warnings

import numpy as np
import scipy
import scipy.stats
import sklearn
from sklearn import metrics
from sklearn.calibration import calibration_curve
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit
from sklearn.preprocessing import label_binarize

warnings.filterwarnings("ignore")  # zero-division and undefined-metric warnings are part of the vectors
rng = np.random.RandomState(20261201)


def f(x):
    """A float (or nested list of floats) as JSON: non-finite values as strings."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return [f(v) for v in x]
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def ints(x):
    return [int(v) for v in np.asarray(x).ravel()]


def softmax_rows(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def noisy_probabilities(y, k, strength, decimals=None):
    """Probabilities that lean towards the true class; rounded (with ties) when decimals is set."""
    z = rng.normal(size=(len(y), k))
    z[np.arange(len(y)), y] += strength
    p = softmax_rows(z)
    if decimals is not None:
        p = np.round(p, decimals)
        # put the rounding error on the largest entry so each row still sums to 1 (within 1e-15)
        p[np.arange(len(y)), p.argmax(axis=1)] += 1.0 - p.sum(axis=1)
    return p


def classification_case(name, y, pred, proba, k, note):
    labels = list(range(k))
    case = {"name": name, "note": note, "num_classes": k, "y_true": ints(y), "y_pred": ints(pred),
            "probabilities": f(proba.ravel()), "labels": labels}
    case["accuracy"] = f(metrics.accuracy_score(y, pred))
    case["confusion_matrix"] = ints(metrics.confusion_matrix(y, pred, labels=labels))
    case["mcc"] = f(metrics.matthews_corrcoef(y, pred))

    prf = []
    averages = ["micro", "macro", "weighted"] + (["binary"] if k == 2 else [])
    for average in averages:
        for zd in ["warn", 0, 1]:
            for beta in [1.0, 0.5, 2.0]:
                pos_labels = [1, 0] if average == "binary" else [1]
                for pos in pos_labels:
                    p, r, fs, _ = metrics.precision_recall_fscore_support(
                        y, pred, beta=beta, labels=labels, pos_label=pos, average=average, zero_division=zd)
                    prf.append({"average": average, "zero_division": str(zd), "beta": beta, "pos_label": pos,
                                "precision": f(p), "recall": f(r), "fscore": f(fs)})
    case["prf"] = prf
    per_class = []
    for zd in ["warn", 0, 1]:
        p, r, fs, s = metrics.precision_recall_fscore_support(
            y, pred, beta=1.0, labels=labels, average=None, zero_division=zd)
        per_class.append({"zero_division": str(zd), "precision": f(p), "recall": f(r), "fscore": f(fs),
                          "support": ints(s)})
    case["per_class"] = per_class
    # The helpers sklearn users call directly must agree with the tuple above.
    case["f1_macro"] = f(metrics.f1_score(y, pred, labels=labels, average="macro"))

    case["log_loss"] = f(metrics.log_loss(y, proba, labels=labels))
    if k == 2:
        case["log_loss_binary_1d"] = f(metrics.log_loss(y, proba[:, 1], labels=labels))
    present = sorted(set(int(v) for v in y))
    if present == labels:
        ranking = {}
        if k == 2:
            s = proba[:, 1]
            ranking["roc_auc"] = f(metrics.roc_auc_score(y, s))
            ranking["average_precision"] = f(metrics.average_precision_score(y, s))
            for drop in [True, False]:
                fpr, tpr, th = metrics.roc_curve(y, s, drop_intermediate=drop)
                ranking["roc_curve_drop" if drop else "roc_curve_all"] = {
                    "fpr": f(fpr), "tpr": f(tpr), "thresholds": f(th)}
            pr, rc, th = metrics.precision_recall_curve(y, s)
            ranking["pr_curve"] = {"precision": f(pr), "recall": f(rc), "thresholds": f(th)}
            ranking["pr_auc_trapezoid"] = f(metrics.auc(rc, pr))
            # pos_label=0: the curves of the other class, scored by P(class 0)
            ranking["average_precision_pos0"] = f(metrics.average_precision_score(y, proba[:, 0], pos_label=0))
        else:
            for average in ["macro", "weighted", "micro"]:
                ranking["roc_auc_ovr_" + average] = f(metrics.roc_auc_score(
                    y, proba, multi_class="ovr", average=average, labels=labels))
            onehot = label_binarize(y, classes=labels)
            for average in ["macro", "weighted", "micro"]:
                ranking["average_precision_ovr_" + average] = f(
                    metrics.average_precision_score(onehot, proba, average=average))
        case["ranking"] = ranking
    return case


def calibration_case(name, y, prob, note):
    out = {"name": name, "note": note, "y_true": ints(y), "probabilities": f(prob), "curves": []}
    for strategy in ["uniform", "quantile"]:
        for n_bins in [5, 10]:
            pt, pp = calibration_curve(y, prob, n_bins=n_bins, strategy=strategy)
            # ECE, written out by hand here: the same bins as calibration_curve (its edges and its
            # searchsorted rule), then sum over non-empty bins of count/N * |accuracy - confidence|.
            if strategy == "uniform":
                edges = np.linspace(0.0, 1.0, n_bins + 1)
            else:
                edges = np.percentile(prob, np.linspace(0, 1, n_bins + 1) * 100)
            ece, counts = 0.0, []
            for b in range(n_bins):
                lo = -np.inf if b == 0 else edges[b]
                hi = np.inf if b == n_bins - 1 else edges[b + 1]
                members = [(yy, p) for yy, p in zip(y, prob) if lo < p <= hi]
                if members:
                    counts.append(len(members))
                    acc = sum(m[0] for m in members) / len(members)
                    conf = sum(m[1] for m in members) / len(members)
                    ece += len(members) / len(y) * abs(acc - conf)
            out["curves"].append({"strategy": strategy, "n_bins": n_bins, "prob_true": f(pt), "prob_pred": f(pp),
                                  "counts": counts, "ece": f(ece)})
    return out


def regression_case(name, y, pred, note):
    case = {"name": name, "note": note, "y_true": f(y), "y_pred": f(pred),
            "mse": f(metrics.mean_squared_error(y, pred)),
            "mae": f(metrics.mean_absolute_error(y, pred)),
            "r2": f(metrics.r2_score(y, pred))}
    if np.ptp(y) > 0 and np.ptp(pred) > 0:
        case["pearson"] = f(scipy.stats.pearsonr(y, pred)[0])
        case["spearman"] = f(scipy.stats.spearmanr(y, pred).correlation)
    return case


def multilabel_case(name, y, pred, scores, note):
    n, L = y.shape
    case = {"name": name, "note": note, "num_labels": L, "y_true": ints(y), "y_pred": ints(pred),
            "scores": f(scores.ravel()),
            "subset_accuracy": f(metrics.accuracy_score(y, pred)),
            "hamming_loss": f(metrics.hamming_loss(y, pred))}
    for average in ["micro", "macro", "weighted", "samples"]:
        for zd in [0, 1]:
            p, r, fs, _ = metrics.precision_recall_fscore_support(y, pred, average=average, zero_division=zd)
            case["prf_" + average + ("" if zd == 0 else "_zd1")] = {"precision": f(p), "recall": f(r), "fscore": f(fs)}
    p, r, fs, s = metrics.precision_recall_fscore_support(y, pred, average=None, zero_division=0)
    case["per_label"] = {"precision": f(p), "recall": f(r), "fscore": f(fs), "support": ints(s)}
    if all(0 < y[:, j].sum() < n for j in range(L)):
        case["roc_auc_macro"] = f(metrics.roc_auc_score(y, scores, average="macro"))
        case["roc_auc_per_label"] = f(metrics.roc_auc_score(y, scores, average=None))
        case["average_precision_macro"] = f(metrics.average_precision_score(y, scores, average="macro"))
        case["average_precision_micro"] = f(metrics.average_precision_score(y, scores, average="micro"))
    return case


def kfold_case(name, y, n_splits, note):
    folds = np.full(len(y), -1)
    for i, (_, test) in enumerate(StratifiedKFold(n_splits=n_splits).split(np.zeros(len(y)), y)):
        folds[test] = i
    # with shuffle=True sklearn permutes fold ids within each class: the per-fold class counts stay
    shuffled = np.full(len(y), -1)
    for i, (_, test) in enumerate(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=3)
                                  .split(np.zeros(len(y)), y)):
        shuffled[test] = i
    classes = sorted(set(int(v) for v in y))
    counts = [[int(((shuffled == i) & (y == c)).sum()) for c in classes] for i in range(n_splits)]
    return {"name": name, "note": note, "y": ints(y), "n_splits": n_splits, "test_fold": ints(folds),
            "classes": classes, "shuffled_fold_class_counts": counts}


def holdout_case(name, y, test_size, note):
    split = StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=0)
    train, test = next(split.split(np.zeros(len(y)), y))
    classes = sorted(set(int(v) for v in y))
    return {"name": name, "note": note, "y": ints(y), "test_size": test_size,
            "classes": classes,
            "test_class_counts": [int((y[test] == c).sum()) for c in classes],
            "train_class_counts": [int((y[train] == c).sum()) for c in classes]}


cases = []
# --- single-label classification ---
y = rng.randint(0, 2, 200); p = noisy_probabilities(y, 2, 1.0)
cases.append(classification_case("binary", y, p.argmax(1), p, 2, "200 samples, balanced"))
y = (rng.rand(300) < 0.1).astype(int); p = noisy_probabilities(y, 2, 1.5)
cases.append(classification_case("binary_imbalanced", y, p.argmax(1), p, 2, "10% positives"))
y = rng.randint(0, 2, 120); p = noisy_probabilities(y, 2, 0.8, decimals=1)
cases.append(classification_case("binary_ties", y, p.argmax(1), p, 2, "scores rounded to 0.1: many ties"))
y = rng.randint(0, 3, 300); p = noisy_probabilities(y, 3, 1.2)
cases.append(classification_case("multi3", y, p.argmax(1), p, 3, "3 classes"))
y = rng.choice(5, 400, p=[0.55, 0.2, 0.12, 0.08, 0.05]); p = noisy_probabilities(y, 5, 1.5)
cases.append(classification_case("multi5_imbalanced", y, p.argmax(1), p, 5, "5 imbalanced classes"))
y = rng.randint(0, 5, 150); p = noisy_probabilities(y, 5, 1.0, decimals=2)
cases.append(classification_case("multi5_ties", y, p.argmax(1), p, 5, "5 classes, scores rounded to 0.01"))
y = rng.randint(0, 3, 60); p = noisy_probabilities(y, 3, 6.0)
cases.append(classification_case("perfect", y, y.copy(), p, 3, "predictions equal the labels"))
y = rng.randint(0, 3, 60); p = noisy_probabilities(y, 3, -3.0)
cases.append(classification_case("all_wrong", y, (y + 1) % 3, p, 3, "every prediction wrong"))
y = rng.randint(0, 2, 40); p = noisy_probabilities(y, 2, -2.0)
cases.append(classification_case("binary_all_wrong", y, 1 - y, p, 2, "every prediction wrong"))
y = rng.randint(0, 4, 100); p = noisy_probabilities(y, 4, 1.0); pred = p.argmax(1); pred[pred == 2] = 0
cases.append(classification_case("absent_from_predictions", y, pred, p, 4, "class 2 never predicted"))
y = rng.randint(0, 3, 80); pred = rng.randint(0, 3, 80); p = noisy_probabilities(y, 4, 1.0)
cases.append(classification_case("absent_class", y, pred, p, 4, "label 3 in neither y_true nor y_pred"))
y = rng.randint(0, 2, 50); pos = np.where(rng.rand(50) < 0.5, y.astype(float), rng.rand(50)); pos[:4] = [0, 1, 1 - y[2], 1 - y[3]]
p = np.stack([1 - pos, pos], axis=1)
cases.append(classification_case("binary_extreme_probabilities", y, (pos >= 0.5).astype(int), p, 2,
                                 "probabilities exactly 0 and 1, some on the wrong class (log-loss clipping)"))
y = rng.randint(0, 3, 30); p = np.eye(3)[np.where(rng.rand(30) < 0.7, y, (y + 1) % 3)]
cases.append(classification_case("multi3_one_hot_probabilities", y, p.argmax(1), p, 3,
                                 "one-hot probability rows, 30% on a wrong class"))
y = np.zeros(20, dtype=int); y[:3] = 1; pred = np.zeros(20, dtype=int); p = noisy_probabilities(y, 2, 0.5)
cases.append(classification_case("binary_no_positive_predictions", y, pred, p, 2,
                                 "positive class never predicted: precision zero-division"))
y = np.zeros(10, dtype=int); p = np.tile([0.8, 0.2], (10, 1))
cases.append(classification_case("binary_single_class", y, y.copy(), p, 2,
                                 "only class 0 anywhere: binary scores of the absent positive class are zero-division"))

# --- calibration (binary) ---
calibration = []
y = (rng.rand(500) < 0.4).astype(int); prob = np.clip(0.4 + 0.35 * (2 * y - 1) * rng.rand(500) + 0.1 * rng.normal(size=500), 0, 1)
calibration.append(calibration_case("calibration_random", y, prob, "500 samples, some probabilities at 0 and 1"))
y = rng.randint(0, 2, 200); prob = np.round(rng.rand(200), 1)
calibration.append(calibration_case("calibration_on_edges", y, prob, "probabilities on bin edges 0.0..1.0"))
y = rng.randint(0, 2, 37); prob = rng.beta(2, 5, 37)
calibration.append(calibration_case("calibration_skewed", y, prob, "37 samples, beta(2,5) probabilities"))

# --- regression (num_labels: 1) ---
regression = []
yt = rng.normal(size=100) * 3 + 1; yp = yt + rng.normal(size=100)
regression.append(regression_case("regression", yt, yp, "100 samples"))
yt = np.round(rng.rand(80) * 5); yp = np.round(yt + rng.normal(size=80))
regression.append(regression_case("regression_ties", yt, yp, "integer-valued: ties for Spearman"))
yt = np.full(10, 2.5); yp = yt + rng.normal(size=10) * 0.1
regression.append(regression_case("regression_constant_target", yt, yp, "constant target: r2 forced to 0"))
yt = np.full(10, 2.5)
regression.append(regression_case("regression_constant_exact", yt, yt.copy(), "constant target, exact: r2 = 1"))

# --- multi-label ---
multilabel = []
Y = (rng.rand(120, 4) < [0.5, 0.3, 0.2, 0.6]).astype(int)
S = np.clip(Y * 0.35 + rng.rand(120, 4) * 0.65, 0, 1); P = (S >= 0.5).astype(int)
multilabel.append(multilabel_case("multilabel", Y, P, S, "4 labels, 120 samples"))
Y = (rng.rand(40, 3) < 0.3).astype(int); Y[:, 2] = 0; P = (rng.rand(40, 3) < 0.3).astype(int); S = rng.rand(40, 3)
multilabel.append(multilabel_case("multilabel_empty_label", Y, P, S, "label 2 never true (some rows all-zero)"))

# --- stratified splits ---
splits = []
splits.append(kfold_case("kfold_imbalanced", rng.choice(3, 103, p=[0.6, 0.3, 0.1]), 5, "103 samples, 3 classes"))
y = np.array([2] * 7 + [0] * 11 + [1] * 9); rng.shuffle(y)
splits.append(kfold_case("kfold_appearance_order", y, 3, "first label seen is not the smallest"))
splits.append(kfold_case("kfold_binary", rng.randint(0, 2, 50), 4, "50 samples, 4 folds"))
holdouts = [holdout_case("holdout_no_ties", rng.choice(3, 97, p=[0.5, 0.3, 0.2]), 0.2, "remainders unique")]
y = np.array([0] * 50 + [1] * 30 + [2] * 20)
holdouts.append(holdout_case("holdout_exact", y, 0.3, "proportions divide exactly"))

# appended last so the vectors above keep their random draws
Y = np.zeros((12, 3), dtype=int); P = (rng.rand(12, 3) < 0.3).astype(int); S = rng.rand(12, 3)
multilabel.append(multilabel_case("multilabel_all_negative", Y, P, S,
                                  "no true label anywhere: sklearn's weighted-average special case"))

out = {"versions": {"sklearn": sklearn.__version__, "scipy": scipy.__version__, "numpy": np.__version__},
       "classification": cases, "calibration": calibration, "regression": regression,
       "multilabel": multilabel, "kfold": splits, "holdout": holdouts}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metric_fixtures.json")
with open(path, "w") as fh:
    json.dump(out, fh, separators=(",", ":"))
    fh.write("\n")
print(f"wrote {path} ({os.path.getsize(path)} bytes; sklearn {sklearn.__version__}, scipy {scipy.__version__})")
