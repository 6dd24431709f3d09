// The per-row features a text column is described by, each then tested like any other column:
//   <col>:chars       length in characters (numeric)
//   <col>:words       length in words (numeric)
//   <col>:oov_rate    share of words outside the vocabulary (numeric; see Vocabulary)
//   <col>:language    the language identifier of Loom.Data (en, de, fr, es, it, pt, nl; "unknown" below
//                     confidence 0.5 or without letters) (categorical)
//   <col>:refusal     "yes"/"no" from RefusalDetector, for prediction (output) columns only (categorical)
using System.Globalization;
using Loom.Data.Stages;
using Loom.Monitoring.Data;

namespace Loom.Monitoring.Text;

/// <summary>Derives per-row feature columns from a text column.</summary>
public static class TextFeatures
{
    /// <summary>The least language-identifier confidence for a language to count; below it, "unknown".</summary>
    public const double MinLanguageConfidence = 0.5;

    /// <summary>The feature suffixes, in the order they are produced.</summary>
    public static IReadOnlyList<string> Names(bool prediction) =>
        prediction ? ["chars", "words", "oov_rate", "language", "refusal"] : ["chars", "words", "oov_rate", "language"];

    /// <summary>Feature columns of <paramref name="texts"/>; <paramref name="oovRows"/> limits the OOV rate to those rows (null: all).</summary>
    public static List<Column> Derive(string name, IReadOnlyList<string> texts, Vocabulary vocabulary, bool prediction, ISet<int>? oovRows = null)
    {
        int n = texts.Count;
        var chars = new double?[n];
        var words = new double?[n];
        var oov = new double?[n];
        var lang = new string?[n];
        var refusal = new string?[n];
        var id = LanguageIdentifier.Default;
        for (int i = 0; i < n; i++)
        {
            string t = texts[i];
            chars[i] = t.Length;
            words[i] = Words.Split(t).Count;
            if (oovRows is null || oovRows.Contains(i)) oov[i] = vocabulary.OovRate(t);
            var guess = id.Identify(t);
            lang[i] = guess.Confidence >= MinLanguageConfidence ? guess.Language : "unknown";
            refusal[i] = RefusalDetector.IsRefusal(t) ? "yes" : "no";
        }
        var cols = new List<Column>
        {
            Numeric(name + ":chars", chars),
            Numeric(name + ":words", words),
            Numeric(name + ":oov_rate", oov),
            new(name + ":language", lang, new double?[n]),
        };
        if (prediction) cols.Add(new Column(name + ":refusal", refusal, new double?[n]));
        return cols;
    }

    private static Column Numeric(string name, double?[] values) =>
        new(name, values.Select(v => v?.ToString("R", CultureInfo.InvariantCulture)).ToArray(), values);
}
