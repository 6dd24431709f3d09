// What the engine streams: stop strings matched on decoded text across token boundaries (output cut
// before the stop), stop token ids, end-of-sequence ids read from the model directory (never
// hard-coded), log-probabilities equal to the log softmax of the full forward's logits, and a
// character split across byte-level tokens emitted whole.
using System.Text.Json.Nodes;
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Tokenizers.Formats;

namespace Loom.Inference.Tests.Engine;

public class EngineOutputTests
{
    private static InferenceEngine Engine(string family = "gpt2", bool sharpen = true) =>
        new(TinyModels.Create(family, sharpen: sharpen), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4 }, ownsModel: true);

    [Fact]
    public async Task AStopStringSpanningTwoTokensCutsTheOutputBeforeIt()
    {
        using var engine = Engine();
        var free = (await engine.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 24 }))).Choices[0];
        var tok = TinyModels.Tokenizer;
        // A stop made of the last character of one token's text and the first of the next: it exists
        // only across a token boundary.
        var pieces = free.TokenIds.Select(id => tok.Decode([id])).ToList();
        int k = Enumerable.Range(4, pieces.Count - 5).First(i => pieces[i].Length > 0 && pieces[i + 1].Length > 0);
        string stop = pieces[k][^1..] + pieces[k + 1][..1];
        string whole = string.Concat(pieces);
        int cut = whole.IndexOf(stop, StringComparison.Ordinal);

        var chunks = new List<GenerationChunk>();
        await foreach (var c in engine.GenerateStreamingAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 24, StopSequences = ["\u0001never", stop] })))
            chunks.Add(c);
        Assert.Equal(whole[..cut], string.Concat(chunks.Select(c => c.Text)));
        Assert.Equal(FinishReason.Stop, chunks[^1].FinishReason);
        Assert.DoesNotContain(stop, string.Concat(chunks.Select(c => c.Text)));
        // Nothing of the stop was streamed before it was known not to be one: every prefix streamed is a prefix of the cut text.
        string streamed = "";
        foreach (var c in chunks) { streamed += c.Text; Assert.StartsWith(streamed, whole[..cut]); }
    }

    [Fact]
    public async Task AStopTokenIdEndsTheOutputWithoutItsText()
    {
        using var engine = Engine("llama");
        var free = (await engine.GenerateAsync(new GenerationRequest("the dog", new SamplingOptions { MaxNewTokens = 16 }))).Choices[0];
        int stopId = free.TokenIds[5];
        int first = free.TokenIds.ToList().IndexOf(stopId);
        var stopped = (await engine.GenerateAsync(new GenerationRequest("the dog", new SamplingOptions { MaxNewTokens = 16, StopTokenIds = [stopId] }))).Choices[0];
        Assert.Equal(free.TokenIds.Take(first + 1), stopped.TokenIds);
        Assert.Equal(TinyModels.Tokenizer.Decode(free.TokenIds.Take(first).ToArray()), stopped.Text);
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
    }

    [Fact]
    public async Task EndOfSequenceIdsComeFromTheModelDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"loom-engine-{Guid.NewGuid():N}");
        try
        {
            using (var m = TinyModels.Create("gpt2")) m.Save(dir);
            HuggingFaceTokenizerJson.Save(TinyModels.Tokenizer, Path.Combine(dir, "tokenizer.json"), TinyModels.Bpe.Merges);
            // No EOS named anywhere: the model runs to max_tokens even through <|endoftext|>.
            using (var e = InferenceEngine.Load(dir)) Assert.Empty(e.EndOfSequenceIds);

            // The greedy continuation's third token, named as EOS in generation_config.json (a list), ends it.
            using var probe = InferenceEngine.Load(dir);
            var free = (await probe.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 10 }))).Choices[0];
            int eos = free.TokenIds[2];
            File.WriteAllText(Path.Combine(dir, "generation_config.json"), new JsonObject { ["eos_token_id"] = new JsonArray(99999 % 7, eos) }.ToJsonString());
            using (var e = InferenceEngine.Load(dir))
            {
                Assert.Contains(eos, e.EndOfSequenceIds);
                var ended = (await e.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 10 }))).Choices[0];
                int at = free.TokenIds.ToList().IndexOf(eos);
                Assert.Equal(FinishReason.Stop, ended.FinishReason);
                Assert.Equal(free.TokenIds.Take(at + 1), ended.TokenIds);
            }
            // config.json's int form when generation_config.json has none.
            File.Delete(Path.Combine(dir, "generation_config.json"));
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
            config["eos_token_id"] = eos;
            File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
            using (var e = InferenceEngine.Load(dir)) Assert.Equal([eos], e.EndOfSequenceIds);
            // A wrong type names the file and the field.
            File.WriteAllText(Path.Combine(dir, "generation_config.json"), "{\"eos_token_id\": \"two\"}");
            var ex = Assert.Throws<InvalidDataException>(() => InferenceEngine.Load(dir));
            Assert.Contains("generation_config.json", ex.Message);
            Assert.Contains("eos_token_id", ex.Message);
            // BOS only when tokenizer_config.json asks.
            File.Delete(Path.Combine(dir, "generation_config.json"));
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"add_bos_token\": true, \"bos_token\": \"<|endoftext|>\"}");
            using (var e = InferenceEngine.Load(dir))
            {
                int bos = TinyModels.Tokenizer.SpecialTokens["<|endoftext|>"];
                Assert.Equal([bos, .. TinyModels.Tokenizer.Encode("the cat")], e.EncodePrompt(new GenerationRequest("the cat")));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task LogprobsAreTheLogSoftmaxOfTheFullForward()
    {
        using var reference = TinyModels.Create("llama");
        using var engine = Engine("llama");
        var options = new SamplingOptions { MaxNewTokens = 6, Temperature = 1f, Seed = 3, Logprobs = true, TopLogprobs = 3 };
        var choice = (await engine.GenerateAsync(new GenerationRequest("the cat", options))).Choices[0];
        var ids = new List<int>(TinyModels.Tokenizer.Encode("the cat"));
        for (int i = 0; i < choice.TokenIds.Count; i++)
        {
            var logits = TinyModels.FullLogits(reference, ids);
            double max = logits.Max(), log = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            var want = logits.Select(l => l - log).ToArray();
            Assert.Equal(want[choice.TokenIds[i]], choice.Logprobs![i], 3);
            var top = choice.TopLogprobs![i];
            var wantTop = Enumerable.Range(0, want.Length).OrderByDescending(j => want[j]).Take(3).ToArray();
            Assert.Equal(wantTop, top.Select(t => t.TokenId));
            for (int j = 0; j < 3; j++) Assert.Equal(want[wantTop[j]], top[j].Logprob, 3);
            ids.Add(choice.TokenIds[i]);
        }
    }

    [Fact]
    public async Task ACharacterSplitAcrossTokensIsEmittedWhole()
    {
        var tok = TinyModels.Tokenizer;
        // "é" is two bytes, C3 A9, each its own byte-level token in a tokenizer trained on ASCII text.
        int lead = Assert.Single(tok.EncodeBytes([0xC3])), trail = Assert.Single(tok.EncodeBytes([0xA9]));
        // Biases dominate the nearly flat logits of an unsharpened random model; the frequency penalty alternates them: C3 A9 C3 A9.
        var options = new SamplingOptions { MaxNewTokens = 4, FrequencyPenalty = 2f, LogitBias = new Dictionary<int, float> { [lead] = 100f, [trail] = 99f } };
        using var engine = Engine(sharpen: false);
        var chunks = new List<GenerationChunk>();
        await foreach (var c in engine.GenerateStreamingAsync(new GenerationRequest("the", options))) chunks.Add(c);
        Assert.Equal([lead, trail, lead, trail], chunks.Where(c => c.TokenId != null).Select(c => c.TokenId!.Value));
        Assert.Equal(["", "é", "", "é"], chunks.Select(c => c.Text));
    }
}
