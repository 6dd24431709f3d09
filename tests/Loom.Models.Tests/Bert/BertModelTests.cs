// BERT's initialisation (Hugging Face's _init_weights) and Save/Load round trip.
using Loom.Models.Bert;
using Loom.Models.Formats;

namespace Loom.Models.Tests.Bert;

public class BertModelTests
{
    private static readonly BertConfig Small = new() { VocabSize = 300, HiddenSize = 32, Layers = 2, Heads = 4, IntermediateSize = 64, MaxPositions = 16 };

    [Fact]
    public void InitializationFollowsHuggingFace()
    {
        using var m = new BertModel(Small);
        m.InitializeWeights(4);
        var p = m.Parameters;
        for (int i = 0; i < p.Specs.Count; i++)
        {
            var s = p.Specs[i];
            var v = p.Value(i).ToArray();
            if (s.Name.EndsWith("LayerNorm.weight", StringComparison.Ordinal)) Assert.All(v, x => Assert.Equal(1f, x));
            else if (s.Shape.Length == 1) Assert.All(v, x => Assert.Equal(0f, x));
            else
            {
                double mean = v.Average(x => (double)x), std = Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
                Assert.True(Math.Abs(std - 0.02) < 0.02 * 0.15 && Math.Abs(mean) < 0.02 * 0.15, $"{s.Name}: mean {mean}, std {std}");
            }
        }
        using var again = new BertModel(Small);
        again.InitializeWeights(4);
        Assert.Equal(m.Parameters.AllValues.ToArray(), again.Parameters.AllValues.ToArray());
    }

    [Fact]
    public void SavedModelLoadsBackIdentically()
    {
        using var m = new BertModel(Small);
        m.InitializeWeights(2);
        string dir = Path.Combine(Path.GetTempPath(), "loom-bert-" + Guid.NewGuid().ToString("N"));
        m.Save(dir);
        using var back = new BertModel(BertConfig.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))));
        using (var f = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"))) back.LoadWeights(f);
        Assert.Equal(Small, back.Config);
        Assert.Equal(m.Parameters.AllValues.ToArray(), back.Parameters.AllValues.ToArray());
    }
}
