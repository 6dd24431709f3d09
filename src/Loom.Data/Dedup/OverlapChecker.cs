// Train/test contamination check with the curation dedup's own hashing (MinHasher): a test text is
// an exact overlap when its normalised content hash (ContentHash: lower-cased letters and digits of
// its words) equals a training text's, and a near duplicate when a training text shares an LSH band
// of its MinHash signature and the share of equal signature values reaches the threshold (the
// MinHash estimate of word-n-gram Jaccard similarity, Broder 1997; the same bands, rows and
// threshold as `loom data curate`'s near-duplicate stage). Texts too short for one n-gram are
// compared exactly only.
using System.Runtime.InteropServices;

namespace Loom.Data.Dedup;

/// <summary>What the check found: test indexes with an exact or near-duplicate training text.</summary>
public sealed record OverlapReport(int TestCount, int TrainCount, IReadOnlyList<int> Exact, IReadOnlyList<(int Test, int Train, double Similarity)> Near)
{
    /// <summary>Test texts with any overlap.</summary>
    public int Overlapping => Exact.Count + Near.Count;

    /// <summary>A one-line warning, or null when nothing overlaps.</summary>
    public string? Warning(string testName, string trainName) => Overlapping == 0 ? null
        : $"{Overlapping} of {TestCount} test documents of {testName} overlap the training data {trainName} ({Exact.Count} exact, {Near.Count} near-duplicate by MinHash); scores on them measure memory, not generalisation.";
}

/// <summary>Finds test texts that also occur (exactly or nearly) in training texts.</summary>
public static class OverlapChecker
{
    public static OverlapReport Check(IReadOnlyList<string> train, IReadOnlyList<string> test, MinHashOptions? options = null)
    {
        options ??= new MinHashOptions();
        options.Validate();
        var hasher = new MinHasher(options);
        int H = options.Hashes, R = options.Rows;
        var exact = new HashSet<UInt128>();
        var bands = new Dictionary<(int Band, ulong Key), List<int>>();
        var signatures = new List<uint[]?>(train.Count);
        var words = new List<ulong>();
        for (int i = 0; i < train.Count; i++)
        {
            exact.Add(MinHasher.ContentHash(train[i]));
            words.Clear();
            MinHasher.NormalizedWords(train[i], words);
            var sig = new uint[H];
            if (!hasher.Signature(words, sig)) { signatures.Add(null); continue; }
            signatures.Add(sig);
            for (int b = 0; b < options.Bands; b++)
            {
                var key = (b, BandKey(sig.AsSpan(b * R, R)));
                if (!bands.TryGetValue(key, out var list)) bands[key] = list = [];
                list.Add(i);
            }
        }
        var exactHits = new List<int>();
        var nearHits = new List<(int, int, double)>();
        var tsig = new uint[H];
        for (int i = 0; i < test.Count; i++)
        {
            if (exact.Contains(MinHasher.ContentHash(test[i]))) { exactHits.Add(i); continue; }
            words.Clear();
            MinHasher.NormalizedWords(test[i], words);
            if (!hasher.Signature(words, tsig)) continue;
            int best = -1;
            double bestSim = 0;
            var seen = new HashSet<int>();
            for (int b = 0; b < options.Bands; b++)
            {
                if (!bands.TryGetValue((b, BandKey(tsig.AsSpan(b * R, R))), out var list)) continue;
                foreach (int j in list)
                {
                    if (!seen.Add(j)) continue;
                    var s = signatures[j]!;
                    int equal = 0;
                    for (int k = 0; k < H; k++) if (s[k] == tsig[k]) equal++;
                    double sim = (double)equal / H;
                    if (sim > bestSim) { bestSim = sim; best = j; }
                }
            }
            if (best >= 0 && bestSim >= options.Threshold) nearHits.Add((i, best, bestSim));
        }
        return new OverlapReport(test.Count, train.Count, exactHits, nearHits);
    }

    // FNV-1a over a band's values.
    private static ulong BandKey(ReadOnlySpan<uint> band)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte x in MemoryMarshal.AsBytes(band)) { h ^= x; h *= 1099511628211UL; }
        return h;
    }
}
