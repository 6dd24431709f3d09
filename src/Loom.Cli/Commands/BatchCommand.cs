// `loom batch`: an OpenAI Batch API file through the engine in-process (Loom.Serving's BatchRunner),
// with a progress bar on stderr. Ctrl+C stops after syncing what was written; rerun the same
// command to finish — custom_ids already in the output are skipped.
using System.CommandLine;
using Loom.Inference.Engine;
using Loom.Serving.Batch;
using Loom.Serving.Hosting;
using Loom.Serving.Metrics;
using Loom.Serving.Protocol;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class BatchCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory: config.json, model.safetensors and a tokenizer.", Required = true };
        var input = new Option<FileInfo>("--input") { Description = "OpenAI Batch API JSONL: one {custom_id, method, url, body} per line.", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "Results JSONL, appended; a rerun skips custom_ids already there.", Required = true };
        var kv = new Option<double>("--kv-cache-mb") { Description = "KV cache budget in MiB.", DefaultValueFactory = _ => 256 };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most sequences decoded together.", DefaultValueFactory = _ => 64 };
        var prefixCaching = new Option<string>("--prefix-caching") { Description = "Share the KV cache of whole prompt blocks between requests that start alike (system prompts, n > 1): on or off.", DefaultValueFactory = _ => "on" };
        var name = new Option<string?>("--served-model-name") { Description = "The model name the bodies use (default: the model directory's name)." };
        var template = new Option<FileInfo?>("--chat-template") { Description = "A Jinja chat template file overriding the model's." };
        var cmd = new Command("batch", "Run an OpenAI Batch API file (chat, completions, embeddings) through the engine; resumable.") { model, input, output, kv, maxBatch, prefixCaching, name, template };
        cmd.SetAction(parse =>
        {
            Loom.Core.Validation.Setting.OneOf("--prefix-caching", parse.GetValue(prefixCaching), "on", "off");
            var serverOptions = new ServerOptions
            {
                ModelDirectory = parse.GetValue(model)!.FullName, KvCacheMegabytes = parse.GetValue(kv), MaxBatch = parse.GetValue(maxBatch), PrefixCaching = parse.GetValue(prefixCaching) == "on",
                ServedModelName = parse.GetValue(name), ChatTemplatePath = parse.GetValue(template)?.FullName,
            };
            serverOptions.Validate();
            var options = new BatchOptions { InputPath = parse.GetValue(input)!.FullName, OutputPath = parse.GetValue(output)!.FullName, MaxConcurrent = Math.Max(serverOptions.MaxBatch * 2, 8) };
            BatchRunner.ReadInput(options.InputPath);   // a bad input fails before the model loads
            if (!Directory.Exists(serverOptions.ModelDirectory))
                throw new DirectoryNotFoundException($"--model {serverOptions.ModelDirectory}: no such directory.");
            var formatter = ChatFormatters.For(serverOptions.ModelDirectory, serverOptions.ChatTemplatePath);
            using var engine = InferenceEngine.Load(serverOptions.ModelDirectory, new InferenceEngineOptions { KvCacheMegabytes = serverOptions.KvCacheMegabytes, MaxBatch = serverOptions.MaxBatch, PrefixCaching = serverOptions.PrefixCaching });
            var service = new OpenAIService(engine, serverOptions.ModelName, formatter, new ServerMetrics());
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                BatchProgress result = null!;
                stderr.Progress().AutoClear(false).Start(ctx =>
                {
                    var task = ctx.AddTask("requests");
                    var progress = new Progress<BatchProgress>(p => { task.MaxValue = Math.Max(1, p.Total); task.Value = p.Skipped + p.Done; });
                    result = BatchRunner.RunAsync(service, options, progress, cts.Token).GetAwaiter().GetResult();
                    task.Value = task.MaxValue;
                });
                console.MarkupLine($"{result.Done} request(s) run ({result.Failed} answered with an error), {result.Skipped} already in {Markup.Escape(options.OutputPath)}; {result.Total} in all.");
                return 0;
            }
            finally { Console.CancelKeyPress -= onCancel; }
        });
        return cmd;
    }
}
