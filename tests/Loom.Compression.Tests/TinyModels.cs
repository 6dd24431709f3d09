// Small GPT-2 and Llama models with seeded random weights, saved as model directories.
using System.Text.Json.Nodes;
using Loom.Models;

namespace Loom.Compression.Tests;

internal static class TinyModels
{
    public static JsonNode Gpt2Config() => JsonNode.Parse("""{"model_type":"gpt2","vocab_size":64,"n_positions":16,"n_embd":32,"n_layer":2,"n_head":4}""")!;

    public static JsonNode LlamaConfig() => JsonNode.Parse("""{"model_type":"llama","vocab_size":64,"hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"max_position_embeddings":16}""")!;

    public static ICausalLanguageModel Create(JsonNode config, ModelOptions options, int seed = 11)
    {
        var m = CausalLanguageModels.Create(config, "tiny.json", options);
        m.InitializeWeights(seed);
        return m;
    }

    public static string SaveTemp(JsonNode config, int seed = 11)
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-compression-" + Guid.NewGuid().ToString("N"));
        using var m = Create(config, ModelOptions.Inference, seed);
        m.Save(dir);
        return dir;
    }

    public static int[] Ids(int count, int vocab, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();
    }
}
