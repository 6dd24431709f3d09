// Stratified k-fold cross-validation, fold for fold as scikit-learn 1.2.1's
// StratifiedKFold(n_splits, shuffle=False): classes are numbered in order of first appearance, the
// samples sorted by that number are dealt round-robin to the folds (which fixes how many of each
// class every fold gets), and each class's samples then fill the folds in data order, fold 0
// first. With shuffle the allocation is the same and each class's fold ids are permuted (as sklearn
// does), by Loom's seeded SplitMix64 instead of numpy's generator: deterministic, not sklearn's
// exact permutation. Unlike sklearn, which only warns, a class with fewer members than folds is an
// error: some test fold would miss that class and its per-class metrics would be undefined.
namespace Loom.Evaluation.Splitting;

/// <summary>Stratified k-fold splitter (<c>sklearn.model_selection.StratifiedKFold</c>).</summary>
public sealed class StratifiedKFold
{
    /// <summary>Number of folds (at least 2).</summary>
    public int FoldCount { get; }

    /// <summary>Whether each class's fold assignment is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>Seed of the shuffle.</summary>
    public ulong Seed { get; }

    public StratifiedKFold(int foldCount, bool shuffle = false, ulong seed = 0)
    {
        if (foldCount < 2)
            throw new ArgumentOutOfRangeException(nameof(foldCount), foldCount, "foldCount must be at least 2 (k-fold cross-validation needs a train and a test part).");
        FoldCount = foldCount;
        Shuffle = shuffle;
        Seed = seed;
    }

    /// <summary>The test fold (0..FoldCount−1) of every sample.</summary>
    public int[] AssignFolds(ReadOnlySpan<int> labels)
    {
        if (labels.IsEmpty) throw new ArgumentException("labels is empty: there is nothing to split.", nameof(labels));
        // classes in order of first appearance (sklearn's y_encoded)
        var classOf = new Dictionary<int, int>();
        var classLabels = new List<int>();
        var encoded = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (!classOf.TryGetValue(labels[i], out int c))
            {
                c = classLabels.Count;
                classOf[labels[i]] = c;
                classLabels.Add(labels[i]);
            }
            encoded[i] = c;
        }
        int classes = classLabels.Count;
        var counts = new int[classes];
        foreach (int c in encoded) counts[c]++;
        for (int c = 0; c < classes; c++)
            if (counts[c] < FoldCount)
                throw new ArgumentException(
                    $"class {classLabels[c]} has {counts[c]} member(s), fewer than the {FoldCount} folds: every test fold needs at least one " +
                    "sample of every class. Use fewer folds, or merge or drop that class.", nameof(labels));

        // allocation[f, c]: how many samples of class c fold f receives when the class-sorted samples are dealt round-robin
        var allocation = new int[FoldCount, classes];
        for (int c = 0, position = 0; c < classes; c++)
            for (int j = 0; j < counts[c]; j++, position++)
                allocation[position % FoldCount, c]++;

        var rng = Shuffle ? new SplitMix64(Seed) : null;
        var folds = new int[labels.Length];
        var next = new int[classes];
        var perClass = new int[classes][];
        for (int c = 0; c < classes; c++)
        {
            var ids = new int[counts[c]];
            for (int f = 0, k = 0; f < FoldCount; f++)
                for (int j = 0; j < allocation[f, c]; j++) ids[k++] = f;
            rng?.Shuffle<int>(ids);
            perClass[c] = ids;
        }
        for (int i = 0; i < labels.Length; i++)
        {
            int c = encoded[i];
            folds[i] = perClass[c][next[c]++];
        }
        return folds;
    }

    /// <summary>The <see cref="FoldCount"/> splits: fold f tests on the samples assigned to f and trains on the rest.</summary>
    public IReadOnlyList<Fold> Split(ReadOnlySpan<int> labels)
    {
        int[] assignment = AssignFolds(labels);
        var result = new Fold[FoldCount];
        for (int f = 0; f < FoldCount; f++)
        {
            var train = new List<int>();
            var test = new List<int>();
            for (int i = 0; i < assignment.Length; i++) (assignment[i] == f ? test : train).Add(i);
            result[f] = new Fold(f, [.. train], [.. test]);
        }
        return result;
    }
}
