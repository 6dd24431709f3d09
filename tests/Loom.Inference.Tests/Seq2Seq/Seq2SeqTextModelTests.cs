// Seq2SeqTextModel on the tiny T5 directory (tests/Loom.Cli.Tests/Fixtures/t5_tiny, made by
// tests/Loom.Models.Tests/Fixtures/make_t5_fixture.py): source ids as T5Tokenizer's input_ids, the greedy
// text as PyTorch's generate + sentencepiece decode (expected.json); streamed pieces concatenate to it;
// a stop string cuts the text before its first occurrence.
using System.Text.Json.Nodes;
using Loom.Inference.Seq2Seq;

namespace Loom.Inference.Tests.Seq2Seq;

public class Seq2SeqTextModelTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "t5_tiny");

    [Fact]
    public void SourceIdsTextStreamAndStopEqualPyTorch()
    {
        using var model = Seq2SeqTextModel.Load(Dir);
        var all = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "expected.json")))!.AsArray();
        var greedy = new Seq2SeqGenerationOptions { MaxNewTokens = 32 };
        foreach (var e in all)
        {
            string prompt = (string)e!["prompt"]!, expected = (string)e["greedy_text"]!;
            var ids = model.EncodeSource(prompt);
            Assert.Equal(e["input_ids"]!.AsArray().Select(x => (int)x!), ids);
            var pieces = new List<string>();
            var result = model.Generate(ids, greedy, null, pieces.Add);
            Assert.Equal(expected, result.Text);
            Assert.Equal(expected, string.Concat(pieces));
            Assert.Equal(e["greedy_ids"]!.AsArray().Count, result.GeneratedTokens);
            Assert.Equal("stop", result.FinishReason);
            // Beam search (3 beams, no repeated bigram) through the same wrapper.
            var beam = model.Generate(ids, greedy with { NumBeams = 3, NoRepeatNgramSize = 2 });
            Assert.Equal((string)e["beam3_nrng2_text"]!, beam.Text);
        }
        // A stop string: the text ends before it, streamed pieces never include any of it.
        string text = (string)all[1]!["greedy_text"]!, source = (string)all[1]!["prompt"]!;
        Assert.Contains(" you", text);
        var streamed = new List<string>();
        var stopped = model.Generate(model.EncodeSource(source), greedy, [" you"], streamed.Add);
        Assert.Equal(text[..text.IndexOf(" you", StringComparison.Ordinal)], stopped.Text);
        Assert.Equal(stopped.Text, string.Concat(streamed));
        Assert.Equal("stop", stopped.FinishReason);
        var cut = model.Generate(model.EncodeSource(source), greedy with { MaxNewTokens = 3 }, null, null);
        Assert.Equal("length", cut.FinishReason);
        Assert.Equal(3, cut.GeneratedTokens);
    }
}
