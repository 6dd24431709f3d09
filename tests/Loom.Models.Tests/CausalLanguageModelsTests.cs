using System.Text.Json.Nodes;
using Loom.Models.Formats;
using Loom.Models.Gpt2;

namespace Loom.Models.Tests;

public class CausalLanguageModelsTests
{
    private static readonly Gpt2Config Tiny = new() { VocabSize = 32, MaxPositions = 8, Embedding = 8, Layers = 2, Heads = 2 };

    private static string SavedTiny()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-load-" + Guid.NewGuid().ToString("N"));
        using var m = new Gpt2Model(Tiny);
        m.InitializeWeights(1);
        m.Save(dir);
        return dir;
    }

    [Theory]
    [InlineData("gpt2", "layer_norm_epsilon", "-1")]
    [InlineData("gpt2", "layer_norm_epsilon", "0")]
    [InlineData("gpt2", "layer_norm_epsilon", "\"NaN\"")]
    [InlineData("gpt2", "n_layer", "0")]
    [InlineData("gpt2", "n_head", "-2")]
    [InlineData("gpt2", "n_embd", "9")]
    [InlineData("gpt2", "vocab_size", "0")]
    [InlineData("gpt2", "n_positions", "-1")]
    [InlineData("llama", "rms_norm_eps", "-0.001")]
    [InlineData("llama", "rms_norm_eps", "\"NaN\"")]
    [InlineData("llama", "num_hidden_layers", "0")]
    [InlineData("llama", "num_key_value_heads", "3")]
    public void ABadFieldIsNamedAsWrittenWithItsValue(string type, string field, string value)
    {
        var node = JsonNode.Parse(type == "gpt2"
            ? """{"model_type": "gpt2", "vocab_size": 32, "n_positions": 8, "n_embd": 8, "n_layer": 1, "n_head": 2}"""
            : """{"model_type": "llama", "vocab_size": 32, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 8}""")!;
        node[field] = JsonNode.Parse(value);
        var ex = Assert.Throws<ArgumentException>(() => CausalLanguageModels.ParseConfig(node, "model"));
        Assert.Contains($"model.{field} is {value.Trim('"')}", ex.Message);
        Assert.DoesNotContain("Config {", ex.Message);   // never a dump of the whole record
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json {")]
    [InlineData("[1, 2]")]
    [InlineData("42")]
    public void AConfigThatIsNotAJsonObjectIsNamed(string text)
    {
        string dir = SavedTiny();
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, text);
        var ex = Assert.Throws<InvalidDataException>(() => CausalLanguageModels.Load(dir));
        Assert.Contains(config, ex.Message);
    }

    [Fact]
    public void AMissingDirectoryDoesNotExist()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-nope-" + Guid.NewGuid().ToString("N"));
        var ex = Assert.Throws<DirectoryNotFoundException>(() => CausalLanguageModels.Load(dir));
        Assert.Contains("does not exist", ex.Message);
        Assert.DoesNotContain("config.json", ex.Message);
    }

    [Theory]
    [InlineData(1, "h.1.")]          // weights hold a layer the config lacks
    [InlineData(3, "h.2.ln_1.weight")] // the config wants a layer the weights lack
    public void AConfigThatDisagreesWithTheWeightsNamesTheTensor(int layers, string tensor)
    {
        string dir = SavedTiny();
        (Tiny with { Layers = layers }).Save(Path.Combine(dir, "config.json"));
        var ex = Assert.Throws<InvalidDataException>(() => CausalLanguageModels.Load(dir));
        Assert.Contains(tensor, ex.Message);
        Assert.Contains("config.json does not match the weights", ex.Message);
    }

    [Fact]
    public void AWrongShapeNamesTheTensor()
    {
        string dir = SavedTiny();
        (Tiny with { VocabSize = 40 }).Save(Path.Combine(dir, "config.json"));
        var ex = Assert.Throws<InvalidDataException>(() => CausalLanguageModels.Load(dir));
        Assert.Contains("wte.weight", ex.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void NonFiniteWeightsAreRefusedNamingTheTensor(float bad)
    {
        string dir = SavedTiny();
        using (var m = CausalLanguageModels.Load(dir))   // finite weights load
        {
            int i = m.Parameters.IndexOf("h.1.mlp.c_fc.weight");
            m.Parameters.Value(i)[5] = bad;
            m.Save(dir);
        }
        var ex = Assert.Throws<InvalidDataException>(() => CausalLanguageModels.Load(dir));
        Assert.Contains("h.1.mlp.c_fc.weight", ex.Message);
        Assert.Contains("element 5", ex.Message);
    }

    [Fact]
    public void HuggingFaceBuffersAreNotExtraTensors()
    {
        // GPT-2's files on the Hub carry causal-mask buffers (h.N.attn.bias) and a "transformer." prefix.
        string dir = SavedTiny();
        string weights = Path.Combine(dir, "model.safetensors");
        var items = new List<SafetensorsWriter.Item>();
        using (var f = SafetensorsFile.Open(weights))
            foreach (var (name, e) in f.Tensors) items.Add(new("transformer." + name, e.Shape, f.ReadSingle(name)));
        items.Add(new("transformer.h.0.attn.bias", [1, 1, 8, 8], new float[64]));
        SafetensorsWriter.Write(weights, items);
        using var m = CausalLanguageModels.Load(dir);
        Assert.Equal(Tiny, m.Configuration);
    }

    [Fact]
    public void AnAbsurdVocabularyIsRefusedBeforeAllocation()
    {
        var node = JsonNode.Parse("""{"model_type": "gpt2", "vocab_size": 2000000000, "n_positions": 8, "n_embd": 4096, "n_layer": 1, "n_head": 2}""")!;
        var ex = Assert.Throws<InvalidOperationException>(() => CausalLanguageModels.Create(node, "model"));
        Assert.Contains("vocab_size (2,000,000,000)", ex.Message);
        Assert.Contains(" GB", ex.Message);
    }

    [Theory]
    [InlineData("\"dtype\":\"F32\"", "\"dtype\":5", "has dtype 5; it must be a string")]
    [InlineData("\"shape\":[", "\"shape\":[1.5,", "has shape [1.5,")]
    [InlineData("\"data_offsets\":[", "\"data_offsets\":[\"a\",", "has data_offsets [\"a\",")]
    public void ASafetensorsHeaderFieldOfTheWrongTypeIsNamed(string find, string replace, string message)
    {
        // Regression: a dtype of the wrong JSON type gave .NET's "An element of type 'Number' cannot be converted to a 'System.String'".
        string dir = SavedTiny();
        string path = Path.Combine(dir, "model.safetensors");
        byte[] bytes = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        string header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)n);
        int at = header.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0);
        string changed = header[..at] + replace + header[(at + find.Length)..];
        byte[] h = System.Text.Encoding.UTF8.GetBytes(changed);
        using (var f = File.Create(path))
        {
            f.Write(BitConverter.GetBytes((long)h.Length));
            f.Write(h);
            f.Write(bytes, 8 + (int)n, bytes.Length - 8 - (int)n);
        }
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("System.", e.Message);
    }

    [Fact]
    public void AWholeNumberFieldGivenAFractionIsNamedInTheUsersWords()
    {
        // Regression: n_layer: 1.5 gave "The JSON value could not be converted to System.Int32".
        var e = Assert.Throws<InvalidDataException>(() => CausalLanguageModels.ParseConfig(JsonNode.Parse("{\"model_type\": \"gpt2\", \"n_layer\": 1.5}"), "model"));
        Assert.Equal("model.n_layer is 1.5; it must be a whole number from -2147483648 to 2147483647.", e.Message);
    }
}
