// Reading raters' CSV files back (the sheet's "Download ratings" output, or the CSV sheet filled in a
// spreadsheet) and summarising agreement: Cohen's kappa for every pair of raters over the items both
// rated (nominal, and quadratic-weighted when every rating is a number), Fleiss' kappa over the items
// every rater rated, per-rater mean for numeric scales, and each item's ratings.
using System.Globalization;
using System.Text.Json.Nodes;
using Loom.Evaluation.Agreement;

namespace Loom.Evaluation.Review;

/// <summary>Ratings of several raters.</summary>
public sealed class RatingsSummary
{
    /// <summary>rater → (item id → rating), raters in the order first seen.</summary>
    public IReadOnlyDictionary<string, Dictionary<string, string>> Ratings { get; }
    public IReadOnlyList<string> Raters { get; }

    private RatingsSummary(List<string> raters, Dictionary<string, Dictionary<string, string>> ratings) { Raters = raters; Ratings = ratings; }

    /// <summary>Reads CSV files with columns id and rating (rater: a column, else the file name without extension); empty ratings are skipped.</summary>
    public static RatingsSummary Read(IEnumerable<string> paths)
    {
        var raters = new List<string>();
        var ratings = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"--ratings {path}: no such file.", path);
            var rows = Csv.Parse(File.ReadAllText(path), path);
            if (rows.Count == 0) throw new InvalidDataException($"{path} is empty; a ratings file has a header with id and rating.");
            var header = rows[0].Select(h => h.Trim().ToLowerInvariant()).ToList();
            int id = header.IndexOf("id"), rating = header.IndexOf("rating"), rater = header.IndexOf("rater");
            if (id < 0 || rating < 0) throw new InvalidDataException($"{path}:1: the header [{string.Join(", ", rows[0])}] lacks id or rating; write the sheet's columns (id,rater,rating,comment).");
            string fileRater = Path.GetFileNameWithoutExtension(path);
            for (int r = 1; r < rows.Count; r++)
            {
                var row = rows[r];
                if (row.Count <= Math.Max(id, rating)) throw new InvalidDataException($"{path}: row {r + 1} has {row.Count} fields; the header has {header.Count}.");
                string value = row[rating].Trim();
                if (value.Length == 0) continue;
                string name = rater >= 0 && rater < row.Count && row[rater].Trim().Length > 0 ? row[rater].Trim() : fileRater;
                if (!ratings.TryGetValue(name, out var map)) { ratings[name] = map = new(StringComparer.Ordinal); raters.Add(name); }
                if (!map.TryAdd(row[id].Trim(), value))
                    throw new InvalidDataException($"{path}: row {r + 1}: rater {name} rated item {row[id].Trim()} twice.");
            }
        }
        if (raters.Count == 0) throw new InvalidDataException("the ratings files hold no ratings.");
        return new RatingsSummary(raters, ratings);
    }

    private bool AllNumeric => Ratings.Values.SelectMany(m => m.Values).All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));

    /// <summary>The agreement summary as one JSON object.</summary>
    public JsonObject ToJson()
    {
        bool numeric = AllNumeric;
        var pairs = new JsonArray();
        for (int a = 0; a < Raters.Count; a++)
            for (int b = a + 1; b < Raters.Count; b++)
            {
                var ra = Ratings[Raters[a]];
                var rb = Ratings[Raters[b]];
                var common = ra.Keys.Where(rb.ContainsKey).Order(StringComparer.Ordinal).ToList();
                var o = new JsonObject { ["a"] = Raters[a], ["b"] = Raters[b], ["items"] = common.Count };
                if (common.Count > 0)
                {
                    o["percent_agreement"] = common.Count(k => ra[k] == rb[k]) / (double)common.Count;
                    if (numeric)
                    {
                        var x = common.Select(k => double.Parse(ra[k], CultureInfo.InvariantCulture)).ToList();
                        var y = common.Select(k => double.Parse(rb[k], CultureInfo.InvariantCulture)).ToList();
                        o["cohen_kappa"] = Finite(InterRaterAgreement.CohenKappa(x, y));
                        o["cohen_kappa_quadratic"] = Finite(InterRaterAgreement.CohenKappa(x, y, KappaWeights.Quadratic));
                    }
                    else o["cohen_kappa"] = Finite(InterRaterAgreement.CohenKappa(common.Select(k => ra[k]).ToList(), common.Select(k => rb[k]).ToList()));
                }
                pairs.Add(o);
            }
        var all = Ratings.Values.Select(m => m.Keys).Aggregate((IEnumerable<string>)Ratings[Raters[0]].Keys, (acc, k) => acc.Intersect(k)).Order(StringComparer.Ordinal).ToList();
        var result = new JsonObject
        {
            ["raters"] = new JsonArray([.. Raters.Select(r => (JsonNode)r)]),
            ["items_rated_by_all"] = all.Count,
            ["pairs"] = pairs,
        };
        if (Raters.Count >= 2 && all.Count > 0)
        {
            var (table, _) = InterRaterAgreement.CountTable(Raters.Select(r => (IReadOnlyList<string>)all.Select(k => Ratings[r][k]).ToList()).ToList());
            result["fleiss_kappa"] = Finite(InterRaterAgreement.FleissKappa(table));
        }
        if (numeric)
            result["mean_rating"] = new JsonObject(Raters.Select(r => KeyValuePair.Create(r, (JsonNode?)Ratings[r].Values.Average(v => double.Parse(v, CultureInfo.InvariantCulture)))));
        var items = new JsonObject();
        foreach (var id in Ratings.Values.SelectMany(m => m.Keys).Distinct().Order(StringComparer.Ordinal))
            items[id] = new JsonObject(Raters.Where(r => Ratings[r].ContainsKey(id)).Select(r => KeyValuePair.Create(r, (JsonNode?)Ratings[r][id])));
        result["items"] = items;
        return result;
    }

    // JSON has no NaN: kappa is undefined (null) when every rating is the same category.
    private static JsonNode? Finite(double v) => double.IsFinite(v) ? v : null;
}
