// The official SQuAD metrics (Rajpurkar et al. 2016, 2018): evaluate-v1.1.py and evaluate-v2.0.py.
// Answers are normalised — lowercase, drop ASCII punctuation (string.punctuation), drop the words
// a/an/the (\b(a|an|the)\b → " "), collapse whitespace — then exact match is string equality and F1
// the harmonic mean of token precision and recall over the bag of normalised tokens; each question
// takes the maximum over its gold answers.
// v2.0: gold answers that normalise to "" are dropped; a question with none left has [""] as its only
// gold, so the empty prediction is the right one (F1 1 when both are empty, 0 when only one is);
// questions without a prediction are skipped ("Missing prediction"), total counts those scored, and
// HasAns_/NoAns_ average over every answerable / unanswerable question of the dataset (the script then
// needs a prediction for each). No na_prob file: no threshold is applied.
// v1.1: every question counts in the total, a missing prediction scores 0.
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Loom.Evaluation.Metrics;

/// <summary>SQuAD v1.1 / v2.0 exact match and F1, as the official evaluation scripts.</summary>
public static class Squad
{
    private static readonly Regex Articles = new(@"\b(a|an|the)\b", RegexOptions.CultureInvariant);

    /// <summary>normalize_answer: lower, remove punctuation, remove articles, fix whitespace.</summary>
    public static string Normalize(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in PythonText.Lower(s)) if (!PythonText.IsAsciiPunctuation(c)) sb.Append(c);
        return PythonText.CollapseSpaces(Articles.Replace(sb.ToString(), " "));
    }

    /// <summary>compute_exact: 1 when the normalised strings are equal.</summary>
    public static int ExactMatch(string gold, string prediction) => Normalize(gold) == Normalize(prediction) ? 1 : 0;

    /// <summary>compute_f1 (v2.0): bag-of-tokens F1; when either side is empty, 1 if both are, else 0.</summary>
    public static double F1(string gold, string prediction)
    {
        var g = Tokens(gold);
        var p = Tokens(prediction);
        if (g.Count == 0 || p.Count == 0) return g.Count == p.Count ? 1 : 0;
        return TokenF1(g, p);
    }

    /// <summary>f1_score (v1.1): bag-of-tokens F1, 0 when nothing is shared.</summary>
    public static double F1V1(string gold, string prediction)
    {
        var g = PythonText.Split(Normalize(gold));
        var p = PythonText.Split(Normalize(prediction));
        return TokenF1(g, p);
    }

    /// <summary>evaluate-v2.0.py on a dataset (the SQuAD JSON's "data" array) and predictions {question id: answer}.</summary>
    public static SquadV2Result EvaluateV2(JsonElement data, IReadOnlyDictionary<string, string> predictions)
    {
        var hasAnswer = new List<(string Id, bool HasAns)>();
        var exact = new Dictionary<string, double>(StringComparer.Ordinal);
        var f1 = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var qa in Questions(data))
        {
            string id = qa.GetProperty("id").GetString()!;
            var answers = Answers(qa);
            hasAnswer.Add((id, answers.Count > 0));
            var gold = answers.Where(a => Normalize(a).Length > 0).ToList();
            if (gold.Count == 0) gold.Add("");
            if (!predictions.TryGetValue(id, out var prediction)) continue;
            exact[id] = gold.Max(a => ExactMatch(a, prediction));
            f1[id] = gold.Max(a => F1(a, prediction));
        }
        if (exact.Count == 0) throw new ArgumentException("No prediction matches a question id of the dataset; the predictions file must map the dataset's question ids to answers.");
        var has = hasAnswer.Where(q => q.HasAns).Select(q => q.Id).ToList();
        var no = hasAnswer.Where(q => !q.HasAns).Select(q => q.Id).ToList();
        (double, double, int)? Split(List<string> ids)
        {
            if (ids.Count == 0) return null;
            var missing = ids.FirstOrDefault(id => !exact.ContainsKey(id));
            if (missing != null)
                throw new ArgumentException($"No prediction for question {missing}; evaluate-v2.0.py needs one for every question of the dataset (\"\" for no answer).");
            return (100.0 * ids.Sum(id => exact[id]) / ids.Count, 100.0 * ids.Sum(id => f1[id]) / ids.Count, ids.Count);
        }
        var h = Split(has);
        var n = Split(no);
        return new SquadV2Result
        {
            Exact = 100.0 * exact.Values.Sum() / exact.Count,
            F1 = 100.0 * f1.Values.Sum() / f1.Count,
            Total = exact.Count,
            HasAnsExact = h?.Item1, HasAnsF1 = h?.Item2, HasAnsTotal = h?.Item3,
            NoAnsExact = n?.Item1, NoAnsF1 = n?.Item2, NoAnsTotal = n?.Item3,
        };
    }

    /// <summary>evaluate-v1.1.py: every question counts; a missing prediction scores 0.</summary>
    public static SquadV1Result EvaluateV1(JsonElement data, IReadOnlyDictionary<string, string> predictions)
    {
        double em = 0, f1 = 0;
        int total = 0;
        foreach (var qa in Questions(data))
        {
            total++;
            string id = qa.GetProperty("id").GetString()!;
            if (!predictions.TryGetValue(id, out var prediction)) continue;
            var gold = Answers(qa);
            if (gold.Count == 0)
                throw new ArgumentException($"Question {id} has no gold answer (a SQuAD 2.0 unanswerable question); evaluate-v1.1.py cannot score it — use squad_v2.");
            em += gold.Max(a => ExactMatch(a, prediction));
            f1 += gold.Max(a => F1V1(a, prediction));
        }
        if (total == 0) throw new ArgumentException("The dataset holds no questions.");
        return new SquadV1Result(100.0 * em / total, 100.0 * f1 / total);
    }

    private static List<string> Tokens(string s) => s.Length == 0 ? [] : PythonText.Split(Normalize(s));

    private static double TokenF1(List<string> gold, List<string> prediction)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in gold) counts[t] = counts.GetValueOrDefault(t) + 1;
        int same = 0;
        foreach (var t in prediction)
            if (counts.TryGetValue(t, out int c) && c > 0) { same++; counts[t] = c - 1; }
        if (same == 0) return 0;
        double precision = (double)same / prediction.Count, recall = (double)same / gold.Count;
        return 2 * precision * recall / (precision + recall);
    }

    private static IEnumerable<JsonElement> Questions(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Array) throw new ArgumentException("The SQuAD dataset's \"data\" must be an array of articles.");
        foreach (var article in data.EnumerateArray())
            foreach (var paragraph in article.GetProperty("paragraphs").EnumerateArray())
                foreach (var qa in paragraph.GetProperty("qas").EnumerateArray())
                    yield return qa;
    }

    private static List<string> Answers(JsonElement qa) =>
        qa.TryGetProperty("answers", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(x => x.GetProperty("text").GetString() ?? "").ToList()
            : [];
}
