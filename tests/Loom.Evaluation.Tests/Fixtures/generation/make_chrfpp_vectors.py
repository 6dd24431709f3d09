#!/usr/bin/python3
# chrF++ reference vectors (word n-grams, word_order = 2) for ChrfPlusPlusTests. sacreBLEU is not
# installed here and its own test suite has no chrF++ case, so this script is a transcription of
# sacreBLEU's chrF scoring — mjpost/sacrebleu (Apache-2.0) at commit f615c7286d4d813370efb824d94fc2bfcd3a6b94:
# sacrebleu/metrics/chrf.py (CHRF._get_match_statistics, _remove_punctuation, _compute_f_score,
# _extract_reference_info, _compute_segment_statistics), sacrebleu/metrics/helpers.py
# (extract_all_char_ngrams, extract_word_ngrams) and the corpus/sentence flow of
# sacrebleu/metrics/base.py (references zipped per segment, lowercasing, statistics summed over
# segments) — re-typed, not imported. It first reproduces every chrF vector of
# sacrebleu_vectors.json (sacreBLEU's own test_chrf.py values, 1e-4), which proves the
# transcription, then writes chrfpp_vectors.json: sentence and corpus chrF++ in both smoothing
# modes, several references, lowercase, and the punctuation-splitting edge cases.
#
#   /usr/bin/python3 make_chrfpp_vectors.py      (run in this folder)
import json
from collections import Counter

PUNCTS = set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')


def char_ngrams(line, max_order, whitespace):
    if not whitespace:
        line = ''.join(line.split())
    return [Counter([line[i:i + n] for i in range(len(line) - n + 1)]) for n in range(1, max_order + 1)]


def word_ngrams(tokens, n):
    return Counter([' '.join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)])


def remove_punctuation(sent):
    out = []
    for w in sent.split():
        if len(w) == 1:
            out.append(w)
        elif w[-1] in PUNCTS:
            out += [w[:-1], w[-1]]
        elif w[0] in PUNCTS:
            out += [w[0], w[1:]]
        else:
            out.append(w)
    return out


class Chrf:
    def __init__(self, char_order=6, word_order=0, beta=2, lowercase=False, whitespace=False, eps_smoothing=False):
        self.char_order, self.word_order, self.beta = char_order, word_order, beta
        self.order = char_order + word_order
        self.lowercase, self.whitespace, self.eps_smoothing = lowercase, whitespace, eps_smoothing

    def ngrams(self, sent):
        stats = char_ngrams(sent, self.char_order, self.whitespace)
        if self.word_order > 0:
            words = remove_punctuation(sent)
            stats += [word_ngrams(words, n) for n in range(1, self.word_order + 1)]
        return stats

    @staticmethod
    def match(hyp, ref):
        match_count, hyp_count = 0, 0
        for ng, count in hyp.items():
            hyp_count += count
            if ng in ref:
                match_count += min(count, ref[ng])
        return [hyp_count if ref else 0, sum(ref.values()), match_count]

    def f_score(self, stats):
        eps, score, effective, factor = 1e-16, 0.0, 0, self.beta ** 2
        avg_prec = avg_rec = 0.0
        for i in range(self.order):
            n_hyp, n_ref, n_match = stats[3 * i:3 * i + 3]
            prec = n_match / n_hyp if n_hyp > 0 else eps
            rec = n_match / n_ref if n_ref > 0 else eps
            denom = factor * prec + rec
            score += ((1 + factor) * prec * rec / denom) if denom > 0 else eps
            if n_hyp > 0 and n_ref > 0:
                avg_prec += prec
                avg_rec += rec
                effective += 1
        if self.eps_smoothing:
            return 100 * score / self.order
        if effective == 0:
            avg_prec = avg_rec = 0.0
        else:
            avg_prec /= effective
            avg_rec /= effective
        if avg_prec + avg_rec:
            return 100 * (1 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec)
        return 0.0

    def prep(self, s):
        return s.lower() if self.lowercase else s

    def segment(self, hyp, refs):
        hyp_ngrams = self.ngrams(self.prep(hyp))
        best, best_f = [], -1.0
        for ref in refs:
            ref_ngrams = self.ngrams(self.prep(ref))
            stats = []
            for h, r in zip(hyp_ngrams, ref_ngrams):
                stats += self.match(h, r)
            f = self.f_score(stats)
            if f > best_f:
                best_f, best = f, stats
        return best

    def corpus(self, hyps, ref_streams):
        total = None
        for hyp, refs in zip(hyps, zip(*ref_streams)):
            stats = self.segment(hyp, [r for r in refs if r is not None])
            total = stats if total is None else [a + b for a, b in zip(total, stats)]
        return self.f_score(total)

    def sentence(self, hyp, refs):
        return self.f_score(self.segment(hyp, refs))


# 1. The transcription reproduces sacreBLEU's own chrF test values.
vectors = json.load(open('sacrebleu_vectors.json', encoding='utf-8'))['chrf']
worst = 0.0
for i, c in enumerate(vectors):
    p = c['params']
    m = Chrf(p['char_order'], p['word_order'], p['beta'], eps_smoothing=p['eps_smoothing'],
             whitespace=not p.get('remove_whitespace', True))
    got = m.sentence(c['hypothesis'], c['references']) if c['kind'] == 'sentence_chrf' \
        else m.corpus(c['hypotheses'], [c['reference_stream']])
    worst = max(worst, abs(got - c['expected_score']))
    assert abs(got - c['expected_score']) <= c['tolerance'], (i, got, c['expected_score'])
print(f'{len(vectors)} sacreBLEU chrF vectors reproduced (worst difference {worst:.2e})')

# 2. chrF++ vectors on the same texts, plus edge cases of the word tokenisation.
cases = []
sentences = [c for c in vectors if c['kind'] == 'sentence_chrf']
corpora = [c for c in vectors if c['kind'] == 'corpus_chrf']
for eps in (False, True):
    for c in sentences:
        m = Chrf(word_order=2, eps_smoothing=eps)
        cases.append({'kind': 'sentence_chrf', 'hypothesis': c['hypothesis'], 'references': c['references'],
                      'params': {'char_order': 6, 'word_order': 2, 'beta': 2, 'eps_smoothing': eps, 'lowercase': False},
                      'expected_score': m.sentence(c['hypothesis'], c['references'])})
    for c in corpora:
        for beta in (2, 3):
            m = Chrf(word_order=2, beta=beta, eps_smoothing=eps)
            cases.append({'kind': 'corpus_chrf', 'hypotheses': c['hypotheses'], 'reference_streams': [c['reference_stream']],
                          'params': {'char_order': 6, 'word_order': 2, 'beta': beta, 'eps_smoothing': eps, 'lowercase': False},
                          'expected_score': m.corpus(c['hypotheses'], [c['reference_stream']])})
edge = [
    ('(hi) there, "quoted" words!', ['(hi) there , "quoted" words !']),   # '(hi)' splits to '(hi' + ')'
    ('a b c . ! ?', ['a b c.!?']),                                         # one-character words stay whole
    ('The Cat sat on the mat.', ['the cat sat on the mat .', 'A cat sat on a mat.']),
    ('', ['nothing to match']),
    ('-lead trail- ,both,', ['lead trail both']),
]
for lowercase in (False, True):
    for hyp, refs in edge:
        for eps in (False, True):
            m = Chrf(word_order=2, lowercase=lowercase, eps_smoothing=eps)
            cases.append({'kind': 'sentence_chrf', 'hypothesis': hyp, 'references': refs,
                          'params': {'char_order': 6, 'word_order': 2, 'beta': 2, 'eps_smoothing': eps, 'lowercase': lowercase},
                          'expected_score': m.sentence(hyp, refs)})
hyps = [h for h, _ in edge[:3]]
streams = [[edge[0][1][0], edge[1][1][0], edge[2][1][0]], [None, 'a b c', edge[2][1][1]]]   # a missing (None) second reference
for eps in (False, True):
    m = Chrf(word_order=2, eps_smoothing=eps)
    cases.append({'kind': 'corpus_chrf', 'hypotheses': hyps, 'reference_streams': streams,
                  'params': {'char_order': 6, 'word_order': 2, 'beta': 2, 'eps_smoothing': eps, 'lowercase': False},
                  'expected_score': m.corpus(hyps, streams)})
json.dump({'description': 'chrF++ (sacreBLEU CHRF(word_order=2)) from make_chrfpp_vectors.py, a transcription of sacreBLEU f615c72 '
                          'checked on its own chrF test values; scores 0-100, tolerance 1e-4.',
           'cases': cases}, open('chrfpp_vectors.json', 'w', encoding='utf-8'), ensure_ascii=False, indent=1)
print(f'{len(cases)} chrF++ vectors written')
