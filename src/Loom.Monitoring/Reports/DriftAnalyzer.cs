// Builds a DriftReport from a reference table and a current one. Columns are matched by name (a few aliases:
// text = prompt = input, output = completion, so a training file's "text" meets the request log's "prompt");
// each gets a role (input → data drift, prediction → prediction drift, label → label drift) and a kind. Numeric
// and categorical columns are tested directly; a text column becomes per-row features (TextFeatures: length,
// words, OOV rate, language, refusal for outputs) tested like columns, plus two text-level tests: the token
// distribution's JS divergence against a reference baseline (TokenDivergence) and embedding drift by the domain
// classifier's cross-validated ROC-AUC (with MMD² and its permutation p-value recorded alongside). Each feature's
// test is the one named for it (categories rarer than 5 in the reference pooled as "(other)"), else the one named for all, else Evidently's default for its type and size; the
// dataset drifts when the share of drifted features reaches MonitorOptions.DriftShare (Evidently: 0.5). With a
// prediction and a label, the error stream feeds DDM and ADWIN (concept drift). The time series re-tests the
// per-row features on windows of the current rows.
using Loom.Monitoring.Concept;
using Loom.Monitoring.Data;
using Loom.Monitoring.Embeddings;
using Loom.Monitoring.Statistics;
using Loom.Monitoring.Text;
using Microsoft.Extensions.AI;

namespace Loom.Monitoring.Reports;

/// <summary>Computes drift reports.</summary>
public static class DriftAnalyzer
{
    private static readonly string[][] Aliases = [["text", "prompt", "input"], ["output", "completion", "generated"]];
    private static readonly HashSet<string> PredictionNames = new(["prediction", "predicted", "pred", "output", "completion", "generated", "score", "probability", "completion_tokens", "finish_reason"], StringComparer.OrdinalIgnoreCase);
    private static readonly HashSet<string> LabelNames = new(["label", "target", "ground_truth", "y"], StringComparer.OrdinalIgnoreCase);
    private static readonly HashSet<string> IgnoredNames = new(["id", "time", "timestamp", "created_at", "latency_ms", "ttft_ms", "endpoint", "model", "key_id", "status"], StringComparer.OrdinalIgnoreCase);

    // A per-row feature of both tables: numbers or categories per row (null where missing).
    private sealed record RowFeature(string Name, string Column, ColumnRole Role, bool Numeric, double?[] RefNum, double?[] CurNum, string?[] RefCat, string?[] CurCat);

    /// <summary>The report for <paramref name="current"/> against <paramref name="reference"/>; <paramref name="embedder"/>
    /// embeds texts for embedding drift (null: a 512-wide hashed bag of words).</summary>
    public static async Task<DriftReport> AnalyzeAsync(Table reference, Table current, MonitorOptions? options = null,
        IEmbeddingGenerator<string, Embedding<float>>? embedder = null, CancellationToken cancellationToken = default)
    {
        options ??= new MonitorOptions();
        options.Validate();
        if (reference.RowCount == 0) throw new InvalidDataException($"The reference {reference.Source} has no rows.");
        if (current.RowCount == 0) throw new InvalidDataException($"The current data {current.Source} has no rows (an empty window?).");
        var pairs = MatchColumns(reference, current, options);
        if (pairs.Count == 0)
            throw new InvalidDataException($"The reference ({string.Join(", ", reference.Columns.Select(c => c.Name))}) and the current data ({string.Join(", ", current.Columns.Select(c => c.Name))}) share no monitored column; rename one side's columns or use --ignore.");
        var rowFeatures = new List<RowFeature>();
        var features = new List<FeatureDrift>();
        string? vocabularyOrigin = null, embedderName = null;
        embedder ??= new HashedBagOfWordsEmbedder();
        foreach (var (rc, cc, role) in pairs)
        {
            var kind = rc.InferKind();
            if (kind == ColumnKind.Numerical && !cc.IsNumeric && cc.Present > 0) kind = ColumnKind.Categorical;
            if (kind != ColumnKind.Text)
            {
                bool numeric = kind == ColumnKind.Numerical;
                rowFeatures.Add(new RowFeature(rc.Name, rc.Name, role, numeric, rc.Numbers, cc.Numbers, rc.Cells, cc.Cells));
                continue;
            }
            var refTexts = rc.Cells;
            var curTexts = cc.Cells;
            var refPresent = Present(refTexts);
            var curPresent = Present(curTexts);
            var vocabulary = options.Vocabulary ?? Vocabulary.FromReference(refPresent.Select(i => refTexts[i]!).ToList());
            vocabularyOrigin = vocabulary.Origin;
            bool isPrediction = role == ColumnRole.Prediction;
            // OOV on the reference's odd rows when the vocabulary came from its even rows.
            var refOovRows = vocabulary.LearnedFromReference ? refPresent.Where((_, k) => k % 2 == 1).ToHashSet() : null;
            var refDerived = DeriveRows(rc.Name, refTexts, vocabulary, isPrediction, refOovRows);
            var curDerived = DeriveRows(rc.Name, curTexts, vocabulary, isPrediction, null);
            for (int f = 0; f < refDerived.Count; f++)
                rowFeatures.Add(new RowFeature(refDerived[f].Name, rc.Name, role, refDerived[f].IsNumeric || refDerived[f].Name.EndsWith(":oov_rate", StringComparison.Ordinal),
                    refDerived[f].Numbers, curDerived[f].Numbers, refDerived[f].Cells, curDerived[f].Cells));
            if (refPresent.Count >= 4 && curPresent.Count >= 1)
            {
                var rTexts = refPresent.Select(i => refTexts[i]!).ToList();
                var cTexts = curPresent.Select(i => curTexts[i]!).ToList();
                var tokens = TokenDivergence.Measure(rTexts, cTexts, options.Seed);
                features.Add(new FeatureDrift(rc.Name + ":tokens", rc.Name, role, ColumnKind.Text, "token_js", tokens.Divergence, null, tokens.Ratio,
                    TokenDivergence.RatioThreshold, tokens.Drifted, rTexts.Count, cTexts.Count, null,
                    $"baseline JS {tokens.Baseline:G4} ± {tokens.BaselineSd:G3} (z {tokens.Z:G3}); rising words: {string.Join(", ", tokens.RisingWords)}"));
                if (options.EmbeddingDrift && rTexts.Count >= 10 && cTexts.Count >= 10)
                {
                    var meta = embedder.GetService(typeof(EmbeddingGeneratorMetadata)) as EmbeddingGeneratorMetadata;
                    embedderName = meta?.DefaultModelId ?? embedder.GetType().Name;
                    var rEmb = await EmbedSample(embedder, rTexts, options.MaxEmbeddedTexts, options.Seed, cancellationToken).ConfigureAwait(false);
                    var cEmb = await EmbedSample(embedder, cTexts, options.MaxEmbeddedTexts, options.Seed + 1, cancellationToken).ConfigureAwait(false);
                    var dc = DomainClassifier.Measure(rEmb, cEmb, seed: options.Seed);
                    var mmd = MaximumMeanDiscrepancy.Measure(rEmb, cEmb, seed: options.Seed);
                    features.Add(new FeatureDrift(rc.Name + ":embedding", rc.Name, role, ColumnKind.Text, "domain_classifier", dc.RocAuc, null, dc.RocAuc,
                        dc.Threshold, dc.Drifted, dc.ReferenceCount, dc.CurrentCount, null,
                        $"embedder {embedderName}; {dc.Folds}-fold ROC-AUC; MMD² {mmd.Mmd2:G4} (σ {mmd.Sigma:G4}, permutation p {mmd.PValue:G3})"));
                }
            }
        }
        var refAll = Enumerable.Range(0, reference.RowCount).ToArray();
        var curAll = Enumerable.Range(0, current.RowCount).ToArray();
        var rowResults = rowFeatures.Select(f => Test(f, refAll, curAll, options, withBins: true)).Where(r => r != null).Select(r => r!).ToList();
        features.InsertRange(0, rowResults);
        features = features.OrderBy(f => f.Role).ThenBy(f => f.Column, StringComparer.Ordinal).ToList();
        int drifted = features.Count(f => f.Drifted);
        double share = features.Count == 0 ? 0 : (double)drifted / features.Count;
        var concept = Concept(reference, current, pairs);
        var series = TimeSeries(current, rowFeatures, refAll, options, pairs);
        return new DriftReport(reference.Source, current.Source, reference.RowCount, current.RowCount, features, share, options.DriftShare,
            share >= options.DriftShare, concept, series, embedderName, vocabularyOrigin);
    }

    private static List<int> Present(string?[] cells)
    {
        var rows = new List<int>();
        for (int i = 0; i < cells.Length; i++) if (cells[i] != null) rows.Add(i);
        return rows;
    }

    // Derived columns over all rows (null where the text is missing).
    private static List<Column> DeriveRows(string name, string?[] texts, Vocabulary vocabulary, bool prediction, HashSet<int>? oovRows)
    {
        var present = Present(texts);
        var derived = TextFeatures.Derive(name, present.Select(i => texts[i]!).ToList(), vocabulary, prediction,
            oovRows is null ? null : present.Select((row, k) => (row, k)).Where(t => oovRows.Contains(t.row)).Select(t => t.k).ToHashSet());
        return derived.Select(c =>
        {
            var cells = new string?[texts.Length];
            var nums = new double?[texts.Length];
            for (int k = 0; k < present.Count; k++) { cells[present[k]] = c.Cells[k]; nums[present[k]] = c.Numbers[k]; }
            return new Column(c.Name, cells, nums);
        }).ToList();
    }

    private static async Task<List<float[]>> EmbedSample(IEmbeddingGenerator<string, Embedding<float>> embedder, List<string> texts, int max, ulong seed, CancellationToken ct)
    {
        var idx = Enumerable.Range(0, texts.Count).ToArray();
        if (texts.Count > max) { new Random((int)(seed % int.MaxValue)).Shuffle(idx); idx = idx.Take(max).Order().ToArray(); }
        var result = await embedder.GenerateAsync(idx.Select(i => texts[i]).ToList(), null, ct).ConfigureAwait(false);
        return result.Select(e => e.Vector.ToArray()).ToList();
    }

    private static List<(Column Reference, Column Current, ColumnRole Role)> MatchColumns(Table reference, Table current, MonitorOptions options)
    {
        var ignored = new HashSet<string>(options.IgnoreColumns, StringComparer.Ordinal);
        var pairs = new List<(Column, Column, ColumnRole)>();
        foreach (var rc in reference.Columns)
        {
            if (ignored.Contains(rc.Name)) continue;
            var cc = current.Find(rc.Name) ?? Aliases.Where(g => g.Contains(rc.Name, StringComparer.OrdinalIgnoreCase))
                .SelectMany(g => g).Select(current.Find).FirstOrDefault(c => c != null && reference.Find(c.Name) is null);
            if (cc is null || ignored.Contains(cc.Name)) continue;
            var role = RoleOf(rc.Name, options);
            if (role == ColumnRole.Ignored) continue;
            if (rc.Present == 0 || cc.Present == 0) continue;
            pairs.Add((rc, cc, role));
        }
        return pairs;
    }

    private static ColumnRole RoleOf(string name, MonitorOptions options)
    {
        if (options.LabelColumn != null) { if (name == options.LabelColumn) return ColumnRole.Label; }
        else if (LabelNames.Contains(name)) return ColumnRole.Label;
        if (options.PredictionColumns != null) { if (options.PredictionColumns.Contains(name)) return ColumnRole.Prediction; }
        else if (PredictionNames.Contains(name)) return ColumnRole.Prediction;
        return IgnoredNames.Contains(name) ? ColumnRole.Ignored : ColumnRole.Input;
    }

    private static FeatureDrift? Test(RowFeature f, IReadOnlyList<int> refRows, IReadOnlyList<int> curRows, MonitorOptions options, bool withBins)
    {
        if (f.Numeric)
        {
            var r = Values(f.RefNum, refRows);
            var c = Values(f.CurNum, curRows);
            if (r.Length == 0 || c.Length == 0) return null;
            int distinct = r.Concat(c).Distinct().Count();
            var test = ChooseTest(f.Name, numeric: true, r.Length, distinct, options);
            var v = StatTests.Evaluate(test, r, c, options.Threshold);
            Histogram? bins = withBins ? (test is StatTest.Chi2 or StatTest.Z ? Histogram.Categories(Strings(r), Strings(c)) : Histogram.Deciles(r, c)) : null;
            return new FeatureDrift(f.Name, f.Column, f.Role, ColumnKind.Numerical, StatTests.Name(v.Test), v.Statistic, v.PValue, v.Score, v.Threshold, v.Drifted, r.Length, c.Length, bins,
                v.Method is null ? null : $"p-value {v.Method}");
        }
        else
        {
            var (r, c) = FoldRare(Cats(f.RefCat, refRows), Cats(f.CurCat, curRows));
            if (r.Count == 0 || c.Count == 0) return null;
            int distinct = r.Concat(c).Distinct().Count();
            var test = ChooseTest(f.Name, numeric: false, r.Count, distinct, options);
            var v = StatTests.Evaluate(test, r, c, options.Threshold);
            return new FeatureDrift(f.Name, f.Column, f.Role, ColumnKind.Categorical, StatTests.Name(v.Test), v.Statistic, v.PValue, v.Score, v.Threshold, v.Drifted, r.Count, c.Count,
                withBins ? Histogram.Categories(r, c) : null);
        }
    }

    /// <summary>The least reference count a category keeps its own bin with; rarer ones share "(other)".</summary>
    public const int MinCategoryCount = 5;

    // Categories seen fewer than MinCategoryCount times in the reference share one "(other)" bin on both sides, so
    // that a language the identifier guessed once in the reference does not make chi-squared's expected count
    // zero (χ² = ∞) when it is guessed twice in the current window. A category absent from the reference still
    // lands in "(other)"; when that bin is empty in the reference, any current value in it is drift, as it should be.
    private static (List<string> Reference, List<string> Current) FoldRare(List<string> reference, List<string> current)
    {
        var counts = reference.GroupBy(v => v, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        if (counts.Values.All(n => n >= MinCategoryCount) && current.All(counts.ContainsKey)) return (reference, current);
        string Map(string v) => counts.GetValueOrDefault(v) >= MinCategoryCount ? v : "(other)";
        return (reference.Select(Map).ToList(), current.Select(Map).ToList());
    }

    private static StatTest ChooseTest(string feature, bool numeric, int referenceCount, int distinct, MonitorOptions options)
    {
        if (options.ColumnTests.TryGetValue(feature, out var named))
        {
            if (!numeric && named is StatTest.Ks or StatTest.Wasserstein)
                throw new ArgumentException($"--column-test {feature}={StatTests.Name(named)}: {feature} holds categories; use chi2, z, psi, kl or js.");
            return named;
        }
        if (options.Test is { } all && (numeric || all is not (StatTest.Ks or StatTest.Wasserstein))) return all;
        return StatTests.Default(numeric, referenceCount, distinct);
    }

    private static double[] Values(double?[] v, IReadOnlyList<int> rows)
    {
        var list = new List<double>(rows.Count);
        foreach (int i in rows) if (v[i] is double d && !double.IsNaN(d)) list.Add(d);
        return list.ToArray();
    }

    private static List<string> Cats(string?[] v, IReadOnlyList<int> rows)
    {
        var list = new List<string>(rows.Count);
        foreach (int i in rows) if (v[i] is string s) list.Add(s);
        return list;
    }

    private static string[] Strings(double[] v) => v.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static (Column Prediction, Column Label)? ConceptColumns(Table t, List<(Column Reference, Column Current, ColumnRole Role)> pairs, bool reference)
    {
        var p = pairs.FirstOrDefault(x => x.Role == ColumnRole.Prediction && x.Reference.InferKind() == ColumnKind.Categorical);
        var l = pairs.FirstOrDefault(x => x.Role == ColumnRole.Label);
        if (p.Reference is null || l.Reference is null) return null;
        return reference ? (p.Reference, l.Reference) : (p.Current, l.Current);
    }

    private static ConceptDriftResult? Concept(Table reference, Table current, List<(Column Reference, Column Current, ColumnRole Role)> pairs)
    {
        var r = ConceptColumns(reference, pairs, true);
        var c = ConceptColumns(current, pairs, false);
        if (r is null || c is null) return null;
        var refErr = Errors(r.Value.Prediction, r.Value.Label, Enumerable.Range(0, reference.RowCount));
        var curOrder = TimeOrder(current);
        var curErr = Errors(c.Value.Prediction, c.Value.Label, curOrder);
        if (refErr.Count == 0 || curErr.Count == 0) return null;
        var ddm = new Ddm();
        foreach (var e in refErr) ddm.Update(e.Error);
        var adwin = new Adwin();
        foreach (var e in refErr) adwin.Update(e.Error);
        var ddmHits = new List<int>();
        var adwinHits = new List<int>();
        foreach (var e in curErr)
        {
            if (ddm.Update(e.Error)) ddmHits.Add(e.Row);
            if (adwin.Update(e.Error)) adwinHits.Add(e.Row);
        }
        return new ConceptDriftResult(r.Value.Prediction.Name, r.Value.Label.Name, 1 - refErr.Average(e => e.Error), 1 - curErr.Average(e => e.Error),
            ddmHits, adwinHits, ddmHits.Count > 0);
    }

    private static List<(int Row, double Error)> Errors(Column prediction, Column label, IEnumerable<int> rows)
    {
        var list = new List<(int, double)>();
        foreach (int i in rows)
            if (prediction.Cells[i] is string p && label.Cells[i] is string l) list.Add((i, p == l ? 0 : 1));
        return list;
    }

    private static int[] TimeOrder(Table t) => t.Times is null
        ? Enumerable.Range(0, t.RowCount).ToArray()
        : Enumerable.Range(0, t.RowCount).OrderBy(i => t.Times[i] ?? DateTimeOffset.MinValue).ThenBy(i => i).ToArray();

    private static List<WindowPoint> TimeSeries(Table current, List<RowFeature> features, int[] refAll, MonitorOptions options,
        List<(Column Reference, Column Current, ColumnRole Role)> pairs)
    {
        var order = TimeOrder(current);
        var windows = new List<(int[] Rows, DateTimeOffset? Start, DateTimeOffset? End)>();
        if (options.Window is { } span && current.Times is not null && order.Length > 0 && current.Times[order[0]] is DateTimeOffset first)
        {
            var last = current.Times[order[^1]] ?? first;
            for (var start = first; start <= last; start += span)
            {
                var end = start + span;
                windows.Add((order.Where(i => current.Times[i] is DateTimeOffset t && t >= start && t < end).ToArray(), start, end));
                if (windows.Count > 10000) throw new ArgumentException($"--window {span}: more than 10,000 windows over {first:O} … {last:O}; choose a longer window.");
            }
        }
        else
        {
            int k = Math.Min(options.Windows, order.Length);
            for (int w = 0; w < k; w++)
            {
                var rows = order[(w * order.Length / k)..((w + 1) * order.Length / k)];
                DateTimeOffset? s = current.Times is null || rows.Length == 0 ? null : current.Times[rows[0]];
                DateTimeOffset? e = current.Times is null || rows.Length == 0 ? null : current.Times[rows[^1]];
                windows.Add((rows, s, e));
            }
        }
        var concept = ConceptColumns(current, pairs, false);
        var points = new List<WindowPoint>();
        for (int w = 0; w < windows.Count; w++)
        {
            var (rows, start, end) = windows[w];
            double? accuracy = null;
            if (concept is { } cc)
            {
                var errs = Errors(cc.Prediction, cc.Label, rows);
                if (errs.Count > 0) accuracy = 1 - errs.Average(e => e.Error);
            }
            if (rows.Length < 5) { points.Add(new WindowPoint(w, start, end, rows.Length, 0, [], accuracy)); continue; }
            var results = features.Select(f => Test(f, refAll, rows, options, withBins: false)).Where(r => r != null).ToList();
            var drifted = results.Where(r => r!.Drifted).Select(r => r!.Name).ToList();
            points.Add(new WindowPoint(w, start, end, rows.Length, results.Count == 0 ? 0 : (double)drifted.Count / results.Count, drifted, accuracy));
        }
        return points;
    }
}
