// Loom's BERT against PyTorch (Fixtures/make_bert_fixture.py): word + position + token-type
// embeddings, post-LN blocks, exact GELU, bidirectional attention with a key padding mask, the MLM
// head tied to the word embeddings, the tanh pooler — logits, pooled output, loss, every gradient,
// and the 10-step AdamW loss curve.
using Loom.Models.Bert;
using Loom.Models.Formats;
using Loom.Models.Tests.Gpt2;

namespace Loom.Models.Tests.Bert;

public class BertReferenceTests
{
    // bert_tiny: T = 8, head size 8. bert_long: T = 256, head size 64, 39 padded keys (the IMDB pre-training shapes).
    private static (BertModel Model, SafetensorsFile File, int B, int T) Load(string fixture = "bert_tiny")
    {
        var file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture + ".safetensors"));
        var model = new BertModel(BertConfig.Parse(file.Metadata["config"]));
        model.LoadWeights(file, "w.");
        return (model, file, int.Parse(file.Metadata["batch"]), int.Parse(file.Metadata["time"]));
    }

    private static float Forward(BertModel m, SafetensorsFile f, int B, int T) =>
        m.Forward(f.ReadInt32("ids"), f.ReadInt32("token_types"), f.ReadInt32("attention_mask"), f.ReadInt32("targets"), B, T);

    [Theory]
    [InlineData("bert_tiny")]
    [InlineData("bert_long")]
    public void LogitsPooledOutputAndLossMatchPyTorch(string fixture)
    {
        var (model, file, B, T) = Load(fixture);
        using var _ = model; using var __ = file;
        float loss = Forward(model, file, B, T);
        Gpt2ReferenceTests.AssertClose(file.ReadSingle("logits"), model.Logits, "logits");
        Gpt2ReferenceTests.AssertClose(file.ReadSingle("pooled"), model.Pooled, "pooled");
        float want = file.ReadSingle("loss")[0];
        Assert.Equal(want, loss, 1e-5 * Math.Max(1, Math.Abs(want)));
    }

    [Theory]
    [InlineData("bert_tiny")]
    [InlineData("bert_long")]
    public void EveryGradientMatchesPyTorch(string fixture)
    {
        var (model, file, B, T) = Load(fixture);
        using var _ = model; using var __ = file;
        Forward(model, file, B, T);
        model.Parameters.ZeroGradients();
        model.Backward();
        for (int i = 0; i < model.Parameters.Specs.Count; i++)
        {
            var spec = model.Parameters.Specs[i];
            Gpt2ReferenceTests.AssertClose(file.ReadSingle("g." + spec.Name), model.Parameters.Gradient(i), "grad " + spec.Name);
        }
    }

    [Fact]
    public void PaddedKeysDoNotChangeRealPositions()
    {
        var (model, file, B, T) = Load();
        using var _ = model; using var __ = file;
        int[] ids = file.ReadInt32("ids"), types = file.ReadInt32("token_types"), mask = file.ReadInt32("attention_mask");
        model.Forward(ids, types, mask, default, B, T);
        float[] before = model.Logits.ToArray();
        for (int t = 0; t < T; t++) if (mask[T + t] == 0) ids[T + t] = (ids[T + t] + 13) % model.Config.VocabSize; // change padded tokens
        model.Forward(ids, types, mask, default, B, T);
        int V = model.Config.VocabSize;
        for (int t = 0; t < T; t++)
            if (mask[T + t] != 0)
                Assert.Equal(before.AsSpan((T + t) * V, V).ToArray(), model.Logits.Slice((T + t) * V, V).ToArray());
    }
}
