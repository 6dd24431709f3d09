// The seeded generator behind shuffled splits: one 64-bit word of state, the same numbers on every
// platform and .NET version (System.Random(seed) promises neither). SplitMix64: Steele, Lea &
// Flood, "Fast Splittable Pseudorandom Number Generators", OOPSLA 2014. (Loom.Training has the same
// generator; Evaluation references nothing but the BCL, so it keeps its own internal copy.)
namespace Loom.Evaluation.Splitting;

internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>) (Lemire's multiply-shift; bias below 2⁻³²).</summary>
    public int Next(int maxExclusive) => (int)((NextUInt64() >> 32) * (ulong)maxExclusive >> 32);

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
