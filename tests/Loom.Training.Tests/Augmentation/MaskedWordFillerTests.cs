// [MASK] augmentation against PyTorch: Fixtures/mask_fill holds a tiny BERT masked LM (random weights,
// Hugging Face names, a word-level vocab.txt) and, from make_mask_fill_fixture.py, the softmax at each
// [MASK] of three sentences (the seed's "tells no [MASK] story" among them) and the top-5 whole-word
// fills under the documented rule. The filler must reproduce both through the real directory loader
// and tokenizer; the dataset run must keep labels, drop duplicates and record each fill.
using System.Text.Json.Nodes;
using Loom.Training.Augmentation;

namespace Loom.Training.Tests.Augmentation;

public sealed class MaskedWordFillerTests : IDisposable
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "mask_fill");
    private readonly MaskedWordFiller _filler = MaskedWordFiller.Open(Dir);
    private static readonly JsonNode Expected = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "expected.json")))!;

    public void Dispose() => _filler.Dispose();

    [Fact]
    public void DistributionsAtEachMaskEqualPyTorch()
    {
        foreach (var c in Expected["cases"]!.AsArray())
        {
            var got = _filler.Distributions((string)c!["text"]!);
            var masks = c["masks"]!.AsArray();
            Assert.Equal(masks.Count, got.Length);
            for (int m = 0; m < masks.Count; m++)
            {
                var want = masks[m]!["probabilities"]!.AsArray().Select(x => (double)x!).ToArray();
                Assert.Equal(want.Length, got[m].Length);
                for (int j = 0; j < want.Length; j++) Assert.True(Math.Abs(want[j] - got[m][j]) < 2e-6, $"{c["text"]} mask {m} id {j}: {got[m][j]} vs PyTorch {want[j]}");
            }
        }
    }

    [Fact]
    public void TopKWholeWordFillsAndProbabilitiesEqualPyTorch()
    {
        int k = (int)Expected["top_k"]!;
        foreach (var c in Expected["cases"]!.AsArray())
        {
            var masks = c!["masks"]!.AsArray();
            var originals = masks.Select(m => (string?)m!["original"]).ToList();
            var fills = _filler.Fill((string)c["text"]!, k, originals);
            for (int m = 0; m < masks.Count; m++)
            {
                var want = masks[m]!["fills"]!.AsArray();
                Assert.Equal(want.Select(f => (string)f!["token"]!), fills[m].Select(f => f.Token));
                for (int i = 0; i < want.Count; i++) Assert.True(Math.Abs((double)want[i]!["probability"]! - fills[m][i].Probability) < 2e-6, $"{fills[m][i].Token}: {fills[m][i].Probability} vs PyTorch {want[i]!["probability"]}");   // float32 forward
                if (originals[m] is { } o) Assert.DoesNotContain(fills[m], f => f.Token == o);
            }
        }
    }

    [Fact]
    public void TheSeedsExampleIsFilledFromTheTopKWithProvenance()
    {
        var top = Expected["cases"]![0]!["masks"]![0]!["fills"]!.AsArray().Select(f => (string)f!["token"]!).ToHashSet();
        var a = _filler.Augment("this film tells no [MASK] story .", words: 1, topK: 5, new Random(1));
        Assert.NotNull(a);
        Assert.Equal("mask", a.Operation);
        string word = a.Text.Replace("this film tells no ", "").Replace(" story .", "");
        Assert.Contains(word, top);
        Assert.StartsWith("[MASK]→" + word + " (p=", Assert.Single(a.Changes));
    }

    [Fact]
    public void WordsAreMaskedWhenTheTextHasNoMaskAndCaseIsKept()
    {
        var a = _filler.Augment("Lovely plot", words: 1, topK: 3, new Random(4));
        Assert.NotNull(a);
        var change = Assert.Single(a.Changes);
        string original = change.Split('→')[0];
        Assert.Contains(original, new[] { "Lovely", "plot" });
        string replaced = a.Text.Split(' ')[original == "Lovely" ? 0 : 1];
        Assert.NotEqual(original, replaced, StringComparer.OrdinalIgnoreCase);
        if (original == "Lovely") Assert.True(char.IsUpper(replaced[0]));
        Assert.Null(_filler.Augment("the a an", words: 1, topK: 3, new Random(1)));   // stop words only
    }

    [Fact]
    public async Task TheDatasetRunKeepsLabelsDropsDuplicatesAndRecordsFills()
    {
        var lines = new[] { """{"text": "a lovely tale", "label": "pos", "id": 1}""", """{"text": "the plot was dull", "label": "neg", "id": 2}""" };
        var output = new StringWriter();
        var summary = await new Augmenter(new AugmentationOptions { Method = "mask", PerRecord = 6, Seed = 3 }, filler: _filler).RunAsync(lines, "in.jsonl", output);
        var records = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(summary.Written, records.Count);
        Assert.Equal(12, summary.Written + summary.Duplicates + summary.Unchanged);
        Assert.True(summary.Written >= 2);
        var texts = records.Select(r => (string)r["text"]!).ToList();
        Assert.Equal(texts.Count, texts.Distinct().Count());
        Assert.DoesNotContain("a lovely tale", texts);
        foreach (var r in records)
        {
            int line = (int)r["augmentation"]!["source_line"]!;
            Assert.Equal(line == 1 ? "pos" : "neg", (string)r["label"]!);
            Assert.Equal(line, (int)r["id"]!);
            Assert.Equal("mask", (string)r["augmentation"]!["method"]!);
            Assert.Contains("(p=", (string)r["augmentation"]!["changes"]![0]!);
        }
    }

    [Fact]
    public void ATextLongerThanTheContextIsFilledInAWindowAroundTheMask()
    {
        // Context 32 → 30 tokens between [CLS] and [SEP]; the mask sits at token 50 of 60.
        string longText = string.Join(' ', Enumerable.Repeat("the film", 25)) + " [MASK] " + string.Join(' ', Enumerable.Repeat("good", 9));
        var p = Assert.Single(_filler.Distributions(longText));
        // The same window written out: tokens 35..64 of the text (15 before the mask, 14 after, clamped to the end).
        var words = longText.Split(' ');
        string window = string.Join(' ', words[(words.Length - 30)..]);
        var q = Assert.Single(_filler.Distributions(window));
        for (int j = 0; j < p.Length; j++) Assert.Equal(q[j], p[j], 12);
    }
}
