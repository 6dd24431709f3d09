using Loom.Models.Classification;
using Loom.Training.Checkpoints;
using Loom.Training.Classification;

namespace Loom.Training.Tests.Classification;

public class FineTuningTests
{
    private sealed record Setup(string Dir, ClassificationDataset Train, ClassificationDataset Validation, LabelSet Labels, SequenceEncoder Encoder);

    private static Setup Make(int trainCount = 96, int validationCount = 40, ProblemType type = ProblemType.SingleLabel)
    {
        string dir = TestData.Directory();
        var encoder = SequenceEncoder.Load(TestData.WordPieceTokenizer(dir));
        var options = new ClassificationDataOptions();
        var trainTexts = ClassificationDataReader.Read(TestData.Sentiment(dir, trainCount), options);
        var valTexts = ClassificationDataReader.Read(TestData.Sentiment(dir, validationCount, "validation.jsonl", seed: 9), options);
        var labels = LabelSet.Infer(trainTexts, type);
        return new Setup(dir, ClassificationDataset.Encode(trainTexts, encoder, labels, 16, TruncationPolicy.Head),
            ClassificationDataset.Encode(valTexts, encoder, labels, 16, TruncationPolicy.Head), labels, encoder);
    }

    private static FineTuneOptions Options => new()
    {
        Epochs = 4, BatchSize = 8, LearningRate = 0.5f, WarmupRatio = 0.1, EvalEvery = 5, MaxLength = 16, WeightDecay = 0f,
        MetricForBestModel = "accuracy", KeepCheckpoints = 100,
    };

    [Fact]
    public void ATriviallyLearnableTaskIsLearnedAndTheSavedModelIsTheBestEvaluation()
    {
        var s = Make();
        using var model = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel);
        string output = Path.Combine(s.Dir, "run");
        var result = FineTuning.Train(model, s.Train, s.Validation, s.Labels, Options, output, s.Encoder);
        Assert.True(result.Evaluation.Metrics["accuracy"] >= 0.95, $"accuracy {result.Evaluation.Metrics["accuracy"]}");
        Assert.Equal(4 * 12, result.Steps);   // 96 examples / 8 = 12 steps per epoch
        // The saved model is the best evaluation's: re-evaluating it gives that evaluation's metric.
        var best = result.EvalHistory.Single(e => e.Step == result.BestStep);
        Assert.Equal(best.Metrics["accuracy"], result.Evaluation.Metrics["accuracy"]);
        Assert.Equal(result.EvalHistory.Max(e => e.Metrics["accuracy"]), result.BestMetric);
        Assert.True(File.Exists(Path.Combine(output, "model", "vocab.txt")));   // the tokenizer travels with the model
        Assert.True(File.Exists(Path.Combine(output, "model", "model.safetensors")));
        // Every metric the library computes for a binary task is there.
        foreach (var name in new[] { "accuracy", "f1", "f1_macro", "f1_micro", "f1_weighted", "precision", "recall", "mcc", "log_loss", "roc_auc", "pr_auc", "loss" })
            Assert.Contains(name, result.Evaluation.Metrics.Keys);
        string html = File.ReadAllText(Path.Combine(output, "report.html"));
        Assert.Contains("Confusion matrix", html);
        Assert.Contains("reliability diagram", html);
        Assert.Contains("Worst-classified", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://cdn", html);
    }

    [Fact]
    public void AResumedRunEndsBitIdenticalToAnUninterruptedOne()
    {
        var s = Make(64, 24);
        var options = Options with { Epochs = 2, GradientAccumulation = 2, EvalEvery = 2, MetricForBestModel = "loss" };
        using var straight = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel);
        string a = Path.Combine(s.Dir, "a"), b = Path.Combine(s.Dir, "b");
        FineTuning.Train(straight, s.Train, s.Validation, s.Labels, options, a);

        using (var crashed = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel))
        {
            var crash = new CrashAt(5);
            Assert.Throws<TimeoutException>(() => FineTuning.Train(crashed, s.Train, s.Validation, s.Labels, options, b, progress: crash));
        }
        string latest = TrainingCheckpoint.Latest(Path.Combine(b, "checkpoints"))!;
        Assert.EndsWith("step_000004", latest);
        // A fresh model (other initial weights) resumed from the checkpoint: everything comes from the checkpoint.
        using var resumed = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel, seed: 99);
        FineTuning.Train(resumed, s.Train, s.Validation, s.Labels, options, b, resumeFrom: latest);
        Assert.Equal(straight.Parameters.AllValues.ToArray(), resumed.Parameters.AllValues.ToArray());
        Assert.Equal(File.ReadAllLines(Path.Combine(a, "metrics.jsonl")), File.ReadAllLines(Path.Combine(b, "metrics.jsonl")));
    }

    [Fact]
    public void AccumulatingTwoBatchesOfFourStepsLikeOneBatchOfEight()
    {
        // Unbucketed plans cut the same shuffled order into chunks, so two micro-batches of 4 are the halves of
        // one batch of 8, and the mean of their mean losses is the batch-of-8 mean: the updates agree to rounding.
        var s = Make(96, 16);
        var options = Options with { Epochs = 2, LengthBucketing = false, EvalEvery = 0, MetricForBestModel = "loss" };
        using var one = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel);
        using var two = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel);
        var r1 = FineTuning.Train(one, s.Train, s.Validation, s.Labels, options with { BatchSize = 8 }, Path.Combine(s.Dir, "one"));
        var r2 = FineTuning.Train(two, s.Train, s.Validation, s.Labels, options with { BatchSize = 4, GradientAccumulation = 2 }, Path.Combine(s.Dir, "two"));
        Assert.Equal(r1.Steps, r2.Steps);
        var a = one.Parameters.AllValues.ToArray();
        var b = two.Parameters.AllValues.ToArray();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-4, $"parameter {i}: {a[i]} vs {b[i]}");
        Assert.Contains(a, v => v != 0);
    }

    [Theory]
    [InlineData(Loom.Training.Precision.TrainingPrecision.Bf16)]
    [InlineData(Loom.Training.Precision.TrainingPrecision.Fp16)]
    public void SixteenBitTrainingStillLearnsTheTask(Loom.Training.Precision.TrainingPrecision precision)
    {
        var s = Make();
        using var model = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel);
        var result = FineTuning.Train(model, s.Train, s.Validation, s.Labels, Options with { Precision = precision }, Path.Combine(s.Dir, "run"));
        Assert.True(result.Evaluation.Metrics["accuracy"] >= 0.95, $"accuracy {result.Evaluation.Metrics["accuracy"]}");
    }

    [Fact]
    public void AResumeWithAnotherBatchSizeIsRefused()
    {
        var s = Make(32, 16);
        var options = Options with { Epochs = 2, EvalEvery = 2 };
        using (var m = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel))
            Assert.Throws<TimeoutException>(() => FineTuning.Train(m, s.Train, s.Validation, s.Labels, options, s.Dir + "/r", progress: new CrashAt(3)));
        using var again = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel);
        var e = Assert.Throws<InvalidOperationException>(() => FineTuning.Train(again, s.Train, s.Validation, s.Labels, options with { BatchSize = 4 }, s.Dir + "/r",
            resumeFrom: TrainingCheckpoint.Latest(s.Dir + "/r/checkpoints")));
        Assert.Contains("train.batch_size was 8 and is now 4", e.Message);
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEvaluationsWithoutImprovement()
    {
        var s = Make(48, 16);
        // A learning rate of ~0 never changes the model, so no evaluation improves on the first.
        var options = Options with { Epochs = 10, EvalEvery = 2, LearningRate = 1e-12f, MetricForBestModel = "loss", EarlyStoppingPatience = 3, WarmupRatio = 0 };
        using var model = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel);
        var result = FineTuning.Train(model, s.Train, s.Validation, s.Labels, options, Path.Combine(s.Dir, "run"));
        Assert.True(result.StoppedEarly);
        Assert.Equal(4, result.EvalHistory.Count);   // the first, then three without improvement
        Assert.Equal(2, result.BestStep);
    }

    [Fact]
    public void RegressionAndMultiLabelTrainAndReportTheirMetrics()
    {
        string dir = TestData.Directory();
        var encoder = SequenceEncoder.Load(TestData.WordPieceTokenizer(dir));
        var rng = new Random(4);
        string[] words = ["great", "good", "awful", "bad"];
        var reg = new List<string>();
        var multi = new List<string>();
        for (int i = 0; i < 60; i++)
        {
            var w = Enumerable.Range(0, 3).Select(_ => words[rng.Next(4)]).ToList();
            reg.Add(System.Text.Json.JsonSerializer.Serialize(new { text = string.Join(' ', w), label = w.Count(x => x is "great" or "good") / 3.0 }));
            var tags = new List<string>();
            if (w.Contains("great")) tags.Add("has_great");
            if (w.Contains("bad")) tags.Add("has_bad");
            multi.Add(System.Text.Json.JsonSerializer.Serialize(new { text = string.Join(' ', w), label = tags }));
        }
        File.WriteAllLines(Path.Combine(dir, "reg.jsonl"), reg);
        File.WriteAllLines(Path.Combine(dir, "multi.jsonl"), multi);
        foreach (var (file, type, metric) in new[] { ("reg.jsonl", ProblemType.Regression, "mse"), ("multi.jsonl", ProblemType.MultiLabel, "f1_micro") })
        {
            var texts = ClassificationDataReader.Read(Path.Combine(dir, file), new ClassificationDataOptions { ProblemType = type });
            var labels = LabelSet.Infer(texts, type);
            var data = ClassificationDataset.Encode(texts, encoder, labels, 16, TruncationPolicy.Head);
            using var model = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, labels.Count, type);
            var result = FineTuning.Train(model, data, data, labels, Options with { MetricForBestModel = metric, Epochs = 8 }, Path.Combine(dir, "run-" + type));
            Assert.Contains(metric, result.Evaluation.Metrics.Keys);
            if (type == ProblemType.Regression) Assert.True(result.Evaluation.Metrics["r2"] > 0.5, $"r2 {result.Evaluation.Metrics["r2"]}");
            else Assert.True(result.Evaluation.Metrics["f1_micro"] > 0.8, $"f1 {result.Evaluation.Metrics["f1_micro"]}");
        }
    }

    [Fact]
    public void AMetricTheTaskDoesNotHaveIsNamedWithTheChoices()
    {
        var s = Make(16, 8);
        using var model = new MeanPoolClassifier(TestData.Vocabulary.Length, 8, 2, ProblemType.SingleLabel);
        var e = Assert.Throws<ArgumentException>(() => FineTuning.Train(model, s.Train, s.Validation, s.Labels, Options with { MetricForBestModel = "r2" }, Path.Combine(s.Dir, "run")));
        Assert.Contains("train.metric_for_best_model is \"r2\"", e.Message);
        Assert.Contains("accuracy", e.Message);
    }

    [Fact]
    public void FoldsAreStratifiedAndAClassTooSmallForTheFoldsNamesIt()
    {
        var s = Make(30, 8);
        var folds = CrossValidation.Folds(s.Train, s.Labels, 3, seed: 1, "train.jsonl");
        Assert.Equal(3, folds.Count);
        foreach (var (train, test) in folds)
        {
            Assert.Equal(30, train.Examples.Count + test.Examples.Count);
            Assert.Equal(5, test.Examples.Count(e => e.Class == 0));   // 15 of each class → 5 per fold
        }
        Assert.Equal(Enumerable.Range(0, 30), folds.SelectMany(f => f.Test.Texts).Select(t => (int)t.Line - 1).Order());
        var few = s.Train.Subset([0, 1, 2, 4, 6, 8]);   // one "negative" (odd lines) among five "positive"
        var e = Assert.Throws<InvalidDataException>(() => CrossValidation.Folds(few, s.Labels, 3, seed: 1, "train.jsonl"));
        Assert.Contains("train.jsonl", e.Message);
        Assert.Contains("\"negative\" has 1 example(s), fewer than the 3 folds", e.Message);
    }

    [Fact]
    public void TheSummaryGivesMeanAndPopulationStandardDeviation()
    {
        var summary = CrossValidation.Summarize([new Dictionary<string, double> { ["a"] = 1, ["b"] = 5 }, new Dictionary<string, double> { ["a"] = 3 }]);
        Assert.Equal((2.0, 1.0), summary["a"]);   // numpy: np.mean([1, 3]) = 2, np.std([1, 3]) = 1
        Assert.False(summary.ContainsKey("b"));   // not in every fold
    }

    private sealed class CrashAt(int step) : IProgress<FineTuneProgress>
    {
        public void Report(FineTuneProgress value)
        {
            if (value.Step == step) throw new TimeoutException("simulated crash");
        }
    }
}
