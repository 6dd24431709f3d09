// `loom-run generate`: a prompt continued by a causal model, streamed to stdout piece by piece, exactly
// as `loom generate` does it (the same loaders — CausalLanguageModels.Load through the ModelFormats
// registry for Hugging Face, `loom quantize` and low-rank directories, GgufModelFiles for .gguf files
// with their own tokenizer — and the same TextGenerator and sampler), so the same model, prompt and
// seed give the same tokens. Options are checked before the model loads.
using Loom.Core.Threading;
using Loom.Inference.Generation;
using Loom.Inference.Gguf;
using Loom.Models;
using Loom.Tokenizers;

namespace Loom.Run;

/// <summary>The generate command.</summary>
public static class GenerateRun
{
    /// <summary>The options generate accepts.</summary>
    public static readonly string[] Options = ["--model", "--prompt", "--max-tokens", "--temperature", "--top-k", "--top-p", "--seed", "--threads"];

    /// <summary>Runs generate with the words after the command name; writes the continuation to <paramref name="stdout"/>.</summary>
    public static int Run(ReadOnlySpan<string> args, TextWriter stdout)
    {
        var a = RunArguments.Parse("generate", args, Options);
        string model = a.Required("--model"), prompt = a.Required("--prompt");
        var options = new SamplingOptions
        {
            MaxNewTokens = a.Int("--max-tokens", 64), Temperature = a.Float("--temperature", 0f), TopK = a.Int("--top-k", 0),
            TopP = a.Float("--top-p", 1f), Seed = a.Int("--seed", 0),
        };
        options.Validate(OptionName);
        int threads = a.Int("--threads", 0);
        if (a.Has("--threads") && threads < 1)
            throw new ArgumentException($"--threads is {threads}; it must be at least 1 (leave it out to use every core, or LOOM_THREADS).");
        string path = Path.GetFullPath(model);
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new FileNotFoundException($"--model {model} does not exist; give a model directory (config.json, weights, tokenizer) or a .gguf file.");
        // Low-rank directories (`loom compress lowrank`) open through the registry once Compression adds its format, as `loom` does at start-up.
        Loom.Compression.LowRank.LowRankModels.Register();
        // One pool for the whole run: --threads sizes it; otherwise the shared pool (all cores, LOOM_THREADS).
        using var pool = a.Has("--threads") ? new WorkerPool(threads) : null;
        using var gguf = GgufModelFiles.IsGguf(path) ? GgufModelFiles.Load(path, ModelOptions.Inference, pool) : null;
        using var loaded = gguf != null ? null : CausalLanguageModels.Load(path, ModelOptions.Inference, pool);
        var tokenizer = gguf?.Tokenizer ?? TokenizerLoader.Load(path);
        var generator = new TextGenerator(gguf?.Model ?? loaded!, tokenizer);
        foreach (var piece in generator.Generate(prompt, options))
        {
            stdout.Write(piece);
            stdout.Flush();
        }
        stdout.WriteLine();
        stdout.Flush();
        return 0;
    }

    // SamplingOptions' property names → this command's option names.
    private static string OptionName(string property) => property switch
    {
        nameof(SamplingOptions.MaxNewTokens) => "--max-tokens",
        nameof(SamplingOptions.Temperature) => "--temperature",
        nameof(SamplingOptions.TopK) => "--top-k",
        nameof(SamplingOptions.TopP) => "--top-p",
        nameof(SamplingOptions.Seed) => "--seed",
        _ => property,
    };
}
