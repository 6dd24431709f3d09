// `loom explain --model DIR | --endpoint URL --labels a,b  --text "..." --method lime|ig [--output DIR]`:
// why a classifier decided what it did about one text. LIME (any classifier: a `loom classify`
// model or an OpenAI-compatible endpoint) removes words and fits a weighted ridge; integrated
// gradients (a model directory only) integrates the logit's gradient along the word embeddings.
// Writes explanation.json + explanation.html into --output, or the JSON to stdout.
using System.CommandLine;
using Loom.Core.Validation;
using Loom.Explain;
using Loom.Explain.Classifiers;
using Loom.Explain.Gradients;
using Loom.Explain.Lime;
using Loom.Explain.Reports;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class ExplainCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo?>("--model") { Description = "A fine-tuned classifier directory (as loom classify reads)." };
        var endpoint = new Option<string?>("--endpoint") { Description = "Base URL of an OpenAI-compatible API to classify with instead (e.g. http://127.0.0.1:8080/v1); LIME only." };
        var labels = new Option<string?>("--labels") { Description = "With --endpoint: the class names, comma-separated (e.g. negative,positive)." };
        var endpointModel = new Option<string>("--endpoint-model") { Description = "With --endpoint: the model name sent.", DefaultValueFactory = _ => "loom" };
        var apiKey = new Option<string?>("--api-key") { Description = "With --endpoint: bearer key (default: $OPENAI_API_KEY)." };
        var text = new Option<string>("--text") { Description = "The text to explain.", Required = true };
        var method = new Option<string>("--method") { Description = "lime (any classifier) or ig (integrated gradients, model directories).", DefaultValueFactory = _ => "lime" };
        var output = new Option<DirectoryInfo?>("--output") { Description = "Write explanation.json and explanation.html here (default: the JSON on stdout)." };
        var samples = new Option<int>("--samples") { Description = "LIME: perturbed texts classified.", DefaultValueFactory = _ => 5000 };
        var features = new Option<int>("--features") { Description = "Words (LIME) or tokens (IG) listed per class.", DefaultValueFactory = _ => 10 };
        var topLabels = new Option<int>("--top-labels") { Description = "LIME: explain the N most probable classes (0: every class).", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--steps") { Description = "IG: points on the path from the zero embedding (Gauss–Legendre).", DefaultValueFactory = _ => 50 };
        var target = new Option<string?>("--target") { Description = "IG: the class to attribute (default: the predicted one)." };
        var batch = new Option<int>("--batch-size") { Description = "Texts (LIME) or path points (IG) per forward pass.", DefaultValueFactory = _ => 32 };
        var seed = new Option<int>("--seed") { Description = "LIME: seed of the perturbation sampler.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("explain", "Explain a classifier's prediction on a text (LIME or integrated gradients): highlighted HTML + JSON.")
            { model, endpoint, labels, endpointModel, apiKey, text, method, output, samples, features, topLabels, steps, target, batch, seed };
        cmd.SetAction(parse =>
        {
            string m = parse.GetValue(method)!;
            Setting.OneOf("--method", m, "lime", "ig");
            string dir = parse.GetValue(model)?.FullName ?? "";
            string? url = parse.GetValue(endpoint);
            if ((dir.Length > 0) == (url != null)) throw new ArgumentException("Give exactly one of --model DIR and --endpoint URL.");
            if (dir.Length > 0 && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"--model {dir} does not exist.");
            if (dir.Length > 0 && Loom.Models.Classification.TrainedHead.Inspect(dir) is { HasHead: false } or { HasPooler: false })
                throw new InvalidDataException($"--model {dir} has no trained classification head; fine-tune it first with loom finetune (an untrained head would explain random predictions).");
            if (m == "ig" && url != null) throw new ArgumentException("--method ig needs the model's gradients: give --model DIR (an endpoint can be explained with --method lime).");
            string input = parse.GetValue(text)!;
            if (string.IsNullOrWhiteSpace(input)) throw new ArgumentException("--text is empty; give the text to explain.");
            Setting.AtLeast("--features", parse.GetValue(features), 1);
            Setting.AtLeast("--batch-size", parse.GetValue(batch), 1);
            TextExplanation result;
            if (m == "lime")
            {
                Setting.AtLeast("--samples", parse.GetValue(samples), 2);
                Setting.AtLeast("--top-labels", parse.GetValue(topLabels), 0);
                var options = new LimeTextOptions
                {
                    Samples = parse.GetValue(samples), Features = parse.GetValue(features), TopLabels = parse.GetValue(topLabels),
                    BatchSize = parse.GetValue(batch), Seed = parse.GetValue(seed),
                };
                ITextClassifier classifier;
                IDisposable owner;
                if (url != null)
                {
                    if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl)) throw Setting.Error("--endpoint", url, "an absolute URL such as http://127.0.0.1:8080/v1");
                    var names = (parse.GetValue(labels) ?? throw new ArgumentException("--endpoint needs --labels, the class names the endpoint answers with (e.g. --labels negative,positive)."))
                        .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                    var ec = new EndpointTextClassifier(new EndpointClassifierOptions
                    {
                        BaseUrl = baseUrl, Labels = names, Model = parse.GetValue(endpointModel)!,
                        ApiKey = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"),
                    });
                    classifier = ec; owner = ec;
                }
                else
                {
                    var sc = SequenceTextClassifier.Open(dir, batchSize: parse.GetValue(batch));
                    classifier = sc; owner = sc;
                }
                using (owner)
                {
                    var explainer = new LimeTextExplainer(classifier, options);
                    TextExplanation? r = null;
                    console.Status().Start($"LIME: classifying {options.Samples:N0} perturbed texts", _ => r = explainer.ExplainAsync(input).GetAwaiter().GetResult());
                    result = r!;
                    if (owner is EndpointTextClassifier { Unparsed: > 0 } e)
                        console.MarkupLine($"[yellow]warning:[/] {e.Unparsed:N0} endpoint answers named no class of --labels and were scored uniform.");
                }
            }
            else
            {
                Setting.AtLeast("--steps", parse.GetValue(steps), 1);
                using var sc = SequenceTextClassifier.Open(dir, withGradients: true);
                int? targetId = null;
                if (parse.GetValue(target) is { } t)
                {
                    int i = sc.Labels.ToList().IndexOf(t);
                    targetId = i >= 0 ? i : throw Setting.Error("--target", t, $"one of the model's labels ({string.Join(", ", sc.Labels)})");
                }
                var ig = new IntegratedGradients(sc.Model, new IntegratedGradientsOptions
                {
                    Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), Target = targetId, Features = parse.GetValue(features),
                    MaxLength = Math.Min(sc.Model.ContextLength, 512),
                });
                TextExplanation? r = null;
                console.Status().Start($"integrated gradients: {parse.GetValue(steps)} steps", _ => r = ig.Explain(input, sc.Encoder, sc.Labels));
                result = r!;
                double err = result.Details["completeness_error"];
                if (err > 0.01) console.MarkupLine($"[yellow]warning:[/] the attributions miss completeness by {err:P1} (Σ vs logit(x) − logit(baseline)); raise --steps.");
            }
            if (parse.GetValue(output) is { } o)
            {
                var (json, html) = ExplanationReport.Write(result, o.FullName);
                console.MarkupLine($"wrote [green]{Markup.Escape(json)}[/] and [green]{Markup.Escape(html)}[/]");
                foreach (var c in result.Classes)
                    console.MarkupLine($"{Markup.Escape(c.Label)} (p = {c.Probability:F3}): {Markup.Escape(string.Join(", ", c.Top.Take(5).Select(w => $"{w.Word} {w.Weight:+0.000;-0.000}")))}");
            }
            else parse.InvocationConfiguration.Output.WriteLine(ExplanationReport.ToJson(result));
            return 0;
        });
        return cmd;
    }
}
