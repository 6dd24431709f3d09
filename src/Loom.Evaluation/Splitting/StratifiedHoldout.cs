// A stratified train/test hold-out split with scikit-learn 1.2.1's allocation
// (StratifiedShuffleSplit / train_test_split(stratify=y)): n_test = ceil(testFraction·n), then each
// class's train count is _approximate_mode(class_counts, n_train) — the floor of its proportional
// share, the leftover samples going to the largest remainders — and its test count the same rule
// over what is left. Ties between equal remainders and the choice of samples inside a class use
// Loom's seeded generator (sklearn uses numpy's), so counts equal sklearn's whenever the remainders
// are distinct, and the split is deterministic for a seed.
namespace Loom.Evaluation.Splitting;

/// <summary>Stratified hold-out split (<c>train_test_split(..., stratify=y)</c>).</summary>
public static class StratifiedHoldout
{
    /// <summary>Splits the sample indices so the test part holds about <paramref name="testFraction"/> of every class.</summary>
    public static Fold Split(ReadOnlySpan<int> labels, double testFraction, ulong seed = 0)
    {
        if (labels.IsEmpty) throw new ArgumentException("labels is empty: there is nothing to split.", nameof(labels));
        if (!(testFraction > 0 && testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "testFraction must lie strictly between 0 and 1 (e.g. 0.1).");
        int n = labels.Length;
        int nTest = (int)Math.Ceiling(testFraction * n), nTrain = n - nTest;

        var classLabels = new SortedSet<int>();
        foreach (int v in labels) classLabels.Add(v);
        int[] classes = [.. classLabels];
        var position = new Dictionary<int, int>();
        for (int c = 0; c < classes.Length; c++) position[classes[c]] = c;
        var members = new List<int>[classes.Length];
        for (int c = 0; c < classes.Length; c++) members[c] = [];
        for (int i = 0; i < n; i++) members[position[labels[i]]].Add(i);

        for (int c = 0; c < classes.Length; c++)
            if (members[c].Count < 2)
                throw new ArgumentException(
                    $"class {classes[c]} has {members[c].Count} member: a stratified split needs at least 2 per class (one for each side). Merge or drop that class.", nameof(labels));
        if (nTrain < classes.Length || nTest < classes.Length)
            throw new ArgumentException(
                $"testFraction {testFraction} gives {nTest} test and {nTrain} training samples, but there are {classes.Length} classes: each side needs at least one sample per class.", nameof(testFraction));

        var rng = new SplitMix64(seed);
        var counts = members.Select(m => m.Count).ToArray();
        int[] trainCounts = ApproximateMode(counts, nTrain, rng);
        int[] remaining = counts.Select((count, c) => count - trainCounts[c]).ToArray();
        int[] testCounts = ApproximateMode(remaining, nTest, rng);

        var train = new List<int>(nTrain);
        var test = new List<int>(nTest);
        for (int c = 0; c < classes.Length; c++)
        {
            var shuffled = members[c].ToArray();
            rng.Shuffle<int>(shuffled);
            train.AddRange(shuffled.AsSpan(0, trainCounts[c]));
            test.AddRange(shuffled.AsSpan(trainCounts[c], testCounts[c]));
        }
        train.Sort();
        test.Sort();
        return new Fold(0, [.. train], [.. test]);
    }

    /// <summary>sklearn's _approximate_mode: proportional floors, the rest to the largest remainders (ties by <paramref name="rng"/>).</summary>
    internal static int[] ApproximateMode(int[] classCounts, int draws, SplitMix64 rng)
    {
        double total = classCounts.Sum();
        var continuous = classCounts.Select(c => c / total * draws).ToArray();
        var result = continuous.Select(v => (int)Math.Floor(v)).ToArray();
        int needToAdd = draws - result.Sum();
        if (needToAdd <= 0) return result;
        var remainder = continuous.Select((v, c) => v - result[c]).ToArray();
        foreach (double value in remainder.Distinct().OrderByDescending(v => v))
        {
            if (needToAdd == 0) break;
            int[] tied = Enumerable.Range(0, remainder.Length).Where(c => remainder[c] == value).ToArray();
            rng.Shuffle<int>(tied);
            int addNow = Math.Min(tied.Length, needToAdd);
            for (int j = 0; j < addNow; j++) result[tied[j]]++;
            needToAdd -= addNow;
        }
        return result;
    }
}
