using System.Globalization;
using System.Text.Json;
using Loom.Data.Stages;

namespace Loom.Data.Tests.Stages;

public class PiiRedactorTests
{
    private static readonly string[] Measured = ["EMAIL_ADDRESS", "CREDIT_CARD", "IP_ADDRESS", "US_SSN", "IBAN_CODE", "PHONE_NUMBER"];

    // Code-point offsets (Python) → UTF-16 offsets (.NET).
    private static int Utf16(string s, int codePoint)
    {
        int i = 0;
        for (int cp = 0; cp < codePoint && i < s.Length; cp++) i += char.IsHighSurrogate(s[i]) ? 2 : 1;
        return i;
    }

    // Span-level scoring: a prediction is correct when it overlaps a gold span of its type; a gold span is
    // found when a prediction of its type overlaps it.
    [Fact]
    public void PrecisionAndRecallOnPresidioSyntheticSentences()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "presidio_synth_dataset_v2.json")));
        var redactor = new PiiRedactor();
        var tp = Measured.ToDictionary(t => t, _ => 0);
        var predicted = Measured.ToDictionary(t => t, _ => 0);
        var gold = Measured.ToDictionary(t => t, _ => 0);
        var found = Measured.ToDictionary(t => t, _ => 0);
        var misses = new List<string>();
        foreach (var row in doc.RootElement.EnumerateArray())
        {
            string text = row.GetProperty("full_text").GetString()!;
            var spans = row.GetProperty("spans").EnumerateArray()
                .Select(s => (Type: s.GetProperty("entity_type").GetString()!, Start: Utf16(text, s.GetProperty("start_position").GetInt32()), End: Utf16(text, s.GetProperty("end_position").GetInt32())))
                .ToList();
            var matches = redactor.Find(text);
            foreach (var m in matches.Where(m => Measured.Contains(m.Type)))
            {
                predicted[m.Type]++;
                if (spans.Any(s => s.Type == m.Type && s.Start < m.Start + m.Length && m.Start < s.End)) tp[m.Type]++;
                else misses.Add($"FP {m.Type} \"{text.Substring(m.Start, m.Length)}\" in: {text}");
            }
            foreach (var s in spans.Where(s => Measured.Contains(s.Type)))
            {
                gold[s.Type]++;
                if (matches.Any(m => m.Type == s.Type && s.Start < m.Start + m.Length && m.Start < s.End)) found[s.Type]++;
                else misses.Add($"FN {s.Type} \"{text[s.Start..s.End]}\"");
            }
        }
        var report = string.Join("; ", Measured.Select(t => string.Create(CultureInfo.InvariantCulture,
            $"{t} P={(predicted[t] == 0 ? 1 : (double)tp[t] / predicted[t]):F3} R={(double)found[t] / gold[t]:F3} (gold {gold[t]})")));
        foreach (var t in Measured)
        {
            double precision = predicted[t] == 0 ? 1 : (double)tp[t] / predicted[t];
            double recall = (double)found[t] / gold[t];
            Assert.True(recall >= 0.95 && precision >= 0.90, $"{t}: {report}\n{string.Join("\n", misses.Where(m => m.Contains(t)).OrderBy(m => m).Take(40))}");
        }
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "pii_scores.txt"), report);
    }

    [Theory]
    [InlineData("4111 1111 1111 1111", true)]
    [InlineData("4111 1111 1111 1112", false)]
    [InlineData("378282246310005", true)]
    public void LuhnDecidesCardNumbers(string number, bool valid) => Assert.Equal(valid, PiiRedactor.IsValidCard(number));

    [Theory]
    [InlineData("GB82 WEST 1234 5698 7654 32", true)]
    [InlineData("DE89370400440532013000", true)]
    [InlineData("DE89370400440532013001", false)]
    public void Mod97DecidesIbans(string iban, bool valid) => Assert.Equal(valid, PiiRedactor.IsValidIban(iban));

    [Fact]
    public void RedactsWithTypedPlaceholders()
    {
        var r = new PiiRedactor();
        string text = "Mail ann@example.org or call +1-202-555-0143; card 4111-1111-1111-1111, SSN 123-45-6789, host 10.0.0.1 and fe80::1ff:fe23:4567:890a, " +
                      "repo https://bob:hunter2@git.example.com/x.git, key AKIAIOSFODNN7EXAMPLE.";
        string redacted = r.Redact(text, []);
        Assert.Equal("Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>; card <CREDIT_CARD>, SSN <US_SSN>, host <IP_ADDRESS> and <IP_ADDRESS>, " +
                     "repo <URL_WITH_CREDENTIALS>, key <API_KEY>.", redacted);
        Assert.Equal("Nothing here, 2024 was a year.", r.Redact("Nothing here, 2024 was a year.", []));
        Assert.Equal("SSN 666-12-3456 is never issued", r.Redact("SSN 666-12-3456 is never issued", []).Replace("<PHONE_NUMBER>", "666-12-3456"));
    }

    // The cue scan only skips patterns that could not match: with and without it the matches are the
    // same, on the Presidio sentences and on random strings dense in digits, separators, '@', ':' and
    // key prefixes (and a few non-ASCII digits, which \d also matches).
    [Fact]
    public void CuesNeverHideAMatch()
    {
        var r = new PiiRedactor();
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "presidio_synth_dataset_v2.json")));
        var texts = doc.RootElement.EnumerateArray().Select(row => row.GetProperty("full_text").GetString()!).ToList();
        var rng = new Random(5);
        string[] pieces = ["0", "1", "7", "9", "12", "345", "6789", " ", "-", ".", "(", ")", "+", ":", "::", "@", "a", "B", "de", "GB", "x", "ext.", "://",
                           "AKIA", "IOSFODNN7EXAMPLE", "Bearer ", "abcdefghijklmnopqrstuvwxyz", "٣", "１", "fe80", "/", ",", "\n"];
        int sentences = texts.Count;
        for (int i = 0; i < 3000; i++) texts.Add(string.Concat(Enumerable.Range(0, rng.Next(1, 40)).Select(_ => pieces[rng.Next(pieces.Length)])));
        // Edited sentences: characters dropped and pieces inserted near their PII.
        for (int i = 0; i < 3000; i++)
        {
            var t = new System.Text.StringBuilder(texts[rng.Next(sentences)]);
            for (int e = rng.Next(1, 6); e > 0 && t.Length > 1; e--)
            {
                int at = rng.Next(t.Length);
                if (rng.Next(2) == 0) t.Remove(at, 1);
                else t.Insert(at, pieces[rng.Next(pieces.Length)]);
            }
            texts.Add(t.ToString());
        }
        int withMatches = 0;
        foreach (var text in texts)
        {
            var expected = r.Find(text, useCues: false);
            Assert.Equal(expected, r.Find(text, useCues: true));
            if (expected.Count > 0) withMatches++;
        }
        Assert.True(withMatches > 900, $"only {withMatches} texts hold PII; the check would be weak");
    }
}
