// ISelectedLogits (the head on chosen positions only) against PyTorch: the fixture's logits
// (Fixtures/make_gpt2_fixture.py, make_llama_fixture.py) at the selected rows, in any order and with
// repeats, and against the same model's full Forward.
using Loom.Models.Formats;

namespace Loom.Models.Tests.Heads;

public class SelectedLogitsTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void SelectedRowsEqualPyTorchLogitsAndTheFullForward(string family)
    {
        using var f = new FixtureModel(family);
        using var file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", family + "_tiny.safetensors"));
        var reference = file.ReadSingle("logits");
        var selected = (ISelectedLogits)f.Model;
        int V = selected.VocabularySize, BT = f.B * f.T;
        int[] rows = [BT - 1, 0, f.T, 2, f.T, 1];   // out of order, one repeated, rows of both sequences
        var logits = new float[rows.Length * V];
        selected.ForwardSelected(new TokenBatch(f.Ids, f.B, f.T), rows, logits);
        f.Forward();
        var full = f.Logits();
        float scale = reference.Max(MathF.Abs);
        for (int i = 0; i < rows.Length; i++)
            for (int v = 0; v < V; v++)
            {
                Assert.True(MathF.Abs(reference[rows[i] * V + v] - logits[i * V + v]) <= 1e-4f * scale, $"row {rows[i]} id {v}: PyTorch {reference[rows[i] * V + v]}, selected {logits[i * V + v]}");
                Assert.True(MathF.Abs(full[rows[i] * V + v] - logits[i * V + v]) <= 1e-6f * scale, $"row {rows[i]} id {v}: full forward {full[rows[i] * V + v]}, selected {logits[i * V + v]}");
            }
    }

    [Fact]
    public void ARowOutsideTheBatchIsRefusedWithItsIndex()
    {
        using var f = new FixtureModel("gpt2");
        var selected = (ISelectedLogits)f.Model;
        var logits = new float[selected.VocabularySize];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => selected.ForwardSelected(new TokenBatch(f.Ids, f.B, f.T), [f.B * f.T], logits));
        Assert.Contains($"{f.B * f.T}", e.Message);
    }
}
