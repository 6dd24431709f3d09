// The non-cryptographic hashes Loom.Data uses for words, lines and n-grams: FNV-1a over UTF-16
// units (Fowler, Noll & Vo; 64-bit offset basis and prime) followed by a 64-bit avalanche, the
// finaliser of SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
// generators"), so that every output bit depends on every input bit before a value is bucketed or
// compared by a few bits.
namespace Loom.Data.Text;

internal static class Hashing
{
    public const ulong FnvOffset = 14695981039346656037UL;
    public const ulong FnvPrime = 1099511628211UL;

    /// <summary>One FNV-1a step.</summary>
    public static ulong Fnv(ulong h, char c) => (h ^ c) * FnvPrime;

    /// <summary>FNV-1a of <paramref name="s"/>, avalanched.</summary>
    public static ulong Hash(ReadOnlySpan<char> s)
    {
        ulong h = FnvOffset;
        foreach (char c in s) h = (h ^ c) * FnvPrime;
        return Mix(h);
    }

    /// <summary>SplitMix64's finaliser: a bijection of 64-bit values with full avalanche.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
