// Text-to-text training of a tiny T5 through the one training loop: the loss falls on the shipped
// tiny set (Fixtures/seq2seq/tiny_pairs.jsonl, tokenized with the shipped T5-style SentencePiece
// model); a run interrupted and resumed from its checkpoint ends bit-identical to an uninterrupted one;
// label and source padding are provably ignored — the loss and every gradient of a padded batch equal
// those of the same examples unpadded (labels −100 past each target, sources masked past their length),
// and whatever ids sit at padded positions change nothing.
using Loom.Models.T5;
using Loom.Tokenizers.SentencePiece;
using Loom.Training.Checkpoints;
using Loom.Training.Loop;
using Loom.Training.Seq2Seq;

namespace Loom.Training.Tests.Seq2Seq;

public sealed class Seq2SeqTrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("loom-s2s-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "seq2seq", name);

    private static readonly Lazy<SentencePieceTextToTextTokenizer> s_tokenizer = new(() => new(SentencePieceTokenizer.Load(Fixture("t5style.model.gz"))));

    private static T5Config TinyConfig(int vocabulary) => new()
    {
        VocabSize = vocabulary, DModel = 32, DKv = 8, DFf = 64, NumLayers = 2, NumHeads = 4,
        RelativeAttentionNumBuckets = 8, RelativeAttentionMaxDistance = 16, FeedForwardProj = "gated-gelu", TieWordEmbeddings = true, DropoutRate = 0,
    };

    private static Seq2SeqDataset Data()
    {
        var pairs = Seq2SeqDataReader.Read(Fixture("tiny_pairs.jsonl"), new Seq2SeqDataOptions());
        return Seq2SeqDataset.Encode(pairs, s_tokenizer.Value, new Seq2SeqDataOptions { MaxSourceLength = 32, MaxTargetLength = 16 });
    }

    private static TrainOptions Options(int steps) => new()
    {
        BatchSize = 8, SequenceLength = 16, MaxSteps = steps, LearningRate = 3e-3f, MinLearningRate = 3e-4f, WarmupSteps = 2,
        WeightDecay = 0.01f, EvalEvery = 5, EvalBatches = 2, CheckpointEvery = 5, Seed = 7,
    };

    private static (Seq2SeqBatches Train, Seq2SeqBatches Valid) Batches(Seq2SeqDataset data, int pad) => (
        new Seq2SeqBatches(data.Examples, 8, 0, pad, 0, shuffle: true, seed: 7),
        new Seq2SeqBatches(data.Examples.Take(16).ToList(), 8, 0, pad, 0, shuffle: false, seed: 0));

    [Fact]
    public void TinyT5LossFallsOnTheShippedPairs()
    {
        var tok = s_tokenizer.Value;
        Assert.Equal(2000 + 100, tok.Size);   // T5Tokenizer's 100 appended sentinels
        var data = Data();
        Assert.Equal(48, data.Examples.Count);
        using var t5 = new T5Model(TinyConfig(tok.Size));
        t5.InitializeWeights(3);
        using var model = new Seq2SeqTrainingModel(t5);
        var (train, valid) = Batches(data, tok.PadId);
        float before = LanguageModelTraining.Evaluate(model, new Seq2SeqBatches(data.Examples.Take(16).ToList(), 8, 0, tok.PadId, 0, false, 0), 2);
        var result = LanguageModelTraining.Train(model, train, valid, Options(40), Path.Combine(_dir, "run"));
        // From about ln(2100) = 7.65 (near uniform: the tied head is rescaled by d_model^-½) to well below; the set is a copy/reverse task.
        Assert.InRange(before, 6.5, 9.0);
        Assert.True(result.ValidationLoss < before - 2.0, $"validation loss {before:F3} → {result.ValidationLoss:F3}");
        Assert.True(File.Exists(Path.Combine(_dir, "run", "metrics.jsonl")));
        Assert.True(File.Exists(Path.Combine(_dir, "run", "report.html")));
    }

    [Fact]
    public void AResumedRunEndsBitIdenticalToAnUninterruptedOne()
    {
        var tok = s_tokenizer.Value;
        var data = Data();
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        float[] straightWeights;
        using (var t5 = new T5Model(TinyConfig(tok.Size)))
        {
            t5.InitializeWeights(3);
            using var model = new Seq2SeqTrainingModel(t5);
            var (train, valid) = Batches(data, tok.PadId);
            LanguageModelTraining.Train(model, train, valid, Options(12), a);
            straightWeights = t5.Parameters.AllValues.ToArray();
        }
        using (var t5 = new T5Model(TinyConfig(tok.Size)))
        {
            t5.InitializeWeights(3);
            using var model = new Seq2SeqTrainingModel(t5);
            var (train, valid) = Batches(data, tok.PadId);
            Assert.Throws<TimeoutException>(() => LanguageModelTraining.Train(model, train, valid, Options(12), b, new CrashAt(8)));
        }
        string latest = TrainingCheckpoint.Latest(Path.Combine(b, "checkpoints"))!;
        Assert.EndsWith("step_000005", latest);
        using (var t5 = new T5Model(TinyConfig(tok.Size)))
        {
            t5.InitializeWeights(99);   // other weights: everything must come from the checkpoint
            using var model = new Seq2SeqTrainingModel(t5);
            var (train, valid) = Batches(data, tok.PadId);
            LanguageModelTraining.Train(model, train, valid, Options(12), b, resumeFrom: latest);
            Assert.Equal(straightWeights, t5.Parameters.AllValues.ToArray());
        }
        Assert.Equal(File.ReadAllLines(Path.Combine(a, "metrics.jsonl")).Select(StripTimes), File.ReadAllLines(Path.Combine(b, "metrics.jsonl")).Select(StripTimes));
    }

    // Wall-clock and CPU-time fields differ between runs; everything else in a metrics line must not.
    private static string StripTimes(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"(tokens_per_s|train_cpu_s)\":[^,}]*", "");

    [Fact]
    public void PaddingIsIgnoredByLossAndEveryGradient()
    {
        var tok = s_tokenizer.Value;
        using var t5 = new T5Model(TinyConfig(tok.Size));
        t5.InitializeWeights(5);
        using var model = new Seq2SeqTrainingModel(t5);
        var examples = Data().Examples.Take(3).ToList();
        Assert.True(examples.Select(e => e.Source.Length).Distinct().Count() > 1 || examples.Select(e => e.Labels.Length).Distinct().Count() > 1);

        // Reference: each example alone, unpadded; the batch mean is the token-weighted mean of the three.
        long total = examples.Sum(e => (long)e.Labels.Length);
        double[] expected = [];
        double expectedLoss = 0;
        foreach (var e in examples)
        {
            var one = new Seq2SeqBatches([e], 1, 0, tok.PadId, 0, shuffle: false, seed: 0).Next();
            t5.Parameters.ZeroGradients();
            float loss = one.ForwardOn(model);
            model.Backward();
            double w = (double)e.Labels.Length / total;
            expectedLoss += loss * w;
            var g = t5.Parameters.AllGradients;
            if (expected.Length == 0) expected = new double[g.Length];
            for (int i = 0; i < expected.Length; i++) expected[i] += g[i] * w;
        }

        var batch = new Seq2SeqBatches(examples, 3, 0, tok.PadId, 0, shuffle: false, seed: 0).Next();
        Assert.True(batch.Sources!.Value.Lengths.Any(l => l < batch.Sources.Value.Time) && batch.Targets.Contains(TeacherForcing.IgnoreIndex));
        float[] Gradients(PaddedBatch b, out float loss)
        {
            t5.Parameters.ZeroGradients();
            loss = b.ForwardOn(model);
            model.Backward();
            return t5.Parameters.AllGradients.ToArray();
        }
        float[] padded = Gradients(batch, out float paddedLoss);
        Assert.Equal(expectedLoss, paddedLoss, 5);
        Assert.True(expected.Length > 1000);
        double scale = expected.Max(x => Math.Abs(x));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(padded[i] - expected[i]) <= 1e-4 * scale, $"gradient {i}: padded batch {padded[i]}, examples alone {expected[i]}");

        // Whatever sits at padded source positions changes nothing (they are masked out), bit for bit.
        var src = batch.Sources.Value;
        var noisy = (int[])src.Ids.Clone();
        for (int r = 0; r < batch.Batch; r++) for (int t = src.Lengths[r]; t < src.Time; t++) noisy[r * src.Time + t] = 100 + r + t;
        float[] again = Gradients(batch with { Sources = src with { Ids = noisy } }, out float againLoss);
        Assert.Equal(paddedLoss, againLoss);
        Assert.Equal(padded, again);
    }

    private sealed class CrashAt(int step) : IProgress<StepMetrics>
    {
        public void Report(StepMetrics value)
        {
            if (value.Step == step) throw new TimeoutException("simulated crash");
        }
    }
}
