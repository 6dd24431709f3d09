// `loom eval harness --model DIR | --endpoint URL --tasks NAMES|FILE.yaml ...`: lm-evaluation-harness
// style tasks (Loom.Evaluation/Harness) on a local model through the inference engine
// (Loom.Inference/Scoring/EngineTaskModel) or on an OpenAI-compatible endpoint
// (Loom.Evaluation/Endpoints/EndpointTaskModel, generative tasks only). Prints the results object
// (schema loom.eval.harness/1) on stdout; with --output also writes results.json,
// samples_<task>.jsonl and report.html there. Each task's test documents are checked against its
// few-shot split and --train-data with the curation dedup (exact + MinHash) and overlaps are warned.
using System.CommandLine;
using System.Text.Json;
using Loom.Data.Dedup;
using Loom.Evaluation.Endpoints;
using Loom.Evaluation.Harness;
using Loom.Inference.Engine;
using Loom.Inference.Scoring;
using Spectre.Console;

namespace Loom.Cli.Commands.Eval;

internal static class EvalHarnessCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model directory (config.json, model.safetensors, a tokenizer)." };
        var endpoint = new Option<string?>("--endpoint") { Description = "An OpenAI-compatible API root instead of --model, e.g. http://127.0.0.1:8080/v1 (log-likelihood tasks need echo + logprobs on /v1/completions, as `loom serve` offers)." };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer key for --endpoint." };
        var endpointModel = new Option<string?>("--endpoint-model") { Description = "Model name sent to --endpoint (default: the first of GET /v1/models)." };
        var tasks = new Option<string[]>("--tasks") { Description = "Shipped task names (gsm8k, squad2, sms_spam, imdb_sentiment, lambada_wikitext2), comma-separated or repeated, or task YAML files.", Required = true, AllowMultipleArgumentsPerToken = true };
        var shots = new Option<int?>("--shots") { Description = "Few-shot examples per prompt (default: each task's num_fewshot)." };
        var limit = new Option<int>("--limit") { Description = "Score only the first N test documents of each task (0: all).", DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the few-shot draw, hold-out split, sampling and bootstrap.", DefaultValueFactory = _ => 1234UL };
        var output = new Option<DirectoryInfo?>("--output") { Description = "Write results.json, samples_<task>.jsonl and report.html here." };
        var vars = new Option<string[]>("--var") { Description = "NAME=VALUE for ${NAME} in task dataset paths (e.g. --var IMDB_DIR=../shared/data/imdb).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap resamples for each metric's 95% interval.", DefaultValueFactory = _ => 1000 };
        var trainData = new Option<FileInfo[]>("--train-data") { Description = "Training data (JSONL with a text field, or plain text, one document a line) to check the test sets against for overlap.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var kv = new Option<double>("--kv-cache-mb") { Description = "KV cache budget of the local engine in MiB.", DefaultValueFactory = _ => 256 };
        var cmd = new Command("harness", "Score a model on multiple-choice, generative and log-likelihood tasks (lm-evaluation-harness style), with bootstrap intervals.")
            { model, endpoint, apiKey, endpointModel, tasks, shots, limit, seed, output, vars, bootstrap, trainData, kv };
        cmd.SetAction(parse =>
        {
            var dir = parse.GetValue(model);
            string? url = parse.GetValue(endpoint);
            if ((dir is null) == (url is null)) throw new ArgumentException("Give exactly one of --model DIR and --endpoint URL.");
            var options = new HarnessOptions { Shots = parse.GetValue(shots), Limit = parse.GetValue(limit), Seed = parse.GetValue(seed), BootstrapResamples = parse.GetValue(bootstrap) };
            try { options.Validate(); }
            catch (ArgumentOutOfRangeException e) { throw new ArgumentException(e.Message.Split(" (Parameter")[0]); }
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var v in parse.GetValue(vars)!)
            {
                int eq = v.IndexOf('=');
                if (eq < 1) throw new ArgumentException($"--var {v}: write NAME=VALUE.");
                variables[v[..eq]] = v[(eq + 1)..];
            }
            // Every task file parses and its data exists before any model loads.
            var definitions = parse.GetValue(tasks)!.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Select(t => TaskLoader.Load(TaskLoader.Resolve(t), variables)).ToList();
            if (definitions.Count == 0) throw new ArgumentException("--tasks names no task.");
            foreach (var d in definitions)
            {
                if (!File.Exists(d.TestPath)) throw new FileNotFoundException($"{d.SourcePath}: dataset.test {d.TestPath} does not exist.");
                if (d.TrainPath != null && !File.Exists(d.TrainPath)) throw new FileNotFoundException($"{d.SourcePath}: dataset.train {d.TrainPath} does not exist.");
            }
            var trainingTexts = parse.GetValue(trainData)!.SelectMany(f => ReadTexts(f.FullName)).ToList();

            InferenceEngine? engine = null;
            OpenAIEndpoint? client = null;
            try
            {
                ITaskModel taskModel;
                string name;
                if (dir != null)
                {
                    if (!dir.Exists) throw new DirectoryNotFoundException($"--model {dir.FullName}: no such directory.");
                    engine = InferenceEngine.Load(dir.FullName, new InferenceEngineOptions { KvCacheMegabytes = parse.GetValue(kv) });
                    name = dir.Name;
                    taskModel = new EngineTaskModel(engine, name);
                }
                else
                {
                    client = new OpenAIEndpoint(url!, parse.GetValue(apiKey), parse.GetValue(endpointModel));
                    name = $"{client.ResolveModelAsync().GetAwaiter().GetResult()} @ {client.BaseAddress}";
                    taskModel = new EndpointTaskModel(client);
                }
                var results = new List<TaskResult>();
                foreach (var d in definitions)
                {
                    TaskResult r = null!;
                    console.Progress().AutoClear(true).Start(ctx =>
                    {
                        var bar = ctx.AddTask(Markup.Escape(d.Name));
                        var progress = new SyncProgress(p => { bar.MaxValue = Math.Max(1, p.Total); bar.Value = p.Done; });
                        r = TaskRunner.RunAsync(d, taskModel, options, progress).GetAwaiter().GetResult();
                    });
                    var warnings = OverlapWarnings(d, options, trainingTexts, parse.GetValue(trainData)!);
                    foreach (var w in warnings) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(w)}");
                    results.Add(r with { Warnings = warnings });
                    console.MarkupLine($"{Markup.Escape(d.Name)}: {string.Join(", ", r.Metrics.Select(m => $"{m.Key} [bold]{m.Value.Value:0.####}[/] [[{m.Value.Lower:0.####}, {m.Value.Upper:0.####}]]"))} ({r.Documents} documents, {r.Shots}-shot)");
                }
                var json = HarnessResults.ToJson(name, results, options);
                if (parse.GetValue(output) is { } outDir)
                {
                    HarnessResults.Write(outDir.FullName, json, results);
                    console.MarkupLine($"wrote {Markup.Escape(Path.Combine(outDir.FullName, "results.json"))}, report.html and samples_<task>.jsonl");
                }
                parse.InvocationConfiguration.Output.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            finally
            {
                engine?.Dispose();
                client?.Dispose();
            }
        });
        return cmd;
    }

    // Reports on the calling thread (Progress<T> would post to the thread pool after the bar is gone).
    private sealed class SyncProgress(Action<(int Done, int Total)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }

    private static List<string> OverlapWarnings(TaskDefinition d, HarnessOptions options, List<string> trainingTexts, FileInfo[] trainFiles)
    {
        var warnings = new List<string>();
        var (train, test) = TaskRunner.LoadSplits(d, options.Seed);
        if (options.Limit > 0 && test.Count > options.Limit) test = test.GetRange(0, options.Limit);
        var testTexts = test.Select((doc, i) => d.DocToText.Render(doc, $"{d.TestPath} document {i}")).ToList();
        if (train.Count > 0)
        {
            var trainTexts = train.Select((doc, i) => d.DocToText.Render(doc, $"document {i}")).ToList();
            if (OverlapChecker.Check(trainTexts, testTexts).Warning($"task {d.Name}", "of its few-shot split") is { } w) warnings.Add(w);
        }
        if (trainingTexts.Count > 0 && OverlapChecker.Check(trainingTexts, testTexts).Warning($"task {d.Name}", string.Join(", ", trainFiles.Select(f => f.Name))) is { } w2)
            warnings.Add(w2);
        return warnings;
    }

    // JSONL lines with a "text" field, or plain text lines.
    private static IEnumerable<string> ReadTexts(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--train-data {path}: no such file.");
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (line.TrimStart().StartsWith('{'))
            {
                System.Text.Json.Nodes.JsonNode? node = null;
                try { node = System.Text.Json.Nodes.JsonNode.Parse(line); } catch (JsonException) { }
                if (node?["text"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue(out string? s)) { yield return s; continue; }
            }
            yield return line;
        }
    }
}
