// An OpenAI-compatible server over one model: Kestrel with minimal APIs, loopback by default. It owns
// the inference engine (loaded from the model directory, so a bad directory fails here with the
// loaders' message naming the file), the request log and the metrics. Shutdown is graceful:
// StopAsync refuses new requests (503), lets in-flight ones finish for ShutdownGrace, cancels the
// rest (their streams end with a 503 error event; their KV blocks return), stops Kestrel, writes the
// request log's last rows and frees the engine.
using Loom.Inference.Chat;
using Loom.Inference.Engine;
using Loom.Serving.Http;
using Loom.Serving.Logging;
using Loom.Serving.Metrics;
using Loom.Serving.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Loom.Serving.Hosting;

/// <summary>The `loom serve` server.</summary>
public sealed class LoomServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApiGate _gate;
    private readonly RequestLog? _log;
    private readonly CancellationTokenSource _shutdown = new();
    private volatile bool _stopping;
    private int _stopped;

    private readonly InferenceEngine? _engine;
    private readonly OpenAIService? _service;
    private readonly IDisposable _model;

    public ServerOptions Options { get; }
    /// <summary>The causal model's batched engine; a server over an encoder-decoder (T5) directory has none.</summary>
    public InferenceEngine Engine => _engine ?? throw new InvalidOperationException($"{Options.ModelDirectory} is an encoder-decoder (T5) model, served by Seq2SeqOpenAIService without the batched engine; use Completions.");
    public ServerMetrics Metrics { get; }
    /// <summary>The causal model's OpenAI service (also used by the batch runner); see <see cref="Engine"/>.</summary>
    public OpenAIService Service => _service ?? throw new InvalidOperationException($"{Options.ModelDirectory} is an encoder-decoder (T5) model; use Completions.");
    /// <summary>What answers /v1/completions, /v1/chat/completions, /v1/embeddings and /v1/models, chosen once when the model was loaded.</summary>
    public IOpenAIService Completions { get; }
    /// <summary>The prompt-injection screen requests pass before parsing (action Off: none).</summary>
    public Guards.RequestGuard Guard { get; }
    /// <summary>The moderation model (POST /v1/moderations) and its screen of inputs and outputs (Scope None: no screen).</summary>
    public Guards.ModerationGuard Moderation { get; }
    /// <summary>Where the server listens, once started (http://127.0.0.1:PORT).</summary>
    public Uri? BaseAddress { get; private set; }
    /// <summary>True from the start of StopAsync: new requests get 503.</summary>
    public bool Stopping => _stopping;
    internal CancellationToken ShutdownToken => _shutdown.Token;

    private LoomServer(ServerOptions options, IDisposable model, InferenceEngine? engine, IOpenAIService service, ServerMetrics metrics, RequestLog? log, Guards.ContentModerator? moderator)
    {
        Moderation = new Guards.ModerationGuard(moderator, options.Moderate, options.ModerationAction);
        Options = options;
        Metrics = metrics;
        _model = model;
        _engine = engine;
        _service = service as OpenAIService;
        Completions = service;
        _log = log;
        _gate = new ApiGate(options.ApiKeys, options.RequestsPerMinute);
        Guard = new Guards.RequestGuard(new Guards.PromptInjectionGuard(options.InjectionThreshold), options.InjectionGuard);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(LoomServer).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, NoConsoleLifetime>();
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownGrace + TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;   // the handler enforces --max-body-mb itself and answers 413 in OpenAI's shape
            k.AddServerHeader = false;
            if (System.Net.IPAddress.TryParse(options.Host, out var ip)) k.Listen(ip, options.Port);
            else if (options.Host == "localhost") k.ListenLocalhost(options.Port);
            else throw new ArgumentException($"--host {options.Host} is not an IP address; use 127.0.0.1 (loopback), 0.0.0.0 (every interface) or an address of this machine.");
        });
        _app = builder.Build();
        _app.Use(async (ctx, next) =>
        {
            // /health and the static playground page need no key (the page's own API calls send one).
            if (ctx.Request.Path.Equals("/health", StringComparison.Ordinal) || (ctx.Request.Path.Equals("/", StringComparison.Ordinal) && HttpMethods.IsGet(ctx.Request.Method))) { await next(ctx).ConfigureAwait(false); return; }
            if (_gate.Check(ctx, _stopping) is { } refusal)
            {
                var trace = new RequestTrace(ctx.Request.Path.Value ?? "", null);
                Completions.Finish(trace, refusal.StatusCode);
                await HttpResponses.ErrorAsync(ctx.Response, refusal).ConfigureAwait(false);
                return;
            }
            await next(ctx).ConfigureAwait(false);
        });
        OpenAIEndpoints.Map(_app, this);
        // Unknown paths and methods answer in OpenAI's error shape too.
        _app.MapFallback((HttpContext ctx) => HttpResponses.ErrorAsync(ctx.Response,
            new ApiException(404, "invalid_request_error", $"Unknown request URL: {ctx.Request.Method} {ctx.Request.Path}. The server serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/moderations, /v1/models, /health and /metrics.", null, "unknown_url")));
    }

    /// <summary>
    /// Loads the model directory and builds the server (not yet listening). Bad options throw
    /// <see cref="ArgumentException"/> naming the CLI option; a bad model directory the loader's error naming the file.
    /// </summary>
    public static LoomServer Create(ServerOptions options) => Create(options, null);

    /// <summary>
    /// As <see cref="Create(ServerOptions)"/>, with a moderation model given directly (any classifier whose
    /// classes map to OpenAI categories) instead of loaded from <see cref="ServerOptions.ModerationModelDirectory"/>;
    /// the server disposes it.
    /// </summary>
    public static LoomServer Create(ServerOptions options, Guards.ContentModerator? moderation)
    {
        IChatFormatter? formatter;
        bool seq2seq;
        try
        {
            options.Validate();
            if (options.Moderate != Guards.ModerationScope.None && options.ModerationModelDirectory is null && moderation is null)
                throw new ArgumentException($"--moderate {options.Moderate.ToString().ToLowerInvariant()} needs --moderation-model DIR, a classifier trained with loom finetune (examples/moderation/finetune.yaml).");
            if (!Directory.Exists(options.ModelDirectory) && !Loom.Inference.Gguf.GgufModelFiles.IsGguf(options.ModelDirectory))
                throw new DirectoryNotFoundException($"--model {options.ModelDirectory}: no such directory or GGUF file. Give a model directory (config.json, model.safetensors, a tokenizer) or a .gguf file.");
            seq2seq = Loom.Inference.Seq2Seq.Seq2SeqTextModel.IsSeq2Seq(options.ModelDirectory);
            if (seq2seq && options.AdapterDirectory != null)
                throw new ArgumentException($"--adapter: {options.ModelDirectory} is an encoder-decoder (T5) model; LoRA adapters are served for causal models only.");
            if (seq2seq && options.ChatTemplatePath != null)
                throw new ArgumentException($"--chat-template: {options.ModelDirectory} is an encoder-decoder (T5) model, served for /v1/completions only; it has no chat endpoint.");
            formatter = seq2seq ? null : ChatFormatters.For(options.ModelDirectory, options.ChatTemplatePath);
            if (options.AdapterDirectory is { } adapter && !Directory.Exists(adapter))
                throw new DirectoryNotFoundException($"--adapter {adapter}: no such directory. Give a LoRA adapter directory (adapter_config.json, adapter_model.safetensors).");
        }
        catch
        {
            moderation?.Dispose();   // the caller handed it over
            throw;
        }
        // The one place the kind of model decides what answers requests: a causal directory gets the
        // batched engine behind OpenAIService, an encoder-decoder one Seq2SeqOpenAIService (one
        // generation at a time); the endpoints see only IOpenAIService.
        IDisposable engine;
        InferenceEngine? causal = null;
        Loom.Inference.Seq2Seq.Seq2SeqTextModel? textModel = null;
        try
        {
            if (seq2seq) engine = textModel = Loom.Inference.Seq2Seq.Seq2SeqTextModel.Load(options.ModelDirectory);
            else engine = causal = InferenceEngine.Load(options.ModelDirectory, new InferenceEngineOptions { KvCacheMegabytes = options.KvCacheMegabytes, MaxBatch = options.MaxBatch, AdapterDirectory = options.AdapterDirectory, PrefixCaching = options.PrefixCaching });
        }
        catch { moderation?.Dispose(); throw; }
        RequestLog? log = null;
        Guards.ContentModerator? moderator = moderation;
        try
        {
            if (moderator is null && options.ModerationModelDirectory is { } directory) moderator = Guards.ContentModerator.Open(directory, options.ModerationThreshold);
            log = options.LogDatabasePath is { } path ? RequestLog.Open(path) : null;
            var metrics = new ServerMetrics();
            IOpenAIService service = causal != null
                ? new OpenAIService(causal, options.ModelName, formatter!, metrics, log, options.LogContent, options.Selective)
                : new Seq2SeqOpenAIService(textModel!, options.ModelName, metrics, log, options.LogContent);
            return new LoomServer(options, engine, causal, service, metrics, log, moderator);
        }
        catch
        {
            engine.Dispose();
            moderator?.Dispose();
            log?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Starts listening; <see cref="BaseAddress"/> is set when this returns.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        try { await _app.StartAsync(cancellationToken).ConfigureAwait(false); }
        catch (IOException e) { throw new IOException($"Cannot listen on {Options.Host}:{Options.Port} ({e.Message}). Choose another --port or stop what uses it.", e); }
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }

    /// <summary>Graceful shutdown: refuse new requests, let in-flight ones finish within ShutdownGrace, cancel the rest, stop.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        _stopping = true;
        var deadline = DateTime.UtcNow + Options.ShutdownGrace;
        while (Metrics.InFlight > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        _shutdown.Cancel();
        // Cancelled requests still write their closing error event; give them a moment, bounded.
        for (int i = 0; i < 250 && Metrics.InFlight > 0; i++) await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        if (_log != null) await _log.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops if still running, then frees the engine.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
        _model.Dispose();
        Moderation.Moderator?.Dispose();
        _shutdown.Dispose();
    }
}
