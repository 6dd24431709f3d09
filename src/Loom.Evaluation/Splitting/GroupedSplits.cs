// Grouped splits: every sample of a group (a speaker, a document, a patient, a near-duplicate
// cluster) lands on the same side, so a model is never tested on a group it trained on.
//   StratifiedGroupKFold  scikit-learn 1.2.1's StratifiedGroupKFold(shuffle=False), fold for fold:
//                         per-group class counts, groups taken in order of decreasing standard
//                         deviation of their class counts (stable, i.e. np.argsort(kind="mergesort")
//                         over groups numbered in sorted order, as np.unique numbers them), each
//                         given to the fold whose per-class share std (mean over classes of
//                         np.std(counts_per_fold / class_total, axis=0)) is then smallest, ties to
//                         the fold with fewest samples, then the lowest fold. With shuffle the groups
//                         are permuted first by Loom's seeded generator (deterministic, not numpy's).
//   Holdout               one seeded grouped train/test split: groups shuffled, then taken into
//                         the test side while that brings its per-class counts closer to
//                         fraction × class total (greedy), until the test side reaches its size.
namespace Loom.Evaluation.Splitting;

/// <summary>Grouped (optionally stratified) k-fold and hold-out splits.</summary>
public static class GroupedSplits
{
    /// <summary>
    /// The test fold (0..k−1) of every sample, as <c>StratifiedGroupKFold(k).split(X, labels, groups)</c>.
    /// Pass all-equal labels for a plain grouped k-fold balanced by size.
    /// </summary>
    public static int[] StratifiedGroupKFold(IReadOnlyList<string> groups, ReadOnlySpan<int> labels, int folds, bool shuffle = false, ulong seed = 0)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "folds must be at least 2.");
        int n = groups.Count;
        if (labels.Length != n) throw new ArgumentException($"labels has {labels.Length} entries but groups has {n}; give one label and one group per sample.");
        // np.unique numbering: classes and groups in sorted order.
        var classList = labels.ToArray().Distinct().Order().ToArray();
        var classIx = classList.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var groupList = groups.Distinct().Order(StringComparer.Ordinal).ToArray();
        if (groupList.Length < folds)
            throw new ArgumentException($"there are {groupList.Length} groups but {folds} folds; each fold needs at least one group. Lower the fold count.");
        var groupIx = groupList.Select((g, i) => (g, i)).ToDictionary(x => x.g, x => x.i, StringComparer.Ordinal);
        int C = classList.Length, G = groupList.Length;
        var counts = new double[G, C];
        var classTotal = new double[C];
        for (int i = 0; i < n; i++) { counts[groupIx[groups[i]], classIx[labels[i]]]++; classTotal[classIx[labels[i]]]++; }

        int[] order = Enumerable.Range(0, G).ToArray();
        if (shuffle) new SplitMix64(seed).Shuffle<int>(order);
        // Stable sort by decreasing std (np.std, ddof 0) of each group's class counts.
        order = order.Select((g, pos) => (g, pos, std: Std(Enumerable.Range(0, C).Select(c => counts[g, c]).ToArray())))
            .OrderByDescending(x => x.std).ThenBy(x => x.pos).Select(x => x.g).ToArray();

        var perFold = new double[folds, C];
        var foldSize = new int[folds];
        var foldOfGroup = new int[G];
        var share = new double[folds];
        foreach (int g in order)
        {
            int best = -1;
            double bestEval = double.PositiveInfinity;
            for (int f = 0; f < folds; f++)
            {
                for (int c = 0; c < C; c++) perFold[f, c] += counts[g, c];
                double eval = 0;
                for (int c = 0; c < C; c++)
                {
                    for (int k = 0; k < folds; k++) share[k] = perFold[k, c] / classTotal[c];
                    eval += Std(share);
                }
                eval /= C;
                for (int c = 0; c < C; c++) perFold[f, c] -= counts[g, c];
                // sklearn: is_better = fold_eval < min_eval or (np.isclose(fold_eval, min_eval) and samples_per_fold[i] < min_samples_in_fold)
                if (best < 0 || eval < bestEval || (IsClose(eval, bestEval) && foldSize[f] < foldSize[best])) { best = f; bestEval = eval; }
            }
            for (int c = 0; c < C; c++) perFold[best, c] += counts[g, c];
            foldSize[best] += (int)Enumerable.Range(0, C).Sum(c => counts[g, c]);
            foldOfGroup[g] = best;
        }
        var assignment = new int[n];
        for (int i = 0; i < n; i++) assignment[i] = foldOfGroup[groupIx[groups[i]]];
        return assignment;
    }

    /// <summary>The k folds of <see cref="StratifiedGroupKFold"/> as train/test index sets.</summary>
    public static IReadOnlyList<Fold> StratifiedGroupFolds(IReadOnlyList<string> groups, ReadOnlySpan<int> labels, int folds, bool shuffle = false, ulong seed = 0)
    {
        var a = StratifiedGroupKFold(groups, labels, folds, shuffle, seed);
        return Enumerable.Range(0, folds).Select(f => new Fold(f,
            Enumerable.Range(0, a.Length).Where(i => a[i] != f).ToArray(), Enumerable.Range(0, a.Length).Where(i => a[i] == f).ToArray())).ToList();
    }

    /// <summary>A seeded grouped hold-out with about <paramref name="testFraction"/> of the samples (and of each label, when given) on the test side.</summary>
    public static Fold Holdout(IReadOnlyList<string> groups, IReadOnlyList<string>? labels, double testFraction, ulong seed = 0)
    {
        if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "testFraction must lie strictly between 0 and 1.");
        int n = groups.Count;
        if (labels != null && labels.Count != n) throw new ArgumentException($"labels has {labels.Count} entries but groups has {n}.");
        var groupList = groups.Distinct().Order(StringComparer.Ordinal).ToArray();
        if (groupList.Length < 2) throw new ArgumentException($"there is {groupList.Length} group; a grouped hold-out needs at least 2 (one per side).");
        var members = groupList.ToDictionary(g => g, _ => new List<int>(), StringComparer.Ordinal);
        for (int i = 0; i < n; i++) members[groups[i]].Add(i);
        var classNames = (labels ?? Enumerable.Repeat("", n).ToList()).Distinct().Order(StringComparer.Ordinal).ToList();
        var cls = (labels ?? Enumerable.Repeat("", n).ToList()).Select(l => classNames.IndexOf(l)).ToArray();
        var target = new double[classNames.Count];
        foreach (int c in cls) target[c] += testFraction;
        int nTest = (int)Math.Ceiling(testFraction * n);
        var order = groupList.ToArray();
        new SplitMix64(seed).Shuffle<string>(order);
        var have = new double[classNames.Count];
        var test = new List<int>();
        string? lastAdded = null;
        foreach (var g in order)
        {
            if (test.Count >= nTest) break;
            double before = 0, after = 0;
            var add = new double[classNames.Count];
            foreach (int i in members[g]) add[cls[i]]++;
            for (int c = 0; c < add.Length; c++) { before += Math.Abs(have[c] - target[c]); after += Math.Abs(have[c] + add[c] - target[c]); }
            if (after < before || test.Count == 0)
            {
                for (int c = 0; c < add.Length; c++) have[c] += add[c];
                test.AddRange(members[g]);
                lastAdded = g;
            }
        }
        if (test.Count == n) test.RemoveRange(test.Count - members[lastAdded!].Count, members[lastAdded!].Count);   // keep a training side
        test.Sort();
        var inTest = new HashSet<int>(test);
        return new Fold(0, Enumerable.Range(0, n).Where(i => !inTest.Contains(i)).ToArray(), [.. test]);
    }

    private static double Std(ReadOnlySpan<double> v)
    {
        double mean = 0;
        foreach (double x in v) mean += x;
        mean /= v.Length;
        double ss = 0;
        foreach (double x in v) ss += (x - mean) * (x - mean);
        return Math.Sqrt(ss / v.Length);
    }

    // numpy.isclose defaults: |a − b| ≤ 1e-8 + 1e-5·|b|.
    private static bool IsClose(double a, double b) => !double.IsInfinity(b) && Math.Abs(a - b) <= 1e-8 + 1e-5 * Math.Abs(b);
}
