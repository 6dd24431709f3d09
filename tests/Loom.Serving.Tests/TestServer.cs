// A tiny random GPT-2 saved as a Hugging Face model directory (config.json, model.safetensors,
// tokenizer.json) and a real LoomServer over it on a loopback port picked by the OS; and the
// reference every answer is checked against: the same directory loaded into a second engine, called
// directly with the same prompt tokens and the same sampling settings.
using Loom.Inference.Engine;
using Loom.Models.Gpt2;
using Loom.Serving.Hosting;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Serving.Tests;

internal static class TestServer
{
    public const string Text = "the cat sat on the mat.\nthe dog sat on the log.\nwhere is the cat? the cat is on the mat, said the dog.\n";
    private static readonly Lazy<BpeTrainingResult> s_bpe = new(() => BpeTrainer.Train([Text], new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 }));
    public static BpeTokenizer Tokenizer => s_bpe.Value.Tokenizer;

    /// <summary>A model directory named <paramref name="name"/> (the served model name).</summary>
    public static string MakeModelDir(string name = "tiny-gpt2", int context = 256)
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-serve-" + Guid.NewGuid().ToString("N"), name);
        Directory.CreateDirectory(dir);
        HuggingFaceTokenizerJson.Save(Tokenizer, Path.Combine(dir, "tokenizer.json"), s_bpe.Value.Merges);
        using var model = new Gpt2Model(new Gpt2Config { VocabSize = Tokenizer.VocabularySize, MaxPositions = context, Embedding = 32, Layers = 2, Heads = 4 }, Loom.Models.ModelOptions.Inference);
        model.InitializeWeights(7);
        // Random weights of std 0.02 give nearly flat logits; sharper ones make greedy and sampled text differ visibly.
        var p = model.Parameters;
        for (int i = 0; i < p.Specs.Count; i++)
            if (p.Specs[i].Shape.Length == 2) { var v = p.Value(i); for (int j = 0; j < v.Length; j++) v[j] *= 25f; }
        model.Save(dir);
        return dir;
    }

    public static async Task<LoomServer> StartAsync(string dir, Func<ServerOptions, ServerOptions>? configure = null)
    {
        var options = new ServerOptions { ModelDirectory = dir, Port = 0, KvCacheMegabytes = 4 };
        var server = LoomServer.Create(configure?.Invoke(options) ?? options);
        await server.StartAsync();
        return server;
    }

    public static HttpClient Http(LoomServer server, string? key = null)
    {
        var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (key != null) http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return http;
    }

    /// <summary>The ChatML prompt of a conversation, as the server must render it.</summary>
    public static string ChatML(params (string Role, string Content)[] messages) =>
        string.Concat(messages.Select(m => $"<|im_start|>{m.Role}\n{m.Content}<|im_end|>\n")) + "<|im_start|>assistant\n";

    /// <summary>Waits (bounded) until every KV block is back in the pool; returns the used count.</summary>
    public static async Task<int> BlocksInUseAfterSettling(InferenceEngine engine)
    {
        for (int i = 0; i < 500 && (engine.Statistics.UsedBlocks > 0 || engine.Statistics.Running > 0 || engine.Statistics.Waiting > 0); i++) await Task.Delay(20);
        return engine.Statistics.UsedBlocks;
    }
}
