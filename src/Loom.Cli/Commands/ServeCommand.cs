// `loom serve`: options → ServerOptions → LoomServer (Loom.Serving); nothing else lives here. The
// model directory is loaded before the port is bound, so a bad directory fails at once with the
// loader's message naming the file. Ctrl+C or SIGTERM drains gracefully (new requests 503,
// in-flight ones finish within --shutdown-grace, then are cancelled).
using System.CommandLine;
using System.Runtime.InteropServices;
using Loom.Serving.Hosting;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory: config.json, model.safetensors and a tokenizer (a T5 directory is served for /v1/completions).", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on (127.0.0.1: loopback only; 0.0.0.0: every interface).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free port).", DefaultValueFactory = _ => 8080 };
        var keys = new Option<string[]>("--api-key") { Description = "A Bearer key clients must send (repeat for several; none: no authentication).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var kv = new Option<double>("--kv-cache-mb") { Description = "KV cache budget in MiB.", DefaultValueFactory = _ => 256 };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most sequences decoded together.", DefaultValueFactory = _ => 64 };
        var prefixCaching = new Option<string>("--prefix-caching") { Description = "Share the KV cache of whole prompt blocks between requests that start alike (system prompts, n > 1): on or off.", DefaultValueFactory = _ => "on" };
        var name = new Option<string?>("--served-model-name") { Description = "The model name clients use (default: the model directory's name)." };
        var template = new Option<FileInfo?>("--chat-template") { Description = "A Jinja chat template file overriding the model's (default: the model's, else ChatML)." };
        var logDb = new Option<FileInfo?>("--log-db") { Description = "SQLite file to log every request to." };
        var logContent = new Option<bool>("--log-content") { Description = "Also log prompt and output text (off: counts and timings only)." };
        var maxBody = new Option<double>("--max-body-mb") { Description = "Largest request body in MiB (413 above).", DefaultValueFactory = _ => 8 };
        var maxQueue = new Option<int>("--max-queue") { Description = "Most requests admitted at once; more get 429.", DefaultValueFactory = _ => 256 };
        var rate = new Option<int>("--rate-limit") { Description = "Requests per minute per API key (0: no limit).", DefaultValueFactory = _ => 0 };
        var timeout = new Option<double>("--request-timeout") { Description = "Seconds a request may run before it is cancelled (408).", DefaultValueFactory = _ => 600 };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "A LoRA adapter directory (PEFT's adapter_config.json + adapter_model.safetensors, e.g. from loom finetune with lora:) applied to the model." };
        var grace = new Option<double>("--shutdown-grace") { Description = "Seconds in-flight requests may finish on shutdown before they are cancelled.", DefaultValueFactory = _ => 30 };
        var guard = new Option<string>("--injection-guard") { Description = "Prompt-injection guard on user text: off, flag (X-Loom-Prompt-Injection header), refuse (400) or strip.", DefaultValueFactory = _ => "off" };
        var guardThreshold = new Option<double>("--injection-threshold") { Description = "Guard score (0..1] at which the guard acts.", DefaultValueFactory = _ => 0.5 };
        var minConfidence = new Option<double?>("--min-confidence") { Description = "Selective generation: mean token log-probability below which an answer is low-confidence (e.g. -1.5; default: off)." };
        var lowConfidence = new Option<string>("--low-confidence") { Description = "What to do with a low-confidence answer: warn (a \"not verified\" warning) or abstain.", DefaultValueFactory = _ => "warn" };
        var moderationModel = new Option<DirectoryInfo?>("--moderation-model") { Description = "A classifier trained with loom finetune (e.g. examples/moderation/finetune.yaml) served at POST /v1/moderations." };
        var moderate = new Option<string>("--moderate") { Description = "What the moderation model screens: none, input (user turns, prompts), output (non-streamed answers) or both.", DefaultValueFactory = _ => "none" };
        var moderationAction = new Option<string>("--moderation-action") { Description = "A flagged text gets: flag (X-Loom-Moderation header) or refuse (400 for an input; an emptied answer with finish_reason content_filter for an output).", DefaultValueFactory = _ => "flag" };
        var moderationThreshold = new Option<double>("--moderation-threshold") { Description = "Category score (0..1] at which moderation flags a text.", DefaultValueFactory = _ => 0.5 };
        var cmd = new Command("serve", "Serve a model with an OpenAI-compatible HTTP API (chat, completions, embeddings, SSE streaming).")
            { model, host, port, keys, kv, maxBatch, prefixCaching, name, template, logDb, logContent, maxBody, maxQueue, rate, timeout, grace, adapter, guard, guardThreshold, minConfidence, lowConfidence, moderationModel, moderate, moderationAction, moderationThreshold };
        cmd.SetAction(parse =>
        {
            Loom.Core.Validation.Setting.OneOf("--injection-guard", parse.GetValue(guard), "off", "flag", "refuse", "strip");
            Loom.Core.Validation.Setting.OneOf("--prefix-caching", parse.GetValue(prefixCaching), "on", "off");
            Loom.Core.Validation.Setting.OneOf("--low-confidence", parse.GetValue(lowConfidence), "warn", "abstain");
            Loom.Core.Validation.Setting.OneOf("--moderate", parse.GetValue(moderate), "none", "input", "output", "both");
            Loom.Core.Validation.Setting.OneOf("--moderation-action", parse.GetValue(moderationAction), "flag", "refuse");
            double body = parse.GetValue(maxBody), seconds = parse.GetValue(timeout), graceSeconds = parse.GetValue(grace);
            if (!(body > 0 && body <= 1 << 20)) throw new ArgumentException($"--max-body-mb must be a number of MiB above 0; got {body}.");
            if (!(seconds > 0 && seconds < 1e7)) throw new ArgumentException($"--request-timeout must be a number of seconds above 0; got {seconds}.");
            if (!(graceSeconds >= 0 && graceSeconds < 1e7)) throw new ArgumentException($"--shutdown-grace must be a number of seconds ≥ 0; got {graceSeconds}.");
            var options = new ServerOptions
            {
                ModelDirectory = parse.GetValue(model)!.FullName,
                Host = parse.GetValue(host)!, Port = parse.GetValue(port), ApiKeys = parse.GetValue(keys)!,
                KvCacheMegabytes = parse.GetValue(kv), MaxBatch = parse.GetValue(maxBatch), PrefixCaching = parse.GetValue(prefixCaching) == "on", ServedModelName = parse.GetValue(name),
                ChatTemplatePath = parse.GetValue(template)?.FullName, AdapterDirectory = parse.GetValue(adapter)?.FullName, LogDatabasePath = parse.GetValue(logDb)?.FullName, LogContent = parse.GetValue(logContent),
                MaxRequestBodyBytes = (long)(body * (1 << 20)), MaxQueuedRequests = parse.GetValue(maxQueue), RequestsPerMinute = parse.GetValue(rate),
                RequestTimeout = TimeSpan.FromSeconds(seconds), ShutdownGrace = TimeSpan.FromSeconds(graceSeconds),
                InjectionGuard = Enum.Parse<Loom.Serving.Guards.GuardAction>(parse.GetValue(guard)!, ignoreCase: true),
                InjectionThreshold = parse.GetValue(guardThreshold),
                ModerationModelDirectory = parse.GetValue(moderationModel)?.FullName,
                Moderate = Enum.Parse<Loom.Serving.Guards.ModerationScope>(parse.GetValue(moderate)!, ignoreCase: true),
                ModerationAction = Enum.Parse<Loom.Serving.Guards.GuardAction>(parse.GetValue(moderationAction)!, ignoreCase: true),
                ModerationThreshold = parse.GetValue(moderationThreshold),
                Selective = new Loom.Serving.Guards.SelectiveGenerationOptions
                {
                    MinMeanLogprob = parse.GetValue(minConfidence),
                    Action = Enum.Parse<Loom.Serving.Guards.LowConfidenceAction>(parse.GetValue(lowConfidence)!, ignoreCase: true),
                },
            };
            options.Validate();
            var server = LoomServer.Create(options);
            try
            {
                server.StartAsync().GetAwaiter().GetResult();
                console.MarkupLine($"serving [bold]{Markup.Escape(options.ModelName)}[/] at [link]{Markup.Escape(server.BaseAddress!.ToString())}v1[/] " +
                                   $"({Markup.Escape(server.Completions.Describe())}, {(options.ApiKeys.Count > 0 ? $"{options.ApiKeys.Count} API key(s)" : "no API key")}" +
                                   $"{(options.LogDatabasePath != null ? $", request log {Markup.Escape(options.LogDatabasePath)}" : "")}" +
                                   $"{(server.Moderation.Moderator is { } mod ? $", moderation {Markup.Escape(mod.ModelName)} [{string.Join(", ", mod.Categories)}] screening {options.Moderate.ToString().ToLowerInvariant()}" : "")}); Ctrl+C stops.");
                using var stop = new ManualResetEventSlim();
                ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Set(); };
                Console.CancelKeyPress += onCancel;
                using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
                stop.Wait();
                Console.CancelKeyPress -= onCancel;
                console.MarkupLine($"stopping: finishing in-flight requests (up to {graceSeconds:0.#} s)...");
            }
            finally { server.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
            return 0;
        });
        return cmd;
    }
}
