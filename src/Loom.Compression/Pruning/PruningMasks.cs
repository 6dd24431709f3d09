// Mask selection shared by the three pruners: the k smallest scores of a set (ties to the lower
// index, so a mask is a function of the scores alone), and N:M groups along a row.
namespace Loom.Compression.Pruning;

/// <summary>Chooses which weights to remove from a score per weight (smaller: removed first).</summary>
public static class PruningMasks
{
    /// <summary>
    /// Sets <paramref name="mask"/>[i] for the <paramref name="k"/> smallest <paramref name="scores"/>
    /// (ties: lower index first). Other entries are left as they are.
    /// </summary>
    public static void MarkSmallest(ReadOnlySpan<double> scores, int k, Span<bool> mask)
    {
        if (k <= 0) return;
        if (k >= scores.Length) { mask.Fill(true); return; }
        var order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var keys = scores.ToArray();
        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));
        for (int i = 0; i < k; i++) mask[order[i]] = true;
    }

    /// <summary>
    /// For each row of a (rows, cols) score matrix, in each group of <paramref name="m"/> consecutive
    /// columns starting at a multiple of m within [<paramref name="from"/>, <paramref name="to"/>), marks the
    /// <paramref name="n"/> smallest.
    /// </summary>
    public static void MarkNOfM(ReadOnlySpan<double> scores, int rows, int cols, int n, int m, Span<bool> mask, int from = 0, int to = -1)
    {
        if (to < 0) to = cols;
        Span<int> order = stackalloc int[m];
        for (int r = 0; r < rows; r++)
            for (int g = from; g < to; g += m)
            {
                var s = scores.Slice(r * cols + g, m);
                for (int i = 0; i < m; i++) order[i] = i;
                // Insertion sort of m ≤ 64 entries by (score, index).
                for (int i = 1; i < m; i++)
                {
                    int v = order[i], j = i - 1;
                    while (j >= 0 && (s[order[j]] > s[v] || s[order[j]] == s[v] && order[j] > v)) { order[j + 1] = order[j]; j--; }
                    order[j + 1] = v;
                }
                for (int i = 0; i < n; i++) mask[r * cols + g + order[i]] = true;
            }
    }

    /// <summary>Throws when <paramref name="inFeatures"/> is not a multiple of the pattern's M.</summary>
    public static void CheckGroups(SparsityPattern pattern, int inFeatures, string path)
    {
        if (pattern.IsSemiStructured && inFeatures % pattern.M != 0)
            throw new ArgumentException($"{path} has {inFeatures} inputs, not a multiple of M = {pattern.M}, so --pattern {pattern.N}:{pattern.M} cannot group them; use unstructured --sparsity for this model.");
    }
}
