// `loom augment --method backtranslate --model T5DIR` on Fixtures/t5_tiny (random weights, so the
// "translations" are noise, but exact noise): the way there must be PyTorch's greedy generate text for
// the prompt (expected.json, tests/Loom.Models.Tests/Fixtures/make_t5_fixture.py), the way back what
// Seq2SeqGenerator (itself checked against PyTorch in Loom.Inference.Tests) returns for that text;
// labels and other fields are kept, duplicates dropped, provenance written.
using System.Text.Json.Nodes;
using Loom.Inference.Seq2Seq;
using Loom.Models;
using Loom.Tokenizers.SentencePiece;

namespace Loom.Cli.Tests.Commands;

public class AugmentBackTranslateT5Tests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "t5_tiny");

    // The generator called directly: T5Tokenizer's ids then </s>, greedy, pad and </s> dropped.
    private static string Greedy(string text, int maxNewTokens)
    {
        var tokenizer = SentencePieceTokenizer.Load(Dir);
        using var model = Seq2SeqModels.Load(Dir, ModelOptions.Inference);
        var ids = tokenizer.Encode(text).Append(model.EosTokenId).ToArray();
        var result = new Seq2SeqGenerator(model).Generate(ids, new Seq2SeqGenerationOptions { MaxNewTokens = maxNewTokens });
        return tokenizer.Decode(result.Tokens.Where(t => t != model.PadTokenId && t != model.EosTokenId).ToArray());
    }

    [Fact]
    public void RecordsAreTheGeneratorsRoundTripWithLabelsAndProvenance()
    {
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "expected.json")))!.AsArray();
        string dir = CliRunner.TempDir(), input = Path.Combine(dir, "in.jsonl"), output = Path.Combine(dir, "out.jsonl");
        string p0 = (string)expected[0]!["prompt"]!, p1 = (string)expected[1]!["prompt"]!;
        // The third record repeats the first text: its round trip duplicates the first's and is dropped.
        File.WriteAllLines(input, [
            new JsonObject { ["text"] = p0, ["label"] = "a", ["id"] = 1 }.ToJsonString(),
            new JsonObject { ["text"] = p1, ["label"] = "b", ["id"] = 2 }.ToJsonString(),
            new JsonObject { ["text"] = p0, ["label"] = "c", ["id"] = 3 }.ToJsonString(),
        ]);
        var (code, _, console) = CliRunner.Run("augment", "--method", "backtranslate", "--model", Dir, "--source-prefix", "", "--reverse-prefix", "",
            "--max-new-tokens", "16", "--input", input, "--output", output);
        Assert.True(code == 0, console);
        var records = File.ReadAllLines(output).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        string there0 = (string)expected[0]!["greedy_text"]!, there1 = (string)expected[1]!["greedy_text"]!;
        string back0 = Greedy(there0, 16), back1 = Greedy(there1, 16);
        Assert.NotEqual(back0.ToLowerInvariant(), back1.ToLowerInvariant());
        Assert.Equal(2, records.Count);
        Assert.Contains("1 duplicates", console.Replace("\n", " "));
        Assert.Equal(back0.Trim(), (string)records[0]["text"]!);
        Assert.Equal(back1.Trim(), (string)records[1]["text"]!);
        Assert.Equal(["a", "b"], records.Take(2).Select(r => (string)r["label"]!));
        Assert.Equal([1, 2], records.Take(2).Select(r => (int)r["id"]!));
        var provenance = records[0]["augmentation"]!;
        Assert.Equal("backtranslate", (string)provenance["method"]!);
        Assert.Equal(1, (int)provenance["source_line"]!);
        Assert.Equal($"via t5_tiny: {there0}", (string)provenance["changes"]![0]!);
        Assert.Contains("written", console);
    }

    [Fact]
    public void ModelAndEndpointTogetherIsOneErrorLine()
    {
        string dir = CliRunner.TempDir(), input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"hello\"}\n");
        var (code, _, console) = CliRunner.Run("augment", "--method", "backtranslate", "--model", Dir, "--endpoint", "http://127.0.0.1:9/v1",
            "--input", input, "--output", Path.Combine(dir, "o.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains("either --model DIR", console);
    }
}
