// Stratified k-fold cross-validation of a fine-tune: the folds come from Loom.Evaluation's
// StratifiedKFold (sklearn's allocation), shuffled with the run's seed; each fold trains a fresh model
// and is evaluated on its held-out part; the summary gives each metric's mean and standard deviation
// over the folds (population form, numpy's default ddof = 0, as `cross_val_score(...).std()` reports).
// With data.group_field the folds are Loom.Evaluation's GroupedSplits.StratifiedGroupKFold instead:
// no group (document, speaker, ...) is ever on both sides of a fold.
// A class with fewer examples than folds is an error naming the class and the file: some fold would
// test without it, and its per-class metrics would be undefined.
using Loom.Evaluation.Splitting;
using Loom.Models.Classification;

namespace Loom.Training.Classification;

/// <summary>Folds and the summary of a cross-validated fine-tune.</summary>
public static class CrossValidation
{
    /// <summary>The K (train, test) parts of <paramref name="data"/>, stratified by class (multi-label: first true label).</summary>
    public static IReadOnlyList<(ClassificationDataset Train, ClassificationDataset Test)> Folds(ClassificationDataset data, LabelSet labels, int folds, int seed, string source)
    {
        Core.Validation.Setting.AtLeast("--folds", folds, 2);
        var keys = data.StratificationKeys();
        if (labels.ProblemType == ProblemType.SingleLabel)
        {
            var counts = new int[labels.Count];
            foreach (int k in keys) counts[k]++;
            for (int c = 0; c < counts.Length; c++)
                if (counts[c] < folds)
                    throw new InvalidDataException($"{source}: the class \"{labels.Names[c]}\" has {counts[c]} example(s), fewer than the {folds} folds, so some fold would have no example of it; " +
                                                   $"use --folds {Math.Max(2, counts.Where(n => n > 0).DefaultIfEmpty(2).Min())} or fewer, add examples of \"{labels.Names[c]}\", or remove it from labels.");
        }
        else if (data.Examples.Count < folds)
            throw new InvalidDataException($"{source} has {data.Examples.Count} example(s), fewer than the {folds} folds; use fewer folds.");
        IReadOnlyList<Fold> split;
        if (data.Texts.Count > 0 && data.Texts.All(t => t.Group != null))
        {
            // Grouped: sklearn's StratifiedGroupKFold allocation (groups permuted by the run's seed first).
            try { split = GroupedSplits.StratifiedGroupFolds(data.Texts.Select(t => t.Group!).ToList(), labels.ProblemType == ProblemType.SingleLabel ? keys : new int[keys.Length], folds, shuffle: true, seed: (ulong)seed); }
            catch (ArgumentException e) { throw new InvalidDataException($"{source}: data.group_field: {e.Message}", e); }
            return split.Select(f => (data.Subset(f.TrainIndices), data.Subset(f.TestIndices))).ToList();
        }
        try { split = new StratifiedKFold(folds, shuffle: true, seed: (ulong)seed).Split(labels.ProblemType == ProblemType.SingleLabel ? keys : new int[keys.Length]); }
        catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message}", e); }
        return split.Select(f => (data.Subset(f.TrainIndices), data.Subset(f.TestIndices))).ToList();
    }

    /// <summary>Mean and standard deviation (ddof = 0) of every metric present in all folds.</summary>
    public static IReadOnlyDictionary<string, (double Mean, double StandardDeviation)> Summarize(IReadOnlyList<IReadOnlyDictionary<string, double>> folds)
    {
        var result = new SortedDictionary<string, (double, double)>(StringComparer.Ordinal);
        if (folds.Count == 0) return result;
        foreach (var name in folds[0].Keys.Where(k => folds.All(f => f.ContainsKey(k))))
        {
            double mean = folds.Average(f => f[name]);
            double variance = folds.Sum(f => (f[name] - mean) * (f[name] - mean)) / folds.Count;
            result[name] = (mean, Math.Sqrt(variance));
        }
        return result;
    }
}
