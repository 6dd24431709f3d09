using System.Text.Json;
using Loom.Data.Dedup;
using Loom.Data.Pipeline;

namespace Loom.Data.Tests.Dedup;

public class NearDuplicateTests
{
    private static HashSet<string> Shingles(string text, int n)
    {
        var words = text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string(w.Where(char.IsLetterOrDigit).ToArray())).Where(w => w.Length > 0).ToArray();
        return Enumerable.Range(0, Math.Max(1, words.Length - n + 1)).Select(i => string.Join(' ', words.Skip(i).Take(n))).ToHashSet();
    }

    internal static double Jaccard(string a, string b)
    {
        var x = Shingles(a, 5);
        var y = Shingles(b, 5);
        return (double)x.Intersect(y).Count() / x.Union(y).Count();
    }

    // Edits a paragraph by replacing a share of its words with words from another paragraph (seeded).
    private static string Edit(string text, double rate, Random rng, string[] vocabulary)
    {
        var words = text.Split(' ');
        for (int i = 0; i < words.Length; i++)
            if (rng.NextDouble() < rate) words[i] = vocabulary[rng.Next(vocabulary.Length)];
        return string.Join(' ', words);
    }

    /// <summary>
    /// Planted set: 400 real WikiText-2 paragraphs, and edited copies of 240 of them whose true 5-gram
    /// Jaccard similarity (measured, not assumed) is either ≥ 0.8 (must be found) or ≤ 0.5 (must not).
    /// </summary>
    [Fact]
    public void PlantedNearDuplicatesAreFoundWithHighRecallAndPrecision()
    {
        var paragraphs = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "wikitext2_paragraphs.txt"));
        var vocabulary = paragraphs.SelectMany(p => p.Split(' ')).Where(w => w.Length > 3).Distinct().ToArray();
        var rng = new Random(20261122);
        var docs = paragraphs.Select((p, i) => (Id: $"p{i}", Text: p)).ToList();
        var positives = new Dictionary<string, (string Original, double Jaccard)>();
        var negatives = new Dictionary<string, (string Original, double Jaccard)>();
        for (int i = 0; i < 240; i++)
        {
            int source = rng.Next(paragraphs.Length);
            bool near = i % 3 != 0;
            string copy;
            double j;
            do
            {
                double rate = near ? rng.NextDouble() * 0.05 : 0.15 + rng.NextDouble() * 0.3;
                copy = Edit(paragraphs[source], rate, rng, vocabulary);
                j = Jaccard(paragraphs[source], copy);
            } while (near ? j < 0.8 : j > 0.5);
            string id = $"copy{i}";
            (near ? positives : negatives)[id] = ($"p{source}", j);
            int at = docs.FindIndex(d => d.Id == $"p{source}") + 1;
            docs.Insert(rng.Next(at, docs.Count + 1), (id, copy));   // always after its original
        }
        string dir = Path.Combine(Path.GetTempPath(), "loom-neardup-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, docs.Select(d => JsonSerializer.Serialize(new { id = d.Id, text = d.Text })));
        var report = Curator.Run(new CurationConfig
        {
            Input = [input], Output = Path.Combine(dir, "out"), Stages = [], Dedup = new DedupOptions { Exact = false },
        }, threads: 2)!;
        var removed = File.ReadLines(Path.Combine(dir, "out", "removed.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (Id: e.GetProperty("id").GetString()!, Of: e.GetProperty("_duplicate_of").GetString()!)).ToList();
        // A copy of a copy's original (two copies of one paragraph) counts when it points at that paragraph's cluster.
        bool Correct((string Id, string Of) r) =>
            positives.TryGetValue(r.Id, out var p) && (p.Original == r.Of || positives.TryGetValue(r.Of, out var q) && q.Original == p.Original)
            || positives.Any(kv => kv.Key == r.Of && kv.Value.Original == r.Id);
        int truePositives = removed.Count(Correct);
        double precision = removed.Count == 0 ? 0 : (double)truePositives / removed.Count;
        double recall = (double)positives.Keys.Count(k => removed.Any(r => r.Id == k && Correct(r))) / positives.Count;
        Assert.True(recall >= 0.95, $"recall {recall:F3} over {positives.Count} planted pairs with J ≥ 0.8; missed: {string.Join(", ", positives.Where(kv => removed.All(r => r.Id != kv.Key)).Select(kv => $"{kv.Key} J={kv.Value.Jaccard:F2}"))}");
        Assert.True(precision >= 0.99, $"precision {precision:F3}: {string.Join(", ", removed.Where(r => !Correct(r)).Select(r => $"{r.Id}→{r.Of}"))}");
        Assert.DoesNotContain(removed, r => negatives.ContainsKey(r.Id));
        Assert.Equal(removed.Count, report.RemovedByStage["near_dedup"]);
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "neardup_scores.txt"), $"recall {recall:F3} precision {precision:F3} positives {positives.Count} negatives {negatives.Count}");
    }

    [Fact]
    public void SignatureEstimatesJaccard()
    {
        var hasher = new MinHasher(new MinHashOptions { Bands = 32, Rows = 8 });
        var paragraphs = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "wikitext2_paragraphs.txt"));
        var rng = new Random(3);
        var vocabulary = paragraphs.SelectMany(p => p.Split(' ')).Distinct().ToArray();
        var words = new List<ulong>();
        double worst = 0;
        for (int i = 0; i < 30; i++)
        {
            string a = paragraphs[i], b = Edit(a, rng.NextDouble() * 0.2, rng, vocabulary);
            var sa = new uint[256];
            var sb = new uint[256];
            MinHasher.NormalizedWords(a, words); hasher.Signature(words, sa);
            MinHasher.NormalizedWords(b, words); hasher.Signature(words, sb);
            worst = Math.Max(worst, Math.Abs(MinHasher.EstimatedJaccard(sa, sb) - Jaccard(a, b)));
        }
        Assert.True(worst < 0.12, $"largest error of the estimate {worst:F3} (256 hashes: σ ≤ 0.031)");
    }
}
