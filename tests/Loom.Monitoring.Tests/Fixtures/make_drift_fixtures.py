#!/usr/bin/python3
"""Reference values for Loom.Monitoring's drift statistics and drift detectors.

Run with Debian's python3 (scipy 1.10.1, numpy 1.24.2):
    /usr/bin/python3 tests/Loom.Monitoring.Tests/Fixtures/make_drift_fixtures.py
Writes drift_stats.json and detectors.json next to this script.

Statistics (each exactly as issue 17 defines it):
  ks           scipy.stats.ks_2samp(ref, cur, method='auto') (statistic, pvalue); the mode it took is
               recorded ('exact' when max(n1, n2) <= 10000, else 'asymp').
  chi2         Evidently's chi-square on categories: f_exp = reference counts * n_cur/n_ref over the union
               of categories, scipy.stats.chisquare(f_obs, f_exp).
  wasserstein  scipy.stats.wasserstein_distance(ref, cur).
  z            Evidently's two-proportion z-test on binary columns.
  psi, kl      10 bins cut at numpy.quantile(ref, [.1 .. .9]) (linear), outer bins open, a value equal to
               an edge goes to the upper bin (numpy.searchsorted side='right'); proportions of zero become
               1e-4; PSI = sum (c - r) ln(c / r), KL = sum r ln(r / c).
  mmd          unbiased MMD^2 with an RBF kernel (Gretton et al. 2012, eq. 3), sigma by the median heuristic.
  js           the Jensen-Shannon divergence of the same bins without epsilon, natural log:
               scipy.spatial.distance.jensenshannon(r, c) ** 2.
Large vectors are not stored: they are the integer recipe lattice(n, a, m, shift) =
((i * a) % m) / m + shift for i < n, reproduced bit for bit in C#.

Detectors: DDM (Gama et al., 2004, as river.drift.binary.DDM publishes it: warm start 30, warning 2, drift 3;
reset after a drift) and ADWIN0 (Bifet & Gavalda, 2007, the exact version: after each element, drop the oldest
element while some split of the window into W0 | W1 has |mean0 - mean1| >= eps_cut, eps_cut = sqrt(1/(2m) ln(4n/delta)),
m = 1/(1/n0 + 1/n1)) written out below as the reference; streams are Bernoulli draws with known change points.
"""
import json
import math
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

HERE = os.path.dirname(os.path.abspath(__file__))
EPS = 1e-4


def lattice(n, a, m, shift=0.0):
    return np.array([((i * a) % m) / m + shift for i in range(n)], dtype=np.float64)


def bins(ref, cur):
    edges = np.quantile(ref, np.linspace(0.1, 0.9, 9))
    r = np.bincount(np.searchsorted(edges, ref, side='right'), minlength=10) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side='right'), minlength=10) / len(cur)
    return r, c


def binned_stats(r, c):
    re, ce = np.where(r == 0, EPS, r), np.where(c == 0, EPS, c)
    psi = float(np.sum((ce - re) * np.log(ce / re)))
    kl = float(np.sum(re * np.log(re / ce)))
    js = float(jensenshannon(r, c) ** 2)
    return psi, kl, js


def ks_mode(n1, n2):
    return 'exact' if max(n1, n2) <= 10000 else 'asymp'


def numeric_case(name, ref, cur, store=True, recipe=None):
    ks = stats.ks_2samp(ref, cur, method='auto')
    r, c = bins(ref, cur)
    psi, kl, js = binned_stats(r, c)
    case = {
        'name': name,
        'ks': {'statistic': float(ks.statistic), 'p_value': float(ks.pvalue), 'mode': ks_mode(len(ref), len(cur))},
        'wasserstein': float(stats.wasserstein_distance(ref, cur)),
        'psi': psi, 'kl': kl, 'js': js,
    }
    if store:
        case['reference'] = [float(x) for x in ref]
        case['current'] = [float(x) for x in cur]
    else:
        case['recipe'] = recipe
    return case


def categorical_case(name, ref, cur):
    keys = sorted(set(ref) | set(cur))
    rc = {k: ref.count(k) for k in keys}
    cc = {k: cur.count(k) for k in keys}
    k_norm = len(cur) / len(ref)
    f_exp = [rc[k] * k_norm for k in keys]
    f_obs = [cc[k] for k in keys]
    chi = stats.chisquare(f_obs, f_exp)
    r = np.array([rc[k] / len(ref) for k in keys])
    c = np.array([cc[k] / len(cur) for k in keys])
    psi, kl, js = binned_stats(r, c)
    return {'name': name, 'reference': ref, 'current': cur,
            'chi2': {'statistic': float(chi.statistic), 'p_value': float(chi.pvalue)},
            'psi': psi, 'kl': kl, 'js': js}


def z_case(name, ref, cur):
    # Evidently's z stattest: proportions_diff_z_stat_ind on 0/1 indicators, p = 2 (1 - norm.cdf(|z|)).
    first = sorted(set(ref) | set(cur))[0]
    r = np.array([0 if x == first else 1 for x in ref], dtype=float)
    c = np.array([0 if x == first else 1 for x in cur], dtype=float)
    n1, n2 = len(r), len(c)
    p1, p2 = r.sum() / n1, c.sum() / n2
    P = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return {'name': name, 'reference': ref, 'current': cur,
            'z': {'statistic': float(z), 'p_value': float(2 * (1 - stats.norm.cdf(abs(z))))}}


def gammaincc_cases():
    out = []
    for a in [0.5, 1.0, 2.5, 4.5, 10.0, 49.5, 200.0]:
        for x in [0.01, 0.5, 1.0, 3.0, 9.9, 30.0, 60.0, 250.0]:
            out.append({'a': a, 'x': x, 'q': float(scipy.special.gammaincc(a, x))})
    return out


def kstwo_cases():
    # kstwo.sf(d, n): the asymptotic ks_2samp path; one point per branch of scipy's _kolmogn.
    out = []
    for n, d in [(3000, 0.004), (3000, 0.01), (3000, 0.02), (3000, 0.05), (3000, 0.2), (500, 0.03), (500, 0.06),
                 (100, 0.05), (100, 0.1), (100, 0.15), (100, 0.3), (100, 0.6), (60, 0.012), (20000, 0.003), (200000, 0.002)]:
        out.append({'n': n, 'd': d, 'sf': float(stats.kstwo.sf(d, n))})
    return out


def mmd2_unbiased(x, y, sigma=None):
    # Gretton et al. 2012 eq. 3 with an RBF kernel; sigma by the median heuristic over pooled pairwise distances.
    z = np.vstack([x, y])
    d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    if sigma is None:
        iu = np.triu_indices(len(z), 1)
        sigma = float(np.median(np.sqrt(d2[iu])))
    k = np.exp(-d2 / (2 * sigma * sigma))
    m, n = len(x), len(y)
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean()), sigma


def ddm(stream, warm_start=30, warning_threshold=2.0, drift_threshold=3.0):
    drifts, warnings = [], []
    n, p = 0, 0.0
    p_min, s_min, ps_min = math.inf, math.inf, math.inf
    for t, x in enumerate(stream):
        n += 1
        p += (x - p) / n
        s = math.sqrt(p * (1 - p) / n)
        if n > warm_start:
            if p + s <= ps_min:
                p_min, s_min, ps_min = p, s, p + s
            if p + s > p_min + drift_threshold * s_min:
                drifts.append(t)
                n, p = 0, 0.0
                p_min, s_min, ps_min = math.inf, math.inf, math.inf
            elif p + s > p_min + warning_threshold * s_min:
                warnings.append(t)
    return drifts, warnings


def adwin0(stream, delta=0.002, min_window=5, clock=1):
    drifts, window = [], []
    for t, x in enumerate(stream):
        window.append(x)
        if (t + 1) % clock:
            continue
        changed = False
        while True:
            n = len(window)
            if n < 2 * min_window:
                break
            total = sum(window)
            cut = False
            s0 = 0.0
            for n0 in range(1, n):
                s0 += window[n0 - 1]
                n1 = n - n0
                if n0 < min_window or n1 < min_window:
                    continue
                m = 1.0 / (1.0 / n0 + 1.0 / n1)
                eps = math.sqrt(1.0 / (2 * m) * math.log(4.0 * n / delta))
                if abs(s0 / n0 - (total - s0) / n1) >= eps:
                    cut = True
                    break
            if not cut:
                break
            window.pop(0)
            changed = True
        if changed:
            drifts.append(t)
    return drifts


def bernoulli_stream(rng, segments):
    out = []
    for length, p in segments:
        out.extend(int(v) for v in (rng.random(length) < p))
    return out


def main():
    rng = np.random.default_rng(17)
    cases = []
    a = rng.normal(0, 1, 40)
    cases.append(numeric_case('equal-n-exact', a, rng.normal(0.6, 1, 40)))
    cases.append(numeric_case('unequal-n-exact', rng.normal(0, 1, 73), rng.normal(0.3, 1.4, 151)))
    cases.append(numeric_case('ties-integers', rng.integers(0, 8, 120).astype(float), rng.integers(1, 9, 95).astype(float)))
    cases.append(numeric_case('same-distribution', rng.exponential(1, 300), rng.exponential(1, 200)))
    cases.append(numeric_case('one-value-each', np.array([0.5]), np.array([0.7])))
    cases.append(numeric_case('constant-reference', np.full(30, 2.0), rng.normal(2, 1, 25)))
    for n1, a1, m1, n2, a2, m2, shift in [(2400, 7919, 10007, 1800, 104729, 9973, 0.01),
                                          (12000, 7919, 12007, 4000, 104729, 3989, 0.0),
                                          (12000, 7919, 12007, 4000, 104729, 3989, 0.006),
                                          (12000, 7919, 12007, 4000, 104729, 3989, 0.05),
                                          (15000, 7919, 15013, 11000, 104729, 10993, 0.002)]:
        ref = lattice(n1, a1, m1)
        cur = lattice(n2, a2, m2, shift)
        recipe = {'reference': [n1, a1, m1, 0.0], 'current': [n2, a2, m2, shift]}
        cases.append(numeric_case(f'lattice-{n1}-{n2}-{shift}', ref, cur, store=False, recipe=recipe))
    cats = []
    letters = list('abcdef')
    ref = list(rng.choice(letters[:5], 200, p=[.3, .25, .2, .15, .1]))
    cur = list(rng.choice(letters[:5], 150, p=[.2, .2, .2, .2, .2]))
    cats.append(categorical_case('five-categories', [str(x) for x in ref], [str(x) for x in cur]))
    ref = list(rng.choice(letters[:3], 100))
    cur = list(rng.choice(letters[:3], 90))
    cats.append(categorical_case('three-categories-same', [str(x) for x in ref], [str(x) for x in cur]))
    binary = [z_case('binary-shift', ['yes'] * 70 + ['no'] * 30, ['yes'] * 50 + ['no'] * 50),
              z_case('binary-same', ['yes'] * 40 + ['no'] * 60, ['yes'] * 42 + ['no'] * 58)]
    doc = {'binary': binary, 'scipy': scipy.__version__, 'numpy': np.__version__, 'numeric': cases, 'categorical': cats,
           'gammaincc': gammaincc_cases(), 'kstwo_sf': kstwo_cases()}
    mmd = []
    for name, shift, sigma in [('same', 0.0, None), ('shifted', 0.8, None), ('shifted-sigma-2', 0.8, 2.0)]:
        x = rng.normal(0, 1, (40, 6))
        y = rng.normal(shift, 1, (35, 6))
        v, sg = mmd2_unbiased(x, y, sigma)
        mmd.append({'name': name, 'reference': x.tolist(), 'current': y.tolist(), 'sigma': sg, 'mmd2': v})
    doc['mmd'] = mmd
    with open(os.path.join(HERE, 'drift_stats.json'), 'w') as f:
        json.dump(doc, f, indent=1)

    streams = []
    srng = np.random.default_rng(2017)
    for name, segments in [('abrupt-0.1-to-0.5-at-1000', [(1000, 0.1), (1000, 0.5)]),
                           ('abrupt-0.2-to-0.35-at-1500', [(1500, 0.2), (1500, 0.35)]),
                           ('two-changes', [(800, 0.05), (800, 0.3), (800, 0.6)]),
                           ('stationary-0.25', [(2500, 0.25)])]:
        s = bernoulli_stream(srng, segments)
        d, w = ddm(s)
        streams.append({'name': name, 'segments': segments, 'stream': s, 'ddm_drifts': d, 'ddm_warnings': w,
                        'adwin_drifts': adwin0(s, clock=32)})
    with open(os.path.join(HERE, 'detectors.json'), 'w') as f:
        json.dump({'streams': streams}, f)


if __name__ == '__main__':
    main()
