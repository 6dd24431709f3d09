// Signatures for de-duplication.
//
// Exact: SHA-256 (first 16 bytes) of the canonical text — the words reduced to their lower-cased
// letters and digits, joined by single spaces (TextAnalysis) — so copies differing only in case,
// spacing or punctuation collide.
//
// Near: MinHash (Broder 1997) over word n-gram shingles of the same normalised words, with LSH
// banding (Leskovec, Rajaraman & Ullman, "Mining of Massive Datasets", ch. 3): B bands of R rows;
// two documents become candidates when all R values of some band agree, which for Jaccard s has
// probability 1 − (1 − s^R)^B (14 × 8: 0.92 at s = 0.8, 0.99 at 0.85, 0.05 at 0.5). Datatrove's
// defaults: 5-grams, 14 bands × 8 rows. Each of the B·R hash functions is h_i(x) = fmix32(a_i·x + b_i)
// (a_i odd, so a bijection of 32-bit values; fmix32 from MurmurHash3), computed eight at a time in
// 256-bit vectors.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using System.Text;
using Loom.Data.Text;

namespace Loom.Data.Dedup;

/// <summary>MinHash settings.</summary>
public sealed record MinHashOptions
{
    /// <summary>Words per shingle.</summary>
    public int NGram { get; init; } = 5;
    /// <summary>LSH bands.</summary>
    public int Bands { get; init; } = 14;
    /// <summary>Rows (hash values) per band.</summary>
    public int Rows { get; init; } = 8;
    /// <summary>
    /// Candidates from LSH are confirmed when the share of equal signature values (the MinHash estimate of
    /// Jaccard similarity) reaches this. Lower than the target similarity because the estimate has a
    /// standard deviation of √(s(1−s)/(B·R)) ≈ 0.04 at s = 0.8.
    /// </summary>
    public double Threshold { get; init; } = 0.7;
    /// <summary>Seed of the hash functions (every shard must use the same).</summary>
    public int Seed { get; init; } = 1;

    public int Hashes => Bands * Rows;

    /// <summary>Most hashes per signature accepted (bands × rows).</summary>
    public const int MaxHashes = 4096;

    public void Validate()
    {
        if (NGram < 1 || Bands < 1 || Rows < 1 || (long)Bands * Rows % 8 != 0)
            throw new ArgumentException($"minhash needs n_gram ≥ 1, bands ≥ 1 and bands × rows a multiple of 8; got {this}.");
        // Each document stores bands × rows hashes: computed as a long (an int product overflowed and crashed
        // the merge), and bounded so a signature stays a few KB (datatrove and text-dedup use 100–450).
        if ((long)Bands * Rows > MaxHashes)
            throw new ArgumentException($"minhash bands × rows is {(long)Bands * Rows:N0}; it must be at most {MaxHashes:N0} (the usual settings are 100–450 hashes, e.g. bands 14 × rows 8).");
        if (Threshold is < 0 or > 1) throw new ArgumentException($"minhash.threshold must be in [0, 1]; got {Threshold}.");
    }
}

/// <summary>Computes content hashes and MinHash signatures.</summary>
public sealed class MinHasher
{
    private readonly MinHashOptions _o;
    private readonly Vector256<uint>[] _a, _b;

    /// <param name="options">Settings.</param>
    public MinHasher(MinHashOptions? options = null)
    {
        _o = options ?? new MinHashOptions();
        _o.Validate();
        var rng = new Random(_o.Seed);
        int vectors = _o.Hashes / 8;
        _a = new Vector256<uint>[vectors];
        _b = new Vector256<uint>[vectors];
        Span<uint> a = stackalloc uint[8], b = stackalloc uint[8];
        for (int v = 0; v < vectors; v++)
        {
            for (int k = 0; k < 8; k++) { a[k] = (uint)rng.NextInt64(1, uint.MaxValue) | 1u; b[k] = (uint)rng.NextInt64(0, uint.MaxValue); }
            _a[v] = Vector256.Create<uint>(a);
            _b[v] = Vector256.Create<uint>(b);
        }
    }

    /// <summary>The settings.</summary>
    public MinHashOptions Options => _o;

    /// <summary>
    /// The de-duplication words of <paramref name="text"/> (whitespace-separated, reduced to lower-cased letters and
    /// digits, those with neither dropped) as hashes, and optionally the canonical text they spell (joined by spaces).
    /// </summary>
    public static void NormalizedWords(string text, List<ulong> wordHashes, StringBuilder? canonical = null)
    {
        var analysis = TextAnalysis.Of(text);
        wordHashes.Clear();
        foreach (ulong w in analysis.Normalized) wordHashes.Add(w);
        if (canonical is null) return;
        char[] buffer = [];
        int length = analysis.Canonical(ref buffer);
        canonical.Append(buffer, 0, length);
    }

    /// <summary>128-bit hash of the normalised text (exact de-duplication).</summary>
    public static UInt128 ContentHash(string text)
    {
        char[] buffer = [];
        int length = TextAnalysis.Of(text).Canonical(ref buffer);
        return ContentHash(buffer.AsSpan(0, length));
    }

    /// <summary>128-bit hash (the first half of SHA-256 over the UTF-16 code units) of a canonical text.</summary>
    public static UInt128 ContentHash(ReadOnlySpan<char> canonical)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(MemoryMarshal.AsBytes(canonical), digest);
        return new UInt128(BitConverter.ToUInt64(digest), BitConverter.ToUInt64(digest[8..]));
    }

    /// <summary>
    /// Fills <paramref name="signature"/> (Bands × Rows values) from the words' hashes; returns false when the
    /// text has no words (no signature).
    /// </summary>
    public bool Signature(List<ulong> wordHashes, Span<uint> signature) => Signature(CollectionsMarshal.AsSpan(wordHashes), signature);

    /// <inheritdoc cref="Signature(List{ulong}, Span{uint})"/>
    public bool Signature(ReadOnlySpan<ulong> wordHashes, Span<uint> signature)
    {
        if (signature.Length != _o.Hashes) throw new ArgumentException($"signature needs {_o.Hashes} values; got {signature.Length}.");
        int n = wordHashes.Length, g = _o.NGram;
        if (n == 0) return false;
        int vectors = _a.Length;
        Span<Vector256<uint>> mins = stackalloc Vector256<uint>[vectors];
        mins.Fill(Vector256.Create(uint.MaxValue));
        int shingles = Math.Max(1, n - g + 1);
        for (int s = 0; s < shingles; s++)
        {
            ulong x = 0x9E3779B97F4A7C15UL;
            for (int i = s; i < Math.Min(n, s + g); i++) x = Hashing.Mix(x ^ wordHashes[i]);
            var v = Vector256.Create((uint)(x ^ (x >> 32)));
            for (int k = 0; k < vectors; k++)
            {
                var h = v * _a[k] + _b[k];
                h ^= Vector256.ShiftRightLogical(h, 16);
                h *= Vector256.Create(0x85EBCA6Bu);
                h ^= Vector256.ShiftRightLogical(h, 13);
                h *= Vector256.Create(0xC2B2AE35u);
                h ^= Vector256.ShiftRightLogical(h, 16);
                mins[k] = Vector256.Min(mins[k], h);
            }
        }
        for (int k = 0; k < vectors; k++) mins[k].CopyTo(signature.Slice(k * 8, 8));
        return true;
    }

    /// <summary>Key of band <paramref name="band"/> of a signature.</summary>
    public ulong BandKey(ReadOnlySpan<uint> signature, int band)
    {
        ulong h = 0xCBF29CE484222325UL ^ (ulong)band;
        foreach (uint v in signature.Slice(band * _o.Rows, _o.Rows)) h = Hashing.Mix(h ^ v);
        return h;
    }

    /// <summary>Share of equal values: the MinHash estimate of Jaccard similarity.</summary>
    public static double EstimatedJaccard(ReadOnlySpan<uint> a, ReadOnlySpan<uint> b)
    {
        int same = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] == b[i]) same++;
        return (double)same / a.Length;
    }
}
