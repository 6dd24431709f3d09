using Loom.Tokenizers.Formats;

namespace Loom.Tokenizers.Tests.Formats;

public class FormatTests
{
    private static string Temp(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-tok-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    [Fact]
    public void Gpt2FilesEncodeLikeR50k()
    {
        var gpt2 = Gpt2VocabFiles.Load(Fixtures.Path("gpt2_bpe", "encoder.json"), Fixtures.Path("gpt2_bpe", "vocab.bpe"));
        var r50k = TiktokenEncodings.Get("r50k_base");
        Assert.Equal(50257, gpt2.VocabularySize);
        foreach (var file in new[] { "address.txt", "german.txt", "corpus.en" })
        {
            string text = File.ReadAllText(Fixtures.Path("bpe_training", file));
            Assert.Equal(r50k.Encode(text), gpt2.Encode(text));
        }
        Assert.Equal([31373, 995], gpt2.Encode("hello world"));
        Assert.Equal(50256, gpt2.SpecialTokens["<|endoftext|>"]);
    }

    [Theory]
    [InlineData("r50k_base")]
    [InlineData("cl100k_base")]
    public void TokenizerJsonRoundTripsAndEncodesIdentically(string encoding)
    {
        var original = TiktokenEncodings.Get(encoding);
        string path = Temp("tokenizer.json");
        HuggingFaceTokenizerJson.Save(original, path);
        var loaded = HuggingFaceTokenizerJson.Load(path);
        Assert.Equal(original.VocabularySize, loaded.VocabularySize);
        string text = File.ReadAllText(Fixtures.Path("bpe_training", "tinystories_sample.txt"));
        Assert.Equal(original.Encode(text, SpecialTokenPolicy.All), loaded.Encode(text, SpecialTokenPolicy.All));
        string json = File.ReadAllText(path);
        Assert.Contains("\"type\": \"BPE\"", json);
        Assert.Contains("\"merges\"", json);
    }

    [Fact]
    public void MergesRecoveredFromRanksStartLikeGpt2()
    {
        var merges = HuggingFaceTokenizerJson.RecoverMerges(TiktokenEncodings.Get("r50k_base").Tokens);
        var gpt2 = File.ReadLines(Fixtures.Path("gpt2_bpe", "vocab.bpe")).Skip(1).Take(1000).ToArray();
        Assert.Equal(50000, merges.Count);
        for (int i = 0; i < gpt2.Length; i++)
            Assert.Equal(gpt2[i], ByteLevelAlphabet.Encode(merges[i].Left) + " " + ByteLevelAlphabet.Encode(merges[i].Right));
    }

    [Fact]
    public void MalformedFilesNameTheFileAndLine()
    {
        string path = Temp("bad.tiktoken");
        File.WriteAllText(path, "IQ== 0\nnot-base64!! 1\n");
        var ex = Assert.Throws<FormatException>(() => { using var s = File.OpenRead(path); TiktokenFile.Read(s, path); });
        Assert.Contains(path + ":2", ex.Message);

        File.WriteAllText(path, "IQ== 0\nIg== x\n");
        ex = Assert.Throws<FormatException>(() => { using var s = File.OpenRead(path); TiktokenFile.Read(s, path); });
        Assert.Contains(":2", ex.Message);
        Assert.Contains("rank", ex.Message);

        string json = Temp("tokenizer.json");
        File.WriteAllText(json, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0");
        var jex = Assert.Throws<FormatException>(() => HuggingFaceTokenizerJson.Load(json));
        Assert.Contains(json, jex.Message);
        Assert.Contains("line", jex.Message);

        string merges = Temp("vocab.bpe");
        File.WriteAllText(merges, "#version: 0.2\na b c\n");
        var mex = Assert.Throws<FormatException>(() => Gpt2VocabFiles.ReadMerges(merges));
        Assert.Contains(":2", mex.Message);
    }

    [Fact]
    public void LoaderFindsDirectoriesAndNames()
    {
        Assert.Same(TiktokenEncodings.Get("r50k_base"), TokenizerLoader.Load("gpt2"));
        var dir = TokenizerLoader.Load(Fixtures.Path("gpt2_bpe"));
        Assert.Equal([31373, 995], dir.Encode("hello world"));
        Assert.Throws<FileNotFoundException>(() => TokenizerLoader.Load("/no/such/tokenizer"));
    }

    [Theory]
    [InlineData("model.vocab", "\"x\"", "model.vocab is \"x\"; it must be an object")]
    [InlineData("model.merges", "5", "model.merges is 5; it must be a list")]
    [InlineData("model.type", "3", "model.type is 3; it must be a string")]
    [InlineData("vocab entry", "\"zz\"", "is \"zz\"; it must be a whole number")]
    [InlineData("added id", "\"a\"", "added_tokens[0].id is \"a\"; it must be a whole number")]
    [InlineData("pre_tokenizer", "[1]", "pre_tokenizer is a list")]
    public void FieldsOfTheWrongJsonTypeAreNamed(string field, string value, string message)
    {
        // Regression: these were "An element of type 'String' cannot be converted to a 'System.Int32'" (or silently accepted, for merges).
        string path = Temp("tokenizer.json");
        HuggingFaceTokenizerJson.Save(TiktokenEncodings.Get("gpt2"), path);
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var model = root["model"]!.AsObject();
        var v = System.Text.Json.Nodes.JsonNode.Parse(value);
        switch (field)
        {
            case "model.vocab": model["vocab"] = v; break;
            case "model.merges": model["merges"] = v; break;
            case "model.type": model["type"] = v; break;
            case "vocab entry": model["vocab"]!.AsObject()["!"] = v; break;
            case "added id": root["added_tokens"]![0]!["id"] = v; break;
            case "pre_tokenizer": root["pre_tokenizer"] = v; break;
        }
        File.WriteAllText(path, root.ToJsonString());
        var e = Assert.ThrowsAny<Exception>(() => HuggingFaceTokenizerJson.Load(path));
        Assert.True(e is FormatException, e.GetType().Name + ": " + e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("System.", e.Message);
    }
}
