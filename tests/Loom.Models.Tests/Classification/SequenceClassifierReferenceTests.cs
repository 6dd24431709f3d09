// Loom's sequence classifiers against PyTorch (Fixtures/make_classifier_fixture.py, HF's
// GPT2/Llama/BertForSequenceClassification heads and losses): logits, loss and every gradient for
// single-label, regression and multi-label on each family; the saved directory has exactly HF's
// state-dict names and config fields and loads back to the same scores.
using System.Text.Json.Nodes;
using Loom.Models.Classification;
using Loom.Models.Formats;
using Loom.Models.Tests.Gpt2;

namespace Loom.Models.Tests.Classification;

public class SequenceClassifierReferenceTests
{
    public static TheoryData<string, string> AllCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var f in ClassifierFixture.Families)
            foreach (var c in ClassifierFixture.Cases) data.Add(f, c);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void LogitsLossAndEveryGradientMatchPyTorch(string family, string @case)
    {
        using var fx = new ClassifierFixture(family, @case);
        using var model = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions());
        Assert.Equal(fx.NumLabels, model.NumLabels);
        Assert.Equal(@case switch { "single" => ProblemType.SingleLabel, "regression" => ProblemType.Regression, _ => ProblemType.MultiLabel }, model.ProblemType);
        float loss = model.Forward(fx.Batch, fx.Labels);
        Gpt2ReferenceTests.AssertClose(fx.File.ReadSingle(@case + ".logits"), model.Scores, "logits");
        Assert.Equal(fx.File.ReadSingle(@case + ".loss")[0], loss, 1e-5);
        if (family != "bert")   // HF's rightmost non-pad token of each row (row 1 has a pad id among its real tokens)
            Assert.Equal(fx.File.ReadInt32("last_token").Select((t, b) => b * fx.T + t), ((SequenceClassifier)model).PooledRows.ToArray());
        model.Parameters.ZeroGradients();
        model.Backward();
        int compared = 0;
        for (int i = 0; i < model.Parameters.Specs.Count; i++)
        {
            var spec = model.Parameters.Specs[i];
            var want = fx.Gradient(spec.Name);
            if (want == null)
            {
                Assert.False(spec.IsTrainable, $"{spec.Name} trains but is not part of HF's classifier");
                continue;
            }
            Gpt2ReferenceTests.AssertClose(want, model.Parameters.Gradient(i), "grad " + spec.Name);
            compared++;
        }
        Assert.Equal(fx.Names.Count, compared);
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void SaveWritesHuggingFacesNamesAndConfigAndLoadsBackToTheSameScores(string family, string @case)
    {
        using var fx = new ClassifierFixture(family, @case);
        string saved = Path.Combine(fx.Directory, "saved");
        float[] scores;
        using (var model = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions()))
        {
            model.Forward(fx.Batch, default);
            scores = model.Scores.ToArray();
            model.Save(saved);
        }
        using (var file = SafetensorsFile.Open(Path.Combine(saved, "model.safetensors")))
            Assert.Equal(fx.Names.OrderBy(n => n, StringComparer.Ordinal), file.Tensors.Keys.OrderBy(n => n, StringComparer.Ordinal));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(saved, "config.json")))!.AsObject();
        string architecture = family switch { "gpt2" => "GPT2ForSequenceClassification", "llama" => "LlamaForSequenceClassification", _ => "BertForSequenceClassification" };
        Assert.Equal(architecture, (string)config["architectures"]![0]!);
        Assert.Equal(@case switch { "single" => "single_label_classification", "regression" => "regression", _ => "multi_label_classification" }, (string)config["problem_type"]!);
        Assert.Equal(fx.NumLabels, config["id2label"]!.AsObject().Count);
        Assert.Equal(fx.NumLabels, config["label2id"]!.AsObject().Count);
        Assert.Equal(0, (int)config["pad_token_id"]!);
        Assert.Equal(family, (string)config["model_type"]!);
        if (@case == "single") Assert.Equal("pos", (string)config["id2label"]!["2"]!);

        using var reloaded = SequenceClassifiers.Load(saved, new SequenceClassifierOptions { Seed = 999 });
        reloaded.Forward(fx.Batch, default);
        Assert.Equal(scores, reloaded.Scores.ToArray());
        Assert.Equal(SequenceClassifiers.LabelsOf(reloaded), config["id2label"]!.AsObject().OrderBy(kv => int.Parse(kv.Key)).Select(kv => (string)kv.Value!));
    }
}
