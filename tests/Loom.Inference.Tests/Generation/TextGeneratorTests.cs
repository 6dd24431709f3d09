using Loom.Inference.Generation;
using Loom.Models.Formats;
using Loom.Models.Gpt2;
using Loom.Tokenizers.Trainer;

namespace Loom.Inference.Tests.Generation;

public class TextGeneratorTests
{
    [Fact]
    public void Gpt2GreedyGenerationThroughTheKvCacheIsTheArgMaxOfTheFullForwardEachStep()
    {
        // TextGenerator decodes GPT-2 with its KV cache; the reference recomputes the whole sequence each step.
        var bpe = BpeTrainer.Train(["the cat sat on the mat.\nthe dog sat on the log.\n"], new BpeTrainerOptions { VocabularySize = 280, MinFrequency = 1 });
        var tok = bpe.Tokenizer;
        var config = new Gpt2Config { VocabSize = tok.VocabularySize, MaxPositions = 32, Embedding = 16, Layers = 2, Heads = 2 };
        using var model = new Gpt2Model(config);
        model.InitializeWeights(11);
        string text = string.Concat(new TextGenerator(model, tok).Generate("the cat", new SamplingOptions { MaxNewTokens = 16, Temperature = 0f }));

        var ids = new List<int>(tok.Encode("the cat"));
        var produced = new List<int>();
        for (int i = 0; i < 16; i++)
        {
            model.Forward(ids.ToArray(), default, 1, ids.Count);
            var last = model.Logits.Slice((ids.Count - 1) * config.VocabSize, config.VocabSize);
            int best = 0;
            for (int v = 1; v < last.Length; v++) if (last[v] > last[best]) best = v;
            if (tok.SpecialTokens.TryGetValue("<|endoftext|>", out int eot) && best == eot) break;
            ids.Add(best);
            produced.Add(best);
        }
        Assert.NotEmpty(produced);
        Assert.Equal(tok.Decode(produced.ToArray()), text);
    }

    [Fact]
    public void LogitsAtAPositionDoNotDependOnLaterTokens()
    {
        // What the generator relies on when it feeds a growing prefix: causal masking, checked at the model level.
        using var file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2_tiny.safetensors"));
        var config = Gpt2Config.Parse(file.Metadata["config"]);
        using var model = new Gpt2Model(config);
        model.LoadWeights(file, "w.");
        // Window of 16 with 5 real tokens: the logits at position 4 must not depend on the padding.
        int[] a = [5, 17, 3, 90, 44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        int[] b = [5, 17, 3, 90, 44, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9];
        model.Forward(a, default, 1, 16);
        var la = model.Logits.Slice(4 * config.VocabSize, config.VocabSize).ToArray();
        model.Forward(b, default, 1, 16);
        var lb = model.Logits.Slice(4 * config.VocabSize, config.VocabSize).ToArray();
        Assert.Equal(la, lb);
        model.Forward(a[..5], default, 1, 5);
        Assert.Equal(la, model.Logits.Slice(4 * config.VocabSize, config.VocabSize).ToArray());
    }

    [Fact]
    public void GeneratesDeterministicallyAndHonoursStopSequences()
    {
        var bpe = BpeTrainer.Train(["the cat sat on the mat.\nthe dog sat on the log.\n"], new BpeTrainerOptions { VocabularySize = 280, MinFrequency = 1 });
        var config = new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 32, Embedding = 16, Layers = 1, Heads = 2 };
        using var model = new Gpt2Model(config);
        model.InitializeWeights(5);
        var gen = new TextGenerator(model, bpe.Tokenizer);
        var opts = new SamplingOptions { MaxNewTokens = 20, Temperature = 1f, Seed = 3 };
        string one = string.Concat(gen.Generate("the cat", opts));
        string two = string.Concat(gen.Generate("the cat", opts));
        Assert.Equal(one, two);
        Assert.True(one.Length > 0);
        // Stop at a two-char sequence from the middle of the free run: the output is exactly the text before
        // it, even when the sequence spans two streamed pieces.
        Assert.True(one.Length >= 6, one);
        string stop = one.Substring(3, 2);
        int first = one.IndexOf(stop, StringComparison.Ordinal);
        string stopped = string.Concat(gen.Generate("the cat", opts with { StopSequences = [stop] }));
        Assert.Equal(one[..first], stopped);
    }

    [Fact]
    public void GeneratesPastTheContextWindow()
    {
        var bpe = BpeTrainer.Train(["the cat sat on the mat.\n"], new BpeTrainerOptions { VocabularySize = 270, MinFrequency = 1 });
        using var model = new Gpt2Model(new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 8, Embedding = 16, Layers = 1, Heads = 2 });
        model.InitializeWeights(9);
        int pieces = new TextGenerator(model, bpe.Tokenizer).Generate("the cat", new SamplingOptions { MaxNewTokens = 40, Temperature = 1f, Seed = 1 }).Count();
        Assert.True(pieces > 8, $"only {pieces} pieces for 40 tokens with an 8-position window");
    }

    [Fact]
    public void MismatchedTokenizerIsRejected()
    {
        var bpe = BpeTrainer.Train(["abc abc abc"], new BpeTrainerOptions { VocabularySize = 260, MinFrequency = 1 });
        using var model = new Gpt2Model(new Gpt2Config { VocabSize = 100, MaxPositions = 8, Embedding = 8, Layers = 1, Heads = 2 });
        var ex = Assert.Throws<ArgumentException>(() => new TextGenerator(model, bpe.Tokenizer));
        Assert.Contains("vocab_size", ex.Message);
    }
}

public class RecomputingGeneratorTests
{
    [Fact]
    public void LlamaGreedyGenerationIsTheArgMaxOfTheFullForwardEachStep()
    {
        var bpe = BpeTrainer.Train(["the cat sat on the mat.\nthe dog sat on the log.\n"], new BpeTrainerOptions { VocabularySize = 280, MinFrequency = 1 });
        var tok = bpe.Tokenizer;
        var config = new Loom.Models.Llama.LlamaConfig { VocabSize = tok.VocabularySize, HiddenSize = 32, IntermediateSize = 64, Layers = 2, Heads = 4, KeyValueHeads = 2, MaxPositions = 64 };
        using var model = new Loom.Models.Llama.LlamaModel(config);
        model.InitializeWeights(6);
        string text = string.Concat(new TextGenerator(model, tok).Generate("the cat", new SamplingOptions { MaxNewTokens = 10, Temperature = 0f }));

        // The same by hand: full forward over all tokens so far, argmax of the last row.
        var ids = new List<int>(tok.Encode("the cat"));
        var produced = new List<int>();
        for (int i = 0; i < 10; i++)
        {
            model.Forward(ids.ToArray(), default, 1, ids.Count);
            var last = model.Logits.Slice((ids.Count - 1) * config.VocabSize, config.VocabSize);
            int best = 0;
            for (int v = 1; v < last.Length; v++) if (last[v] > last[best]) best = v;
            if (tok.SpecialTokens.TryGetValue("<|endoftext|>", out int eot) && best == eot) break; // where the generator stops
            ids.Add(best);
            produced.Add(best);
        }
        Assert.Equal(tok.Decode(produced.ToArray()), text);
    }
}
