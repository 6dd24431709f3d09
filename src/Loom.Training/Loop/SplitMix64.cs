// A random number generator whose whole state is one 64-bit word, so a checkpoint can save it and
// a resumed run draws exactly the numbers an uninterrupted one would (System.Random's state is
// not accessible). SplitMix64: Steele, Lea & Flood, "Fast Splittable Pseudorandom Number
// Generators", OOPSLA 2014.
namespace Loom.Training.Loop;

/// <summary>SplitMix64 with an explicit, saveable state.</summary>
public sealed class SplitMix64
{
    /// <summary>The full generator state.</summary>
    public ulong State { get; set; }

    public SplitMix64(ulong seed) => State = seed;

    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>) (Lemire's multiply-shift; bias below 2⁻³²).</summary>
    public int Next(int maxExclusive) => (int)((NextUInt64() >> 32) * (ulong)maxExclusive >> 32);
}
