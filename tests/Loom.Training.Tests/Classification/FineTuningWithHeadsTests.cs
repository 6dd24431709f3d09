using Loom.Models;
using Loom.Models.Bert;
using Loom.Models.Classification;
using Loom.Models.Regularization;
using Loom.Training.Checkpoints;
using Loom.Training.Classification;

namespace Loom.Training.Tests.Classification;

// The loop with the real heads (Loom.Models.Classification): a tiny BERT classifier with hidden and
// attention dropout on, so a resume must restore the dropout step as well as weights and moments.
public class FineTuningWithHeadsTests
{
    private static ISequenceClassificationModel Bert(LabelSet labels, int seed) => SequenceClassifiers.Create(
        new BertConfig { VocabSize = TestData.Vocabulary.Length, HiddenSize = 32, Layers = 2, Heads = 2, IntermediateSize = 64, MaxPositions = 32 },
        new SequenceClassifierOptions { NumLabels = labels.Count, Labels = labels.Names, ProblemType = labels.ProblemType, Seed = seed },
        ModelOptions.Default with { Dropout = new DropoutOptions { Hidden = 0.1f, Attention = 0.1f, Seed = 7 } });

    [Fact]
    public void ABertClassifierWithDropoutResumesBitIdenticallyAndLearns()
    {
        string dir = TestData.Directory();
        var encoder = SequenceEncoder.Load(TestData.WordPieceTokenizer(dir));
        var options = new ClassificationDataOptions();
        var texts = ClassificationDataReader.Read(TestData.Sentiment(dir, 64), options);
        var labels = LabelSet.Infer(texts, ProblemType.SingleLabel);
        var train = ClassificationDataset.Encode(texts, encoder, labels, 16, TruncationPolicy.Head);
        var validation = ClassificationDataset.Encode(ClassificationDataReader.Read(TestData.Sentiment(dir, 24, "v.jsonl", seed: 5), options), encoder, labels, 16, TruncationPolicy.Head);
        var ft = new FineTuneOptions { Epochs = 10, BatchSize = 8, LearningRate = 3e-3f, EvalEvery = 3, MaxLength = 16, MetricForBestModel = "accuracy", KeepCheckpoints = 50 };

        using var straight = Bert(labels, 1);
        var result = FineTuning.Train(straight, train, validation, labels, ft, Path.Combine(dir, "a"), encoder);
        Assert.True(result.Evaluation.Metrics["accuracy"] >= 0.8, $"accuracy {result.Evaluation.Metrics["accuracy"]}");
        Assert.True(File.Exists(Path.Combine(dir, "a", "model", "config.json")));

        using (var crashed = Bert(labels, 1))
            Assert.Throws<TimeoutException>(() => FineTuning.Train(crashed, train, validation, labels, ft, Path.Combine(dir, "b"), encoder, new CrashAt(13)));
        string latest = TrainingCheckpoint.Latest(Path.Combine(dir, "b", "checkpoints"))!;
        Assert.EndsWith("step_000012", latest);
        using var resumed = Bert(labels, 2);   // other initial weights: everything must come from the checkpoint
        FineTuning.Train(resumed, train, validation, labels, ft, Path.Combine(dir, "b"), encoder, resumeFrom: latest);
        Assert.Equal(File.ReadAllLines(Path.Combine(dir, "a", "metrics.jsonl")), File.ReadAllLines(Path.Combine(dir, "b", "metrics.jsonl")));
        Assert.Equal(straight.Parameters.AllValues.ToArray(), resumed.Parameters.AllValues.ToArray());
    }

    private sealed class CrashAt(int step) : IProgress<FineTuneProgress>
    {
        public void Report(FineTuneProgress value)
        {
            if (value.Step == step) throw new TimeoutException("simulated crash");
        }
    }
}
