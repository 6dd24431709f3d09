// Encoder-decoder generation against PyTorch (Fixtures/make_t5_fixture.py: greedy, beam search and
// the sampling warpers written after transformers' generate, BeamSearchScorer and BeamHypotheses
// v4.30, NoRepeatNGramLogitsProcessor, Temperature → TopK → TopP warpers) on both tiny T5 fixtures
// and two sources: every greedy sequence, every beam-search sequence and score under five settings
// (num_beams 2–5, length_penalty −0.5…2, early_stopping False/True/"never", no_repeat_ngram_size
// 0/2/3), and the distribution sampling draws from at each step of a fixed prefix.
using System.Text.Json;
using Loom.Inference.Generation;
using Loom.Inference.Seq2Seq;
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.T5;

namespace Loom.Inference.Tests.Seq2Seq;

public class Seq2SeqGeneratorTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static T5Model LoadModel(string variant)
    {
        using var file = SafetensorsFile.Open(Fixture($"t5_tiny_{variant}.safetensors"));
        var model = new T5Model(T5Config.Parse(file.Metadata["config"]), ModelOptions.Inference);
        model.LoadWeights(file, "w.");
        return model;
    }

    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void GreedyEqualsPyTorch(string variant)
    {
        using var model = LoadModel(variant);
        using var refs = SafetensorsFile.Open(Fixture("t5_generate.safetensors"));
        int maxNew = int.Parse(refs.Metadata["max_new_tokens"]);
        var gen = new Seq2SeqGenerator(model);
        for (int s = 0; s < 2; s++)
        {
            int[] source = refs.ReadInt32($"source.{s}");
            foreach (var (key, ngram) in new[] { ("greedy", 0), ("greedy_nrng2", 2) })
            {
                int[] want = refs.ReadInt32($"{variant}.{key}.{s}");
                var streamed = new List<int>();
                var got = gen.Generate(source, new Seq2SeqGenerationOptions { MaxNewTokens = maxNew, NoRepeatNgramSize = ngram }, streamed.Add);
                Assert.Equal(Strip(want, model.EosTokenId), got.Tokens);
                Assert.Equal(want[^1] == model.EosTokenId, got.EndedWithEos);
                Assert.Equal(got.Tokens, streamed);
            }
        }
    }

    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void BeamSearchEqualsPyTorch(string variant)
    {
        using var model = LoadModel(variant);
        using var refs = SafetensorsFile.Open(Fixture("t5_generate.safetensors"));
        int maxNew = int.Parse(refs.Metadata["max_new_tokens"]);
        var settings = JsonDocument.Parse(refs.Metadata["beam_settings"]).RootElement.EnumerateArray().ToArray();
        var gen = new Seq2SeqGenerator(model);
        int ended = 0;
        for (int s = 0; s < 2; s++)
            for (int b = 0; b < settings.Length; b++)
            {
                var row = settings[b];
                var early = row[2].ValueKind switch
                {
                    JsonValueKind.True => BeamEarlyStopping.True,
                    JsonValueKind.False => BeamEarlyStopping.Heuristic,
                    _ => BeamEarlyStopping.Never,
                };
                var options = new Seq2SeqGenerationOptions
                {
                    MaxNewTokens = maxNew, NumBeams = row[0].GetInt32(), LengthPenalty = row[1].GetSingle(), EarlyStopping = early, NoRepeatNgramSize = row[3].GetInt32(),
                };
                int[] want = refs.ReadInt32($"{variant}.beam{b}.{s}");
                var got = gen.Generate(refs.ReadInt32($"source.{s}"), options);
                string what = $"{variant} source {s} setting {b} ({row})";
                Assert.True(Strip(want, model.EosTokenId).SequenceEqual(got.Tokens), $"{what}: PyTorch [{string.Join(", ", want)}], Loom [{string.Join(", ", got.Tokens)}]");
                Assert.Equal(want[^1] == model.EosTokenId, got.EndedWithEos);
                Assert.Equal(refs.ReadSingle($"{variant}.beam{b}.{s}.score")[0], got.Score, 1e-4);
                if (got.EndedWithEos) ended++;
            }
        if (variant == "v11") Assert.True(ended >= 3, "the fixture should exercise hypotheses finished by </s>");
    }

    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void SamplingDrawsFromPyTorchsWarpedDistribution(string variant)
    {
        using var model = LoadModel(variant);
        using var refs = SafetensorsFile.Open(Fixture("t5_generate.safetensors"));
        var sampling = JsonDocument.Parse(refs.Metadata["sampling"]).RootElement;
        var options = new SamplingOptions { Temperature = sampling.GetProperty("temperature").GetSingle(), TopK = sampling.GetProperty("top_k").GetInt32(), TopP = sampling.GetProperty("top_p").GetSingle() };
        var sampler = new Sampler(options);
        int V = model.VocabularySize;
        for (int s = 0; s < 2; s++)
        {
            int[] prefix = refs.ReadInt32($"{variant}.sample_prefix.{s}");
            float[] want = refs.ReadSingle($"{variant}.sample_probs.{s}");
            using var cache = model.Encode(refs.ReadInt32($"source.{s}"), 1, prefix.Length);
            var probs = new float[V];
            for (int t = 0; t < prefix.Length; t++)
            {
                var logits = model.DecodeNext(cache, [prefix[t]]);
                sampler.Probabilities(logits, [], [], probs);
                for (int i = 0; i < V; i++)
                    Assert.True(Math.Abs(want[t * V + i] - probs[i]) <= 1e-5, $"{variant} source {s} step {t} token {i}: PyTorch {want[t * V + i]:R}, Loom {probs[i]:R}");
            }
        }
    }

    [Fact]
    public void SeededSamplingRepeatsAndStaysInsideTheNucleus()
    {
        using var model = LoadModel("v11");
        var gen = new Seq2SeqGenerator(model);
        var options = new Seq2SeqGenerationOptions { MaxNewTokens = 10, Sampling = new SamplingOptions { Temperature = 0.7f, TopK = 10, TopP = 0.9f, Seed = 7 } };
        int[] source = [5, 17, 23, 9, 40, 1];
        var a = gen.Generate(source, options);
        Assert.Equal(a.Tokens, gen.Generate(source, options).Tokens);
        var other = gen.Generate(source, options with { Sampling = options.Sampling with { Seed = 8 } });
        var greedy = gen.Generate(source, options with { Sampling = new SamplingOptions { Temperature = 0 } });
        Assert.False(a.Tokens.SequenceEqual(other.Tokens) && a.Tokens.SequenceEqual(greedy.Tokens), "three different seeds/modes all produced the same sequence");
    }

    [Fact]
    public void OptionsAreChecked()
    {
        using var model = LoadModel("v10");
        var gen = new Seq2SeqGenerator(model);
        var ex = Assert.Throws<ArgumentException>(() => gen.Generate([5, 1], new Seq2SeqGenerationOptions { NumBeams = 0 }));
        Assert.Contains("num_beams", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => gen.Generate([5, 1], new Seq2SeqGenerationOptions { NumBeams = 2, Sampling = new SamplingOptions { Temperature = 1 } }));
        Assert.Contains("temperature", ex.Message);
    }

    private static int[] Strip(int[] ids, int eos) => ids.Length > 0 && ids[^1] == eos ? ids[..^1] : ids;
}
