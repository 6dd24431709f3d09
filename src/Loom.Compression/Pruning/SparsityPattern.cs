// Which weights a pruner may zero: a fraction of the whole matrix (unstructured), or N of every M
// consecutive weights along the input dimension (semi-structured N:M, the 2:4 pattern Ampere's sparse
// tensor cores run; Mishra et al. 2021, "Accelerating Sparse Deep Neural Networks").
namespace Loom.Compression.Pruning;

/// <summary>Unstructured sparsity (a fraction) or N:M (N zeros in every M consecutive inputs of a row).</summary>
public sealed record SparsityPattern
{
    private SparsityPattern(double sparsity, int n, int m)
    {
        Sparsity = sparsity;
        N = n;
        M = m;
    }

    /// <summary>The fraction of weights zeroed (N/M for a semi-structured pattern).</summary>
    public double Sparsity { get; }

    /// <summary>Zeros per group (0 when unstructured).</summary>
    public int N { get; }

    /// <summary>Group width along the input dimension (0 when unstructured).</summary>
    public int M { get; }

    /// <summary>True for N:M.</summary>
    public bool IsSemiStructured => M > 0;

    /// <summary>Zero <paramref name="sparsity"/> of the weights, anywhere (0 ≤ sparsity &lt; 1).</summary>
    public static SparsityPattern Unstructured(double sparsity)
    {
        if (!(sparsity >= 0 && sparsity < 1))
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, $"--sparsity must be in [0, 1) (the fraction of weights set to zero); got {sparsity}.");
        return new SparsityPattern(sparsity, 0, 0);
    }

    /// <summary>N zeros in every M consecutive inputs of each output row (0 &lt; N &lt; M).</summary>
    public static SparsityPattern NOfM(int n, int m)
    {
        if (m < 2 || n < 1 || n >= m)
            throw new ArgumentOutOfRangeException(nameof(n), $"--pattern {n}:{m} is not a pattern: it needs 0 < N < M (2:4, 4:8).");
        return new SparsityPattern((double)n / m, n, m);
    }

    /// <summary>Parses "2:4" (N:M).</summary>
    public static SparsityPattern Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int n) || !int.TryParse(parts[1], out int m))
            throw new FormatException($"--pattern \"{text}\" is not N:M; write e.g. 2:4 or 4:8.");
        return NOfM(n, m);
    }

    /// <inheritdoc/>
    public override string ToString() => IsSemiStructured ? $"{N}:{M}" : $"{Sparsity * 100:G4}% unstructured";
}
