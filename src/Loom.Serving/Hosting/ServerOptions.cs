// Settings of `loom serve`, one record with the defaults documented; Validate names each bad setting
// as the CLI option a user types, so the same message serves the library and the command line.
using Loom.Core.Validation;

namespace Loom.Serving.Hosting;

/// <summary>Settings of an OpenAI-compatible <see cref="LoomServer"/>.</summary>
public sealed record ServerOptions
{
    /// <summary>The model directory (config.json, model.safetensors, a tokenizer) — --model.</summary>
    public required string ModelDirectory { get; init; }
    /// <summary>Address to listen on; loopback by default — --host.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>TCP port; 0 picks a free one — --port.</summary>
    public int Port { get; init; } = 8080;
    /// <summary>Bearer keys clients must send; empty: no authentication — --api-key.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];
    /// <summary>KV cache budget in MiB — --kv-cache-mb.</summary>
    public double KvCacheMegabytes { get; init; } = 256;
    /// <summary>Most sequences per decode step — --max-batch.</summary>
    public int MaxBatch { get; init; } = 64;
    /// <summary>Share the KV of whole prompt blocks between requests with a common prefix — --prefix-caching on|off.</summary>
    public bool PrefixCaching { get; init; } = true;
    /// <summary>The model name clients use; null: the model directory's name — --served-model-name.</summary>
    public string? ServedModelName { get; init; }
    /// <summary>A Jinja chat template file overriding the model's — --chat-template.</summary>
    public string? ChatTemplatePath { get; init; }

    /// <summary>A LoRA adapter directory (PEFT's layout) applied to the model; null: the model alone.</summary>
    public string? AdapterDirectory { get; init; }
    /// <summary>SQLite request log; null: none — --log-db.</summary>
    public string? LogDatabasePath { get; init; }
    /// <summary>Also log prompt and output text — --log-content.</summary>
    public bool LogContent { get; init; }
    /// <summary>Largest request body in bytes (413 above) — --max-body-mb.</summary>
    public long MaxRequestBodyBytes { get; init; } = 8L << 20;
    /// <summary>Most requests admitted at once (running or queued); more get 429 — --max-queue.</summary>
    public int MaxQueuedRequests { get; init; } = 256;
    /// <summary>Requests per minute per API key (token bucket); 0: no limit — --rate-limit.</summary>
    public int RequestsPerMinute { get; init; }
    /// <summary>Longest a request may run before it is cancelled (408) — --request-timeout.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>On shutdown, how long in-flight requests may finish before they are cancelled — --shutdown-grace.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Prompt-injection guard on user text: off, flag, refuse or strip — --injection-guard.</summary>
    public Guards.GuardAction InjectionGuard { get; init; } = Guards.GuardAction.Off;
    /// <summary>Score at which the injection guard acts — --injection-threshold.</summary>
    public double InjectionThreshold { get; init; } = 0.5;
    /// <summary>A `loom finetune` classifier directory served at POST /v1/moderations; null: none — --moderation-model.</summary>
    public string? ModerationModelDirectory { get; init; }
    /// <summary>What the moderation model screens: none, input, output or both — --moderate.</summary>
    public Guards.ModerationScope Moderate { get; init; } = Guards.ModerationScope.None;
    /// <summary>What a flagged text gets: flag (X-Loom-Moderation header) or refuse — --moderation-action.</summary>
    public Guards.GuardAction ModerationAction { get; init; } = Guards.GuardAction.Flag;
    /// <summary>Category score at which moderation flags a text — --moderation-threshold.</summary>
    public double ModerationThreshold { get; init; } = 0.5;
    /// <summary>Selective generation: warn or abstain below a mean token log-probability — --min-confidence, --low-confidence.</summary>
    public Guards.SelectiveGenerationOptions Selective { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelDirectory)) throw new ArgumentException("--model is required: the model directory to serve.");
        if (string.IsNullOrWhiteSpace(Host)) throw new ArgumentException("--host must not be empty; use 127.0.0.1 for loopback or 0.0.0.0 for every interface.");
        if (Port is < 0 or > 65535) throw Setting.Error("--port", Port, "a TCP port from 0 (any free port) to 65535");
        foreach (var key in ApiKeys)
            if (string.IsNullOrWhiteSpace(key) || key.Any(char.IsWhiteSpace)) throw new ArgumentException("--api-key must be a non-empty key without spaces.");
        Setting.Positive("--kv-cache-mb", KvCacheMegabytes);
        Setting.AtLeast("--max-batch", MaxBatch, 1);
        if (ServedModelName is { } name && string.IsNullOrWhiteSpace(name)) throw new ArgumentException("--served-model-name must not be empty.");
        Setting.AtLeast("--max-body-mb", MaxRequestBodyBytes, 1024);
        Setting.AtLeast("--max-queue", MaxQueuedRequests, 1);
        Setting.AtLeast("--rate-limit", RequestsPerMinute, 0);
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException($"--request-timeout must be > 0 seconds; got {RequestTimeout.TotalSeconds}.");
        if (!(InjectionThreshold > 0 && InjectionThreshold <= 1)) throw Setting.Error("--injection-threshold", InjectionThreshold, "in (0, 1]");
        Selective.Validate();
        if (ModerationAction is not (Guards.GuardAction.Flag or Guards.GuardAction.Refuse)) throw Setting.Error("--moderation-action", ModerationAction.ToString().ToLowerInvariant(), "flag or refuse");
        if (!(ModerationThreshold > 0 && ModerationThreshold <= 1)) throw Setting.Error("--moderation-threshold", ModerationThreshold, "in (0, 1]");
        if (ShutdownGrace < TimeSpan.Zero) throw new ArgumentException($"--shutdown-grace must be ≥ 0 seconds; got {ShutdownGrace.TotalSeconds}.");
    }

    /// <summary>The served model name: <see cref="ServedModelName"/> or the directory's name.</summary>
    public string ModelName => ServedModelName ?? new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(ModelDirectory))).Name;
}
