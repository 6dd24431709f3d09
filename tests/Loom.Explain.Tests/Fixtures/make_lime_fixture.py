# Reference for Loom.Explain's LIME steps after sampling: lime_text's IndexedString split and
# inverse_removing, sklearn's cosine distances x100, lime_text's kernel, and lime_base's
# explain_instance_with_data (feature selection 'auto' -> forward_selection / highest_weights, and
# 'none'), reimplemented here line for line from github.com/marcotcr/lime (lime_base.py,
# lime_text.py) with scikit-learn's Ridge. Masks are drawn as lime draws them (numpy RandomState)
# and written out, so the C# test uses the same masks.
# Run: /usr/bin/python3 make_lime_fixture.py  (numpy, scikit-learn) -> lime_fixture.json
import json, re
import numpy as np
import scipy as sp
import sklearn
from sklearn.linear_model import Ridge
from sklearn.metrics.pairwise import pairwise_distances


def kernel(d, kernel_width):  # lime_text.LimeTextExplainer.__init__
    return np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2))


def forward_selection(data, labels, weights, num_features):
    clf = Ridge(alpha=0, fit_intercept=True)
    used_features = []
    for _ in range(min(num_features, data.shape[1])):
        max_ = -100000000
        best = 0
        for feature in range(data.shape[1]):
            if feature in used_features:
                continue
            clf.fit(data[:, used_features + [feature]], labels, sample_weight=weights)
            score = clf.score(data[:, used_features + [feature]], labels, sample_weight=weights)
            if score > max_:
                best = feature
                max_ = score
        used_features.append(best)
    return np.array(used_features)


def feature_selection(data, labels, weights, num_features, method):
    if method == 'none':
        return np.array(range(data.shape[1]))
    if method == 'forward_selection':
        return forward_selection(data, labels, weights, num_features)
    if method == 'highest_weights':
        clf = Ridge(alpha=0.01, fit_intercept=True)
        clf.fit(data, labels, sample_weight=weights)
        weighted_data = clf.coef_ * data[0]
        fw = sorted(zip(range(data.shape[1]), weighted_data), key=lambda x: np.abs(x[1]), reverse=True)
        return np.array([x[0] for x in fw[:num_features]])
    if method == 'auto':
        return feature_selection(data, labels, weights, num_features,
                                 'forward_selection' if num_features <= 6 else 'highest_weights')


def explain(data, labels, distances, label, num_features, method):
    weights = kernel(distances, 25)
    col = labels[:, label]
    used = feature_selection(data, col, weights, num_features, method)
    m = Ridge(alpha=1, fit_intercept=True)
    m.fit(data[:, used], col, sample_weight=weights)
    score = m.score(data[:, used], col, sample_weight=weights)
    local = m.predict(data[0, used].reshape(1, -1))[0]
    exp = sorted(zip(used.tolist(), m.coef_.tolist()), key=lambda x: np.abs(x[1]), reverse=True)
    return {"label": label, "num_features": num_features, "method": method, "intercept": float(m.intercept_),
            "features": [f for f, _ in exp], "weights": [w for _, w in exp], "score": float(score), "local_pred": float(local)}


def indexed(raw):  # lime_text.IndexedString with bow=True, mask_string=None
    splitter = re.compile(r'(%s)|$' % r'\W+')
    as_list = [s for s in splitter.split(raw) if s]
    non_word = splitter.match
    vocab, inverse, positions = {}, [], []
    for i, word in enumerate(as_list):
        if non_word(word):
            continue
        if word not in vocab:
            vocab[word] = len(inverse); inverse.append(word); positions.append([])
        positions[vocab[word]].append(i)
    def removing(remove):
        mask = np.ones(len(as_list), dtype=bool)
        for r in remove:
            mask[positions[r]] = False
        return ''.join(as_list[i] for i in range(len(as_list)) if mask[i])
    return inverse, removing


rs = np.random.RandomState(42)
d, n = 9, 400
sample = rs.randint(1, d + 1, n - 1)
data = np.ones((n, d))
for i, size in enumerate(sample, start=1):
    inactive = rs.choice(range(d), size, replace=False)
    data[i, inactive] = 0
# a smooth black box: p1 = sigmoid(w . mask + b + interaction), p0 = 1 - p1
w = np.array([2.0, -1.5, 0.7, 0.0, 1.2, -0.3, 0.05, -2.2, 0.4])
z = data @ w - 0.5 + 0.8 * data[:, 0] * data[:, 7]
p1 = 1 / (1 + np.exp(-z))
labels = np.stack([1 - p1, p1], axis=1)
distances = pairwise_distances(sp.sparse.csr_matrix(data), sp.sparse.csr_matrix(data[0]), metric='cosine').ravel() * 100

cases = [explain(data, labels, distances, 1, 5, 'auto'), explain(data, labels, distances, 0, 3, 'auto'),
         explain(data, labels, distances, 1, 7, 'auto'), explain(data, labels, distances, 0, 10, 'none')]

texts = []
for raw in ["This movie tells no lies, no story -- and no ending!", "  leading space, trailing  ", "naïve café: déjà vu... vu"]:
    vocab, removing = indexed(raw)
    texts.append({"text": raw, "vocabulary": vocab, "remove": [0, 2], "removed": removing([0, 2])})

json.dump({"sklearn": sklearn.__version__, "d": d, "masks": data.astype(int).tolist(), "probabilities": labels.tolist(),
           "distances": distances.tolist(), "weights": kernel(distances, 25).tolist(), "cases": cases, "texts": texts},
          open("lime_fixture.json", "w"), indent=1)
