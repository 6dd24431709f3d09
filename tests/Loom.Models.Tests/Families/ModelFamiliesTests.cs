// The family registry: CausalLanguageModels builds, loads and describes through it, and a family
// registered from outside the model assembly is built by model_type with no switch to edit.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Models.Families;
using Loom.Models.Gpt2;

namespace Loom.Models.Tests.Families;

public class ModelFamiliesTests
{
    [Fact]
    public void BuiltInFamiliesAreRegistered()
    {
        Assert.Equal(["bert", "gpt2", "llama"], ModelFamilies.All.Select(f => f.ModelType).Where(t => t is "bert" or "gpt2" or "llama"));
        Assert.Contains("gpt2", CausalLanguageModels.Supported);
        Assert.Contains("llama", CausalLanguageModels.Supported);
        Assert.DoesNotContain("bert", CausalLanguageModels.Supported);
        var e = Assert.Throws<NotSupportedException>(() => CausalLanguageModels.Create(JsonNode.Parse("""{"model_type":"bert"}""")!, "config.json"));
        Assert.Contains("encoder", e.Message);
        e = Assert.Throws<NotSupportedException>(() => CausalLanguageModels.Create(JsonNode.Parse("""{"model_type":"mamba"}""")!, "config.json"));
        Assert.Contains("mamba", e.Message);
        Assert.Contains("gpt2", e.Message);
    }

    [Fact]
    public void ARegisteredFamilyIsBuiltByModelTypeWithTheGivenOptions()
    {
        // A "family" that is GPT-2 under another model_type, registered by the test.
        ModelFamilies.Register(new ModelFamily
        {
            ModelType = "test-gpt2-alias",
            ConfigurationType = typeof(AliasConfig),
            ReadConfiguration = n => new AliasConfig(n["width"]!.GetValue<int>()),
            CreateCausalLanguageModel = (c, o, p) => new Gpt2Model(new Gpt2Config { VocabSize = 11, MaxPositions = 8, Embedding = ((AliasConfig)c).Width, Layers = 1, Heads = 2 }, o, p),
            Describe = c => $"alias {((AliasConfig)c).Width}",
        });
        using var m = CausalLanguageModels.Create(JsonNode.Parse("""{"model_type":"test-gpt2-alias","width":8}""")!, "config.json", ModelOptions.Inference);
        Assert.Equal(8, ((Gpt2Config)m.Configuration).Embedding);
        Assert.False(m.Parameters.HasGradients);
        Assert.Equal("alias 8", CausalLanguageModels.Describe(new AliasConfig(8)));
        Assert.Equal("gpt2 12 layers × 768, vocab 50257", CausalLanguageModels.Describe(new Gpt2Config()));
    }

    private sealed record AliasConfig(int Width);

    [Fact]
    public void LoadBuildsForInferenceWhenAsked()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-family-" + Guid.NewGuid().ToString("N"));
        using (var m = new Gpt2Model(new Gpt2Config { VocabSize = 11, MaxPositions = 8, Embedding = 8, Layers = 1, Heads = 2 }))
        {
            m.InitializeWeights(1);
            m.Save(dir);
        }
        using var loaded = CausalLanguageModels.Load(dir, ModelOptions.Inference);
        Assert.False(loaded.Parameters.HasGradients);
        Assert.IsAssignableFrom<IIncrementalDecoder>(loaded);
        using var trainable = CausalLanguageModels.Load(dir);
        Assert.True(trainable.Parameters.HasGradients);
        Assert.Equal(trainable.Parameters.AllValues.ToArray(), loaded.Parameters.AllValues.ToArray());
    }
}
