// `loom eval metrics --metric NAME --predictions FILE --references FILE...`: one metric of
// Loom.Evaluation over two files, printed as one JSON object. Each metric is one row of Metrics
// below (its name, what it reads, and the library call), so a new metric is one row. File formats
// are MetricFiles'; a length mismatch names both files and both counts.
using System.CommandLine;
using System.Text;
using System.Text.Json;
using Loom.Evaluation.Metrics;
using Spectre.Console;

namespace Loom.Cli.Commands.Eval;

internal static class EvalMetricsCommand
{
    /// <summary>What a metric row receives: the files as given and the shared options.</summary>
    internal sealed record MetricInput(string Predictions, string[] References, bool Lowercase, string Tokenize, bool Stemmer, int? K, string? Model = null, bool Idf = false, int? Layer = null);

    private sealed record Metric(string Description, Action<MetricInput, Utf8JsonWriter> Compute);

    private static readonly Dictionary<string, Metric> Metrics = new(StringComparer.OrdinalIgnoreCase)
    {
        ["bleu"] = new("sacreBLEU corpus BLEU (13a, exp smoothing; --tokenize, --lowercase)", Bleu),
        ["chrf"] = new("sacreBLEU chrF2", (i, w) => Chrf(i, w, new ChrfOptions { Lowercase = i.Lowercase })),
        ["chrf++"] = new("sacreBLEU chrF2++ (word bigrams)", (i, w) => Chrf(i, w, ChrfOptions.ChrfPlusPlus with { Lowercase = i.Lowercase })),
        ["rouge"] = new("rouge-score ROUGE-1/2/L/Lsum, Porter stemmer (--no-stemmer), mean over pairs, best of several references", Rouge),
        ["squad"] = new("official SQuAD v1.1 exact_match and f1 (predictions {id: answer}, references the dataset JSON)", (i, w) => Squad(i, w, v2: false)),
        ["squad_v2"] = new("official SQuAD v2.0 exact, f1, total, HasAns_*, NoAns_* (\"\" for no answer)", (i, w) => Squad(i, w, v2: true)),
        ["recall@k"] = new("recall@k of rankings (predictions: JSON arrays of ids, best first; references: arrays of relevant ids; --k)", (i, w) => Retrieval(i, w, "recall@k")),
        ["mrr"] = new("mean reciprocal rank (cut at --k when given)", (i, w) => Retrieval(i, w, "mrr")),
        ["ndcg"] = new("nDCG@k with binary relevance, as sklearn's ndcg_score on rank-ordered scores", (i, w) => Retrieval(i, w, "ndcg")),
        ["mse"] = new("mean squared error (sklearn)", (i, w) => Regression(i, w, "mse", (t, p) => RegressionMetrics.MeanSquaredError(t, p))),
        ["mae"] = new("mean absolute error (sklearn)", (i, w) => Regression(i, w, "mae", (t, p) => RegressionMetrics.MeanAbsoluteError(t, p))),
        ["r2"] = new("coefficient of determination (sklearn r2_score)", (i, w) => Regression(i, w, "r2", (t, p) => RegressionMetrics.R2(t, p))),
        ["pearson"] = new("Pearson's r (scipy)", (i, w) => Regression(i, w, "pearson", (t, p) => RegressionMetrics.Pearson(p, t))),
        ["spearman"] = new("Spearman's rho, ties averaged (scipy)", (i, w) => Regression(i, w, "spearman", (t, p) => RegressionMetrics.Spearman(p, t))),
        ["accuracy"] = new("accuracy of class labels (sklearn)", (i, w) => Labels(i, w, (t, p) => w.WriteNumber("accuracy", ClassificationMetrics.Accuracy(t, p)))),
        ["bertscore"] = new("BERTScore P/R/F1 (greedy cosine matching of final hidden states, mean over pairs) with the encoder in --model (--idf)", BertScoreMetric),
        ["f1"] = new("macro F1 of class labels (sklearn average='macro')", (i, w) => Labels(i, w, (t, p) => w.WriteNumber("f1", ClassificationMetrics.F1(t, p, new PrecisionRecallOptions { Average = Average.Macro })))),
    };

    public static Command Create(IAnsiConsole console)
    {
        var metric = new Option<string>("--metric") { Description = "One of: " + string.Join(", ", Metrics.Keys) + ".", Required = true };
        var predictions = new Option<FileInfo>("--predictions") { Description = "System outputs: a JSON array, JSONL (one item a line) or text (one segment a line); SQuAD: {question_id: answer}.", Required = true };
        var references = new Option<FileInfo[]>("--references") { Description = "References in the same layout (several files: one reference stream each, as sacreBLEU); SQuAD: the dataset JSON.", Required = true, AllowMultipleArgumentsPerToken = true };
        var lowercase = new Option<bool>("--lowercase") { Description = "BLEU/chrF: case-insensitive (sacreBLEU -lc)." };
        var tokenize = new Option<string>("--tokenize") { Description = "BLEU tokenizer: 13a (default), none.", DefaultValueFactory = _ => "13a" };
        var noStemmer = new Option<bool>("--no-stemmer") { Description = "ROUGE: no Porter stemming (rouge-score use_stemmer=False)." };
        var k = new Option<int?>("--k") { Description = "recall@k, mrr, ndcg: the rank cut-off (recall@k default 10; mrr and ndcg: none)." };
        var model = new Option<DirectoryInfo?>("--model") { Description = "bertscore: the encoder's directory (config.json, model.safetensors, tokenizer files): BERT, or any family's body." };
        var idf = new Option<bool>("--idf") { Description = "bertscore: weigh tokens by inverse document frequency over the references (bert_score idf=True)." };
        var layer = new Option<int?>("--layer") { Description = "bertscore: match the output of this encoder layer (bert_score num_layers; 0 = the embeddings) instead of the last one." };
        var cmd = new Command("metrics", "A metric equal to its reference implementation (sacreBLEU, rouge-score, the SQuAD scripts, scikit-learn, scipy), as one JSON object.")
            { metric, predictions, references, lowercase, tokenize, noStemmer, k, model, idf, layer };
        cmd.SetAction(parse =>
        {
            string name = parse.GetValue(metric)!;
            if (!Metrics.TryGetValue(name, out var m))
                throw new ArgumentException($"--metric \"{name}\" is not known; choose one of: {string.Join(", ", Metrics.Keys)}.");
            var input = new MetricInput(parse.GetValue(predictions)!.FullName, parse.GetValue(references)!.Select(f => f.FullName).ToArray(),
                parse.GetValue(lowercase), parse.GetValue(tokenize)!, !parse.GetValue(noStemmer), parse.GetValue(k), parse.GetValue(model)?.FullName, parse.GetValue(idf), parse.GetValue(layer));
            if (input.K is < 1) throw new ArgumentException($"--k must be at least 1; got {input.K}.");
            if (input.References.Length == 0) throw new ArgumentException("--references needs at least one file.");
            // --model, --idf and --layer only mean something to bertscore; ignoring them elsewhere would print a score
            // the user did not ask for (e.g. chrf++ --layer 2) without a word.
            if (!name.Equals("bertscore", StringComparison.OrdinalIgnoreCase))
            {
                string? stray = input.Layer is int l ? $"--layer {l}" : input.Idf ? "--idf" : input.Model is not null ? "--model" : null;
                if (stray is not null) throw new ArgumentException($"{stray} applies to --metric bertscore only; drop it for --metric {name}.");
            }
            var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                w.WriteStartObject();
                w.WriteString("metric", name.ToLowerInvariant());
                m.Compute(input, w);
                w.WriteEndObject();
            }
            parse.InvocationConfiguration.Output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
            return 0;
        });
        return cmd;
    }

    /// <summary>The single references file of a metric that takes one.</summary>
    internal static string OneReference(MetricInput input, string metric) => input.References.Length == 1 ? input.References[0]
        : throw new ArgumentException($"--metric {metric} reads one --references file; got {input.References.Length}.");

    /// <summary>Both counts and both files when two inputs disagree in length.</summary>
    internal static void SameCount(int predictions, string predictionsPath, int references, string referencesPath, string unit)
    {
        if (predictions != references)
            throw new InvalidDataException($"--predictions {predictionsPath} holds {predictions} {unit} but --references {referencesPath} holds {references}; they must pair up one to one.");
    }

    // BERTScore (Zhang et al. 2020, arXiv:1904.09675) as bert_score computes it per pair, averaged: each
    // text encoded by the model directory's tokenizer with its specials ([CLS] A [SEP] for WordPiece),
    // truncated to the model's positions, through the family's body built by SequenceClassifiers (the
    // one place a body is loaded from a directory for any registered family; its head is unused).
    private static void BertScoreMetric(MetricInput input, Utf8JsonWriter w)
    {
        string dir = input.Model ?? throw new ArgumentException("--metric bertscore needs --model DIR: an encoder directory (config.json, model.safetensors, tokenizer files).");
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--model {dir} does not exist; give an encoder directory (config.json, model.safetensors, tokenizer files).");
        string refPath = OneReference(input, "bertscore");
        string[] Texts(string path, string option)
        {
            var segments = MetricFiles.ReadSegments(path, option);
            int bad = segments.FindIndex(s => s.Length != 1);
            if (bad >= 0) throw new InvalidDataException($"{option} {path}: segment {bad + 1} holds {segments[bad].Length} texts; bertscore pairs one prediction with one reference.");
            return segments.Select(s => s[0]).ToArray();
        }
        var candidates = Texts(input.Predictions, "--predictions");
        var refs = Texts(refPath, "--references");
        SameCount(candidates.Length, input.Predictions, refs.Length, refPath, "segments");
        if (candidates.Length == 0) throw new InvalidDataException($"--predictions {input.Predictions} holds no segments.");
        var encoder = Loom.Training.Classification.SequenceEncoder.Load(dir);
        using var classifier = Loom.Models.Classification.SequenceClassifiers.Load(dir, new Loom.Models.Classification.SequenceClassifierOptions(), Loom.Models.ModelOptions.Inference);
        int maxLength = MaxPositions(dir);
        List<IReadOnlyList<int>> Encode(string[] texts) => texts.Select(t => (IReadOnlyList<int>)encoder.Encode(t, null, maxLength, Loom.Training.Classification.TruncationPolicy.Head).Ids).ToList();
        var c = Encode(candidates);
        var r = Encode(refs);
        if (input.Layer is int L && classifier.Body is Loom.Models.ILayerHiddenStates body && (L < 0 || L > body.LayerCount))
            throw new ArgumentException($"--layer {L}: {dir} has {body.LayerCount} layers; choose 0 (the embeddings) to {body.LayerCount}.");
        if (input.Layer is int L2 && classifier.Body is not Loom.Models.ILayerHiddenStates)
            throw new ArgumentException($"--layer {L2}: the encoder in {dir} cannot stop after a layer (only BERT bodies can); leave --layer out to use its last hidden states.");
        var scorer = new BertScorer(classifier.Body, hasSpecialTokens: encoder.SpecialCount(pair: false) == 2, layer: input.Layer);
        var results = scorer.Score(c, r, input.Idf ? BertScore.Idf(r) : null);
        w.WriteNumber("precision", results.Average(x => x.Precision));
        w.WriteNumber("recall", results.Average(x => x.Recall));
        w.WriteNumber("f1", results.Average(x => x.F1));
        w.WriteNumber("pairs", results.Count);
        w.WriteBoolean("idf", input.Idf);
        if (input.Layer is int layerUsed) w.WriteNumber("layer", layerUsed);
    }

    // The model's position limit (max_position_embeddings / n_positions), 512 as bert_score's when the config names none.
    private static int MaxPositions(string dir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
        foreach (var name in new[] { "max_position_embeddings", "n_positions" })
            if (doc.RootElement.TryGetProperty(name, out var v) && v.TryGetInt32(out int n) && n > 2) return Math.Min(n, 512);
        return 512;
    }

    // Hypotheses (one text per segment) and the references of each segment across every --references file.
    private static (string[] Hypotheses, List<List<string>> References) Segments(MetricInput input)
    {
        var hyps = MetricFiles.ReadSegments(input.Predictions, "--predictions");
        var bad = hyps.FindIndex(h => h.Length != 1);
        if (bad >= 0) throw new InvalidDataException($"--predictions {input.Predictions}: segment {bad + 1} holds {hyps[bad].Length} texts; each prediction is one text.");
        var refs = hyps.Select(_ => new List<string>()).ToList();
        foreach (var file in input.References)
        {
            var r = MetricFiles.ReadSegments(file, "--references");
            SameCount(hyps.Count, input.Predictions, r.Count, file, "segments");
            for (int i = 0; i < r.Count; i++) refs[i].AddRange(r[i]);
        }
        return (hyps.Select(h => h[0]).ToArray(), refs);
    }

    // Reference streams as sacreBLEU takes them: stream k holds each segment's k-th reference (null where a segment has fewer).
    private static List<IReadOnlyList<string?>> Streams(List<List<string>> refs)
    {
        int streams = refs.Max(r => r.Count);
        return Enumerable.Range(0, streams).Select(k => (IReadOnlyList<string?>)refs.Select(r => k < r.Count ? r[k] : null).ToArray()).ToList();
    }

    private static void Bleu(MetricInput input, Utf8JsonWriter w)
    {
        var (hyps, refs) = Segments(input);
        var options = new BleuOptions { Tokenize = input.Tokenize, Lowercase = input.Lowercase };
        var s = Loom.Evaluation.Metrics.Bleu.Corpus(hyps, Streams(refs), options);
        w.WriteNumber("score", s.Score);
        Array(w, "counts", s.Counts);
        Array(w, "totals", s.Totals);
        Array(w, "precisions", s.Precisions);
        w.WriteNumber("bp", s.BrevityPenalty);
        w.WriteNumber("sys_len", s.SystemLength);
        w.WriteNumber("ref_len", s.ReferenceLength);
        w.WriteString("signature", s.Signature);
        w.WriteString("text", s.ToString());
    }

    private static void Chrf(MetricInput input, Utf8JsonWriter w, ChrfOptions options)
    {
        var (hyps, refs) = Segments(input);
        var s = Loom.Evaluation.Metrics.Chrf.Corpus(hyps, Streams(refs), options);
        w.WriteNumber("score", s.Score);
        w.WriteString("name", s.Name);
        w.WriteString("signature", s.Signature);
    }

    private static void Rouge(MetricInput input, Utf8JsonWriter w)
    {
        var (hyps, refs) = Segments(input);
        var targets = refs.Select(r => (IReadOnlyList<string>)r).ToList();
        foreach (var type in Loom.Evaluation.Metrics.Rouge.DefaultTypes)
        {
            var s = Loom.Evaluation.Metrics.Rouge.Corpus(targets, hyps, type, input.Stemmer);
            w.WriteStartObject(type);
            w.WriteNumber("precision", s.Precision);
            w.WriteNumber("recall", s.Recall);
            w.WriteNumber("fmeasure", s.FMeasure);
            w.WriteEndObject();
        }
        w.WriteBoolean("use_stemmer", input.Stemmer);
        w.WriteNumber("count", hyps.Length);
    }

    private static void Squad(MetricInput input, Utf8JsonWriter w, bool v2)
    {
        string refPath = OneReference(input, v2 ? "squad_v2" : "squad");
        Dictionary<string, string> predictions;
        using (var p = MetricFiles.ReadJson(input.Predictions, "--predictions"))
        {
            if (p.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"--predictions {input.Predictions}: the official predictions file is a JSON object {{question_id: answer}}; got a JSON {p.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
            predictions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var e in p.RootElement.EnumerateObject())
                predictions[e.Name] = e.Value.ValueKind == JsonValueKind.String ? e.Value.GetString()!
                    : throw new InvalidDataException($"--predictions {input.Predictions}: the answer of \"{e.Name}\" is a JSON {e.Value.ValueKind.ToString().ToLowerInvariant()}; answers are strings (\"\" for no answer).");
        }
        using var d = MetricFiles.ReadJson(refPath, "--references");
        if (d.RootElement.ValueKind != JsonValueKind.Object || !d.RootElement.TryGetProperty("data", out var data))
            throw new InvalidDataException($"--references {refPath}: not a SQuAD dataset (a JSON object with \"data\": [articles with paragraphs and qas]).");
        try
        {
            if (!v2)
            {
                var r = Loom.Evaluation.Metrics.Squad.EvaluateV1(data, predictions);
                w.WriteNumber("exact_match", r.ExactMatch);
                w.WriteNumber("f1", r.F1);
                return;
            }
            var s = Loom.Evaluation.Metrics.Squad.EvaluateV2(data, predictions);
            w.WriteNumber("exact", s.Exact);
            w.WriteNumber("f1", s.F1);
            w.WriteNumber("total", s.Total);
            if (s.HasAnsTotal is { } ht) { w.WriteNumber("HasAns_exact", s.HasAnsExact!.Value); w.WriteNumber("HasAns_f1", s.HasAnsF1!.Value); w.WriteNumber("HasAns_total", ht); }
            if (s.NoAnsTotal is { } nt) { w.WriteNumber("NoAns_exact", s.NoAnsExact!.Value); w.WriteNumber("NoAns_f1", s.NoAnsF1!.Value); w.WriteNumber("NoAns_total", nt); }
        }
        catch (KeyNotFoundException e)
        {
            throw new InvalidDataException($"--references {refPath}: not in the SQuAD layout (data[].paragraphs[].qas[].{{id, answers}}): {e.Message}");
        }
    }

    private static void Retrieval(MetricInput input, Utf8JsonWriter w, string which)
    {
        string refPath = OneReference(input, which);
        var rankings = MetricFiles.ReadSegments(input.Predictions, "--predictions").Select(r => (IReadOnlyList<string>)r).ToList();
        var relevant = MetricFiles.ReadSegments(refPath, "--references").Select(r => (IReadOnlySet<string>)r.ToHashSet(StringComparer.Ordinal)).ToList();
        SameCount(rankings.Count, input.Predictions, relevant.Count, refPath, "queries");
        double value;
        switch (which)
        {
            case "recall@k":
                value = RetrievalMetrics.RecallAtK(rankings, relevant, input.K ?? 10);
                w.WriteNumber("k", input.K ?? 10);
                break;
            case "mrr":
                value = RetrievalMetrics.MeanReciprocalRank(rankings, relevant, input.K);
                break;
            default:
                // Per query: every ranked or relevant document, scored by rank (first = highest), unranked ones tied last.
                double sum = 0;
                for (int q = 0; q < rankings.Count; q++)
                {
                    var docs = rankings[q].Concat(relevant[q].Where(x => !rankings[q].Contains(x))).Distinct().ToList();
                    if (docs.Count < 2) docs.Add("\u0000unranked");
                    var rel = docs.Select(x => relevant[q].Contains(x) ? 1.0 : 0.0).ToArray();
                    var sc = docs.Select(x => { int r = IndexOf(rankings[q], x); return r < 0 ? 0.0 : docs.Count - r; }).ToArray();
                    sum += RetrievalMetrics.Ndcg(rel, sc, docs.Count, input.K);
                }
                value = sum / rankings.Count;
                break;
        }
        if (input.K is { } k && which != "recall@k") w.WriteNumber("k", k);
        w.WriteNumber(which, value);
        w.WriteNumber("count", rankings.Count);
    }

    private static int IndexOf(IReadOnlyList<string> list, string x)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == x) return i;
        return -1;
    }

    private static void Array(Utf8JsonWriter w, string name, double[] values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    private static void Regression(MetricInput input, Utf8JsonWriter w, string key, Func<double[], double[], double> metric)
    {
        string refPath = OneReference(input, key);
        var p = MetricFiles.ReadNumbers(input.Predictions, "--predictions");
        var t = MetricFiles.ReadNumbers(refPath, "--references");
        SameCount(p.Length, input.Predictions, t.Length, refPath, "values");
        double v = metric(t, p);
        if (double.IsFinite(v)) w.WriteNumber(key, v); else w.WriteNull(key);
        w.WriteNumber("count", p.Length);
    }

    private static void Labels(MetricInput input, Utf8JsonWriter w, Action<int[], int[]> write)
    {
        string refPath = OneReference(input, "accuracy/f1");
        var p = MetricFiles.ReadLabels(input.Predictions, "--predictions");
        var t = MetricFiles.ReadLabels(refPath, "--references");
        SameCount(p.Length, input.Predictions, t.Length, refPath, "labels");
        // Labels become class indices in sorted order, as sklearn's unique_labels.
        var classes = t.Concat(p).Distinct().Order(StringComparer.Ordinal).Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);
        write(t.Select(l => classes[l]).ToArray(), p.Select(l => classes[l]).ToArray());
        w.WriteNumber("count", p.Length);
    }
}
