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
    internal sealed record MetricInput(string Predictions, string[] References, bool Lowercase, string Tokenize, bool Stemmer);

    private sealed record Metric(string Description, Action<MetricInput, Utf8JsonWriter> Compute);

    private static readonly Dictionary<string, Metric> Metrics = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mse"] = new("mean squared error (sklearn)", (i, w) => Regression(i, w, "mse", (t, p) => RegressionMetrics.MeanSquaredError(t, p))),
        ["mae"] = new("mean absolute error (sklearn)", (i, w) => Regression(i, w, "mae", (t, p) => RegressionMetrics.MeanAbsoluteError(t, p))),
        ["r2"] = new("coefficient of determination (sklearn r2_score)", (i, w) => Regression(i, w, "r2", (t, p) => RegressionMetrics.R2(t, p))),
        ["pearson"] = new("Pearson's r (scipy)", (i, w) => Regression(i, w, "pearson", (t, p) => RegressionMetrics.Pearson(p, t))),
        ["spearman"] = new("Spearman's rho, ties averaged (scipy)", (i, w) => Regression(i, w, "spearman", (t, p) => RegressionMetrics.Spearman(p, t))),
        ["accuracy"] = new("accuracy of class labels (sklearn)", (i, w) => Labels(i, w, (t, p) => w.WriteNumber("accuracy", ClassificationMetrics.Accuracy(t, p)))),
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
        var cmd = new Command("metrics", "A metric equal to its reference implementation (sacreBLEU, rouge-score, the SQuAD scripts, scikit-learn, scipy), as one JSON object.")
            { metric, predictions, references, lowercase, tokenize, noStemmer };
        cmd.SetAction(parse =>
        {
            string name = parse.GetValue(metric)!;
            if (!Metrics.TryGetValue(name, out var m))
                throw new ArgumentException($"--metric \"{name}\" is not known; choose one of: {string.Join(", ", Metrics.Keys)}.");
            var input = new MetricInput(parse.GetValue(predictions)!.FullName, parse.GetValue(references)!.Select(f => f.FullName).ToArray(),
                parse.GetValue(lowercase), parse.GetValue(tokenize)!, !parse.GetValue(noStemmer));
            if (input.References.Length == 0) throw new ArgumentException("--references needs at least one file.");
            var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
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
