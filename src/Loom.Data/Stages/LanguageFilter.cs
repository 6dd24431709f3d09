// Language identification with a character n-gram model (Cavnar & Trenkle 1994; the same family
// as langid.py and fastText's lid without the learned embedding): each language is a multinomial
// over hashed character 1–4-grams of " word " strings (spaces mark word edges), estimated from the
// text in Resources/lang_*.txt (written for this project, see Resources/README.md) with add-one
// smoothing. A document's score for a language is the mean log-likelihood of its n-grams; the
// confidence is the softmax of the scores' differences, scaled by the n-gram count so that short
// texts are less certain. Languages: en, de, fr, es, it, pt, nl.
using System.Reflection;
using Loom.Data.Documents;

namespace Loom.Data.Stages;

/// <summary>Language filter settings.</summary>
public sealed record LanguageFilterOptions
{
    /// <summary>Languages to keep (ISO 639-1).</summary>
    public IReadOnlyList<string> Languages { get; init; } = ["en"];
    /// <summary>Least confidence in a kept language.</summary>
    public double MinConfidence { get; init; } = 0.65;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range (<paramref name="prefix"/> + its snake_case name).</summary>
    public void Validate(string prefix = "language.")
    {
        if (Languages is null || Languages.Count == 0 || Languages.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException($"{prefix}languages must list at least one language code (ISO 639-1), e.g. [en].");
        StageSettings.Fraction(prefix + "min_confidence", MinConfidence);
    }
}

/// <summary>A language guess.</summary>
public readonly record struct LanguageGuess(string Language, double Confidence);

/// <summary>The character n-gram language identifier.</summary>
public sealed class LanguageIdentifier
{
    private const int Buckets = 1 << 18;
    private const int MaxOrder = 4;
    private const int Lanes = 8;              // log-probabilities of one bucket for every language, side by side
    /// <summary>Characters looked at per document: enough to tell the languages apart, and it bounds the cost.</summary>
    public const int MaxCharacters = 1000;
    private readonly string[] _languages;
    private readonly float[] _logProb;      // (Buckets, Lanes)

    /// <summary>The model built from the embedded profiles.</summary>
    public static LanguageIdentifier Default { get; } = new(Assembly.GetExecutingAssembly().GetManifestResourceNames()
        .Where(n => n.StartsWith("lang_", StringComparison.Ordinal) && n.EndsWith(".txt", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .Select(n => (n[5..^4], string.Join('\n', ToxicityFilter.ReadEmbedded(n)))));

    /// <summary>Languages known.</summary>
    public IReadOnlyList<string> Languages => _languages;

    /// <param name="training">(language code, text) pairs.</param>
    public LanguageIdentifier(IEnumerable<(string Language, string Text)> training)
    {
        var list = training.ToList();
        if (list.Count is 0 or > Lanes) throw new ArgumentException($"The language identifier takes 1 to {Lanes} languages; got {list.Count}.");
        _languages = list.Select(t => t.Language).ToArray();
        _logProb = new float[Buckets * Lanes];
        var counts = new int[Buckets];
        var grams = new List<int>();
        for (int l = 0; l < _languages.Length; l++)
        {
            Array.Clear(counts);
            Hashes(list[l].Text, int.MaxValue, grams);
            foreach (int h in grams) counts[h]++;
            double denominator = Math.Log(grams.Count + Buckets);
            for (int b = 0; b < Buckets; b++) _logProb[b * Lanes + l] = (float)(Math.Log(counts[b] + 1) - denominator);
        }
    }

    [ThreadStatic] private static List<int>? t_grams;

    /// <summary>The most likely language and the confidence in it.</summary>
    public LanguageGuess Identify(string text)
    {
        var grams = t_grams ??= new List<int>(4 * MaxCharacters);
        Hashes(text, MaxCharacters, grams);
        if (grams.Count == 0) return new LanguageGuess("unknown", 0);
        var total = System.Runtime.Intrinsics.Vector256<float>.Zero;
        var table = _logProb.AsSpan();
        foreach (int h in grams) total += System.Runtime.Intrinsics.Vector256.Create<float>(table.Slice(h * Lanes, Lanes));
        int best = 0;
        for (int l = 1; l < _languages.Length; l++) if (total[l] > total[best]) best = l;
        // Softmax over per-gram mean log-likelihoods, sharpened by √grams: more text, more certainty.
        double scale = Math.Sqrt(grams.Count) / grams.Count, sum = 0;
        for (int l = 0; l < _languages.Length; l++) sum += Math.Exp((total[l] - total[best]) * scale);
        return new LanguageGuess(_languages[best], 1 / sum);
    }

    // Hashed 1–4-grams of " word " strings (letters only, lower case) over the first maxChars characters.
    private static void Hashes(string text, int maxChars, List<int> into)
    {
        into.Clear();
        Span<char> word = stackalloc char[34];
        int len = 0;
        word[len++] = ' ';
        int limit = Math.Min(text.Length, maxChars);
        for (int i = 0; i <= limit; i++)
        {
            char ch = i < limit ? text[i] : ' ';
            if (char.IsLetter(ch)) { if (len < word.Length - 1) word[len++] = char.ToLowerInvariant(ch); continue; }
            if (len > 1)
            {
                word[len++] = ' ';
                for (int a = 0; a < len; a++)
                {
                    uint h = 2166136261;
                    for (int n = 1; n <= MaxOrder && a + n <= len; n++)
                    {
                        h = (h ^ word[a + n - 1]) * 16777619;
                        if (n == 1 && word[a] == ' ') continue;
                        into.Add((int)((h ^ (uint)n * 0x9E3779B9u) % Buckets));
                    }
                }
            }
            len = 1;
        }
    }
}

/// <summary>Keeps documents in the configured languages.</summary>
public sealed class LanguageFilter(LanguageFilterOptions? options = null) : IDocumentStage
{
    private readonly LanguageFilterOptions _o = Check(options ?? new LanguageFilterOptions());

    private static LanguageFilterOptions Check(LanguageFilterOptions o)
    {
        var unknown = o.Languages.Where(l => !LanguageIdentifier.Default.Languages.Contains(l)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"language: {string.Join(", ", unknown)} not known; known: {string.Join(", ", LanguageIdentifier.Default.Languages)}.");
        return o;
    }

    /// <inheritdoc/>
    public string Name => "language";

    /// <inheritdoc/>
    public Verdict Process(Document document)
    {
        var guess = LanguageIdentifier.Default.Identify(document.Text);
        if (!_o.Languages.Contains(guess.Language)) return Verdict.Remove("language_not_kept", $"{guess.Language} ({guess.Confidence:F2})");
        if (guess.Confidence < _o.MinConfidence) return Verdict.Remove("language_low_confidence", $"{guess.Language} ({guess.Confidence:F2})");
        return Verdict.Keep;
    }
}
