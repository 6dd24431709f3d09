// A tokenizer.json written by Loom must behave the same in Hugging Face's implementation:
// Fixtures/hf/hf_vectors.jsonl holds ids from npm @huggingface/tokenizers (made by
// Fixtures/hf/make_hf_vectors.mjs) for two Loom-trained tokenizers, one per pre-tokenizer shape.
using System.Text.Json;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Tokenizers.Tests.Formats;

public class HuggingFaceInteropTests
{
    public static IEnumerable<object[]> Vectors()
    {
        int n = File.ReadLines(Fixtures.Path("hf", "hf_vectors.jsonl")).Count(l => l.Length > 0);
        for (int i = 0; i < n; i++) yield return [i];
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void LoomIdsEqualHuggingFaceIds(int index)
    {
        var v = JsonDocument.Parse(File.ReadLines(Fixtures.Path("hf", "hf_vectors.jsonl")).Where(l => l.Length > 0).ElementAt(index)).RootElement;
        var tok = HuggingFaceTokenizerJson.Load(Fixtures.Path("hf", v.GetProperty("tokenizer").GetString()!));
        string text = v.GetProperty("text").GetString()!;
        int[] want = v.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(want, tok.Encode(text, SpecialTokenPolicy.All));
    }

    [Theory]
    [InlineData("loom_gpt2_pattern.tokenizer.json", 500, new[] { "<|endoftext|>", "[PAD]" }, null)]
    [InlineData("loom_cl100k_pattern.tokenizer.json", 600, new[] { "<|endoftext|>" }, "cl100k_base")]
    public void TheFixturesAreWhatLoomWritesToday(string file, int vocab, string[] specials, string? patternOf)
    {
        var options = new BpeTrainerOptions { VocabularySize = vocab, MinFrequency = 2, SpecialTokens = specials };
        if (patternOf != null) options = options with { Pattern = TiktokenEncodings.Get(patternOf).PreTokenizer.Pattern };
        var result = BpeTrainer.TrainFromFiles([Fixtures.Path("bpe_training", "corpus.en")], options);
        string path = Path.Combine(Path.GetTempPath(), $"loom-hf-{Guid.NewGuid():N}.json");
        HuggingFaceTokenizerJson.Save(result.Tokenizer, path, result.Merges);
        Assert.Equal(File.ReadAllText(Fixtures.Path("hf", file)), File.ReadAllText(path));
    }
}

public class HuggingFaceLayoutTests
{
    [Fact]
    public void Gpt2AsHuggingFaceLaysItOutEncodesLikeR50k()
    {
        // HF's GPT-2 tokenizer.json: ByteLevel pre-tokenizer, merges as "a b" strings, <|endoftext|> an added special.
        var vocab = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("gpt2_bpe", "encoder.json"))).RootElement;
        var merges = File.ReadLines(Fixtures.Path("gpt2_bpe", "vocab.bpe")).Skip(1).Where(l => l.Length > 0).ToArray();
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["id"] = 50256, ["content"] = "<|endoftext|>", ["special"] = true }),
            ["pre_tokenizer"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new System.Text.Json.Nodes.JsonObject
            {
                ["type"] = "BPE",
                ["vocab"] = System.Text.Json.Nodes.JsonNode.Parse(vocab.GetRawText()),
                ["merges"] = new System.Text.Json.Nodes.JsonArray(merges.Select(m => (System.Text.Json.Nodes.JsonNode)m!).ToArray()),
            },
        };
        string path = Path.Combine(Path.GetTempPath(), $"loom-hf-gpt2-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json.ToJsonString());
        var tok = HuggingFaceTokenizerJson.Load(path);
        var r50k = TiktokenEncodings.Get("r50k_base");
        foreach (var f in new[] { "corpus.en", "german.txt", "tinystories_sample.txt" })
        {
            string text = File.ReadAllText(Fixtures.Path("bpe_training", f));
            Assert.Equal(r50k.Encode(text, SpecialTokenPolicy.All), tok.Encode(text, SpecialTokenPolicy.All));
        }
    }

    [Fact]
    public void UnsupportedPiecesAreNamed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"loom-hf-wp-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        var ex = Assert.Throws<NotSupportedException>(() => HuggingFaceTokenizerJson.Load(path));
        Assert.Contains("WordPiece", ex.Message);
    }
}
