// Settings of a low-rank factorisation: one fixed rank, or the rank that keeps a fraction of each
// weight's spectral energy Σσᵢ².
using Loom.Models.Projections;

namespace Loom.Compression.LowRank;

/// <summary>How to choose each projection's rank.</summary>
public sealed record LowRankOptions
{
    /// <summary>The same rank for every projection (clamped to min(in, out)); null: use <see cref="Energy"/>.</summary>
    public int? Rank { get; init; }

    /// <summary>Per projection, the smallest rank keeping this fraction of Σσ² (e.g. 0.9); null: use <see cref="Rank"/>.</summary>
    public double? Energy { get; init; }

    /// <summary>Which projections to factor (null: every projection inside a numbered transformer layer; embeddings and the LM head stay dense).</summary>
    public Func<ProjectionSpec, bool>? Include { get; init; }

    /// <summary>Throws naming the option when the settings are inconsistent.</summary>
    public void Validate()
    {
        if (Rank is null == Energy is null) throw new ArgumentException("Give exactly one of --rank R or --energy F.");
        if (Rank is < 1) throw new ArgumentOutOfRangeException(nameof(Rank), Rank, $"--rank must be ≥ 1; got {Rank}.");
        if (Energy is { } e && !(e > 0 && e <= 1)) throw new ArgumentOutOfRangeException(nameof(Energy), e, $"--energy must be in (0, 1] (the fraction of Σσ² kept); got {e}.");
    }
}
