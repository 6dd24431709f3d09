using Loom.Data.Dedup;
using Loom.Data.Documents;
using Loom.Data.Stages;
using Loom.Data.Text;

namespace Loom.Data.Tests.Text;

public class TextAnalysisTests
{
    // Letters and digits of several scripts (É, ß, Σ, Arabic-Indic ٣), punctuation, ASCII and Unicode
    // whitespace (NBSP, ideographic space), a dash, an emoji (a surrogate pair, not a letter).
    private static readonly string[] Alphabet = ["a", "b", "Z", "q", "7", "0", "É", "ß", "Σ", "٣", "'", "!", ",", "-", "—", "#", " ", " ", "  ", "\t", "\n", "\u00A0", "\u3000", "😀", "Don't", "the", "THE"];

    private static string RandomText(Random rng, int pieces) => string.Concat(Enumerable.Range(0, pieces).Select(_ => Alphabet[rng.Next(Alphabet.Length)]));

    private static ulong Fnv(IEnumerable<char> chars)
    {
        ulong h = Hashing.FnvOffset;
        foreach (char c in chars) h = (h ^ c) * Hashing.FnvPrime;
        return h;
    }

    // The definitions, written the slow and obvious way.
    private static List<(int Start, int Length, ulong Raw, ulong Clean, ulong Norm, bool Alnum, bool Letter)> Naive(string text)
    {
        var words = new List<(int, int, ulong, ulong, ulong, bool, bool)>();
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            int start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            if (i == start) continue;
            string w = text[start..i];
            int a = 0, b = w.Length;
            while (a < b && !char.IsLetterOrDigit(w[a])) a++;
            while (b > a && !char.IsLetterOrDigit(w[b - 1])) b--;
            string clean = new(w[a..b].Select(char.ToLowerInvariant).ToArray());
            string norm = new(w.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
            words.Add((start, w.Length, Hashing.Mix(Fnv(w)), clean.Length == 0 ? 0 : Hashing.Mix(Fnv(clean)), Fnv(norm), w.Any(char.IsLetterOrDigit), w.Any(char.IsLetter)));
        }
        return words;
    }

    [Fact]
    public void WordsAndHashesMatchTheNaiveDefinitions()
    {
        var rng = new Random(11);
        for (int t = 0; t < 2000; t++)
        {
            string text = RandomText(rng, rng.Next(0, 60));
            var expected = Naive(text);
            var a = TextAnalysis.Of(text);
            Assert.Equal(expected.Count, a.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                var w = a.Words[i];
                Assert.Equal(expected[i], (w.Start, w.Length, w.Raw, w.Clean, w.Norm, w.HasLetterOrDigit, w.HasLetter));
            }
            Assert.Equal(expected.Where(w => w.Alnum).Select(w => w.Norm), a.Normalized.ToArray());
            char[] buffer = [];
            int length = a.Canonical(ref buffer);
            string canonical = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
                .SelectMany(w => w.Split(['\u00A0', '\u3000'], StringSplitOptions.RemoveEmptyEntries))
                .Select(w => new string(w.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray())).Where(w => w.Length > 0));
            Assert.Equal(canonical, new string(buffer, 0, length));
        }
        Assert.Equal(Hashing.Hash("don't"), TextAnalysis.CleanHash("\"Don't!\""));
    }

    [Fact]
    public void CountTableCountsLikeADictionary()
    {
        var rng = new Random(3);
        var table = new CountTable();
        for (int round = 0; round < 200; round++)
        {
            int n = rng.Next(1, 3000);
            var keys = Enumerable.Range(0, n).Select(_ => Hashing.Mix((ulong)rng.Next(Math.Max(1, n / rng.Next(1, 8))))).ToArray();
            table.Reset(n);
            var reference = new Dictionary<ulong, int>();
            foreach (var k in keys)
            {
                reference[k] = reference.GetValueOrDefault(k) + 1;
                Assert.Equal(reference[k], table.Add(k));
            }
        }
    }

    [Fact]
    public void SpillingSorterMergesItsRunsInOrder()
    {
        var rng = new Random(9);
        string dir = Path.Combine(Path.GetTempPath(), "loom-sort-" + Guid.NewGuid().ToString("N"));
        var items = Enumerable.Range(0, 10_000).Select(i => (Key: (ulong)rng.Next(500), Doc: i)).ToList();
        using (var sorter = new SpillingSorter<(ulong Key, int Doc)>(items.Count, 777, static (a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : a.Doc.CompareTo(b.Doc), dir))
        {
            foreach (var item in items) sorter.Add(item);
            Assert.Equal(items.OrderBy(i => i.Key).ThenBy(i => i.Doc), sorter.Sorted());
            Assert.Equal(items.Count / 777 + 1, sorter.Spills);
        }
        Assert.Empty(Directory.EnumerateFiles(dir));
    }

    // The repetition rules against a plain transcription of Rae et al.'s table A1 (dictionaries of
    // n-gram strings): the same verdict, reason and detail on texts built from a tiny vocabulary,
    // so that lines, paragraphs and n-grams repeat at every rate.
    [Fact]
    public void RepetitionFilterAgreesWithTheNaiveRules()
    {
        var rng = new Random(21);
        string[] vocabulary = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "it", "slept", "quite", "happily", "all", "day", "long", "near", "window", "while", "rain", "fell"];
        var filter = new RepetitionFilter();
        var reasons = new HashSet<string>();
        for (int t = 0; t < 1500; t++)
        {
            int distinct = rng.Next(2, vocabulary.Length + 1);
            var lines = Enumerable.Range(0, rng.Next(1, 8)).Select(_ => string.Join(' ', Enumerable.Range(0, rng.Next(1, 30)).Select(_ => vocabulary[rng.Next(distinct)]))).ToList();
            if (rng.Next(3) == 0) lines.Add(lines[0]);
            string text = string.Join(rng.Next(3) == 0 ? "\n\n" : "\n", lines);
            var expected = NaiveRepetition(text);
            var actual = filter.Process(new Document { Id = "t", Text = text, Source = "test" });
            Assert.Equal(expected, actual);
            reasons.Add(actual.Reason ?? "kept");
        }
        Assert.True(reasons.Count >= 6, string.Join(", ", reasons));
    }

    private static Verdict NaiveRepetition(string text)
    {
        var o = new RepetitionOptions();
        foreach (var (sep, maxFrac, maxChars, what) in new[] { ("\n\n", o.MaxDuplicateParagraphFraction, o.MaxDuplicateParagraphCharFraction, "paragraph"), ("\n", o.MaxDuplicateLineFraction, o.MaxDuplicateLineCharFraction, "line") })
        {
            var seen = new HashSet<string>();
            int total = 0, dups = 0;
            long dupChars = 0;
            foreach (var raw in text.Split(sep))
            {
                string part = raw.Trim();
                if (part.Length == 0) continue;
                total++;
                if (!seen.Add(part)) { dups++; dupChars += part.Length; }
            }
            if (total > 0 && dups > maxFrac * total) return Verdict.Remove($"dup_{what}_frac", $"{dups} of {total} {what}s repeat");
            if (dupChars > maxChars * text.Length) return Verdict.Remove($"dup_{what}_char_frac", $"{dupChars} of {text.Length} characters in repeated {what}s");
        }
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        int n = words.Length;
        if (n < 2) return Verdict.Keep;
        long wordChars = words.Sum(w => (long)w.Length);
        string Gram(int i, int g) => string.Join('\u0001', words, i, g);
        for (int k = 0; k < o.TopNGramFractions.Count; k++)
        {
            int g = k + 2;
            if (n < g) break;
            var counts = new Dictionary<string, int>();
            int best = 0, bestAt = 0;
            for (int i = 0; i + g <= n; i++)
            {
                int c = counts[Gram(i, g)] = counts.GetValueOrDefault(Gram(i, g)) + 1;
                if (c > best) { best = c; bestAt = i; }
            }
            if (best < 2) continue;
            long chars = Enumerable.Range(bestAt, g).Sum(j => (long)words[j].Length);
            if (chars * best > o.TopNGramFractions[k] * wordChars)
                return Verdict.Remove($"top_{g}_gram", $"the most frequent {g}-gram covers {(double)chars * best / wordChars:P0} of the characters");
        }
        for (int k = 0; k < o.DuplicateNGramFractions.Count; k++)
        {
            int g = k + 5;
            if (n < g) break;
            var seen = new HashSet<string>();
            long dupChars = 0;
            int covered = -1;
            for (int i = 0; i + g <= n; i++)
            {
                if (seen.Add(Gram(i, g))) continue;
                for (int j = Math.Max(i, covered + 1); j < i + g; j++) dupChars += words[j].Length;
                covered = i + g - 1;
            }
            if (dupChars > o.DuplicateNGramFractions[k] * wordChars)
                return Verdict.Remove($"duplicated_{g}_n_grams", $"repeated {g}-grams cover {(double)dupChars / wordChars:P0} of the characters");
        }
        return Verdict.Keep;
    }
}
