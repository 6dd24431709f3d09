// SequenceClassifiers beyond the reference values: a base-model directory gets a seeded new head,
// HF's "no pad_token_id" rule, label checks, inference builds, finite differences of each loss
// through the head and body, and classifier dropout.
using System.Text.Json.Nodes;
using Loom.Models.Classification;
using Loom.Models.Gpt2;
using Loom.Models.Bert;

namespace Loom.Models.Tests.Classification;

public class SequenceClassifiersTests
{
    // The base checkpoints a user starts from: GPT2LMHeadModel / Loom's GPT-2 save ("wte.weight"), LlamaForCausalLM
    // (model.* + lm_head.weight, here without lm_head), BertModel (no "bert." prefix, no pooler: BertForMaskedLM has none).
    private static string? BaseName(string family, string name) => family switch
    {
        "gpt2" => name.StartsWith("transformer.", StringComparison.Ordinal) ? name["transformer.".Length..] : name,
        "bert" => name.StartsWith("bert.pooler.", StringComparison.Ordinal) ? null : name.StartsWith("bert.", StringComparison.Ordinal) ? name["bert.".Length..] : name,
        _ => name,
    };

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("bert")]
    public void ABaseModelDirectoryGetsAHeadInitialisedWithTheSeed(string family)
    {
        using var fx = new ClassifierFixture(family, "single", c => { c.Remove("id2label"); return c; }, n => BaseName(family, n), withHead: false);
        float[] Head(int seed, out float[] body)
        {
            using var m = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions { NumLabels = 3, Seed = seed });
            var p = m.Parameters;
            string head = family == "bert" ? "classifier.weight" : "score.weight";
            body = p.Value(p.IndexOf(family == "gpt2" ? "wte.weight" : family == "llama" ? "model.embed_tokens.weight" : "bert.embeddings.word_embeddings.weight")).ToArray();
            Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2"], SequenceClassifiers.LabelsOf(m));
            return p.Value(p.IndexOf(head)).ToArray();
        }
        float[] a = Head(7, out var bodyA), b = Head(7, out _), c = Head(8, out _);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        // HF _init_weights: N(0, initializer_range = 0.02)
        double std = Math.Sqrt(a.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.012, 0.028);
        string bodyName = family == "gpt2" ? "w.transformer.wte.weight" : family == "llama" ? "w.model.embed_tokens.weight" : "w.bert.embeddings.word_embeddings.weight";
        Assert.Equal(fx.File.ReadSingle(bodyName), bodyA);
    }

    [Fact]
    public void AHeadOfAnotherLabelCountIsRefusedByName()
    {
        using var fx = new ClassifierFixture("gpt2", "single");
        var e = Assert.Throws<InvalidDataException>(() => SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions { NumLabels = 5 }));
        Assert.Contains("score.weight", e.Message);
        Assert.Contains("NumLabels = 3", e.Message);
    }

    [Fact]
    public void AMissingBodyTensorIsNamed()
    {
        using var fx = new ClassifierFixture("llama", "single", rename: n => n == "model.layers.1.mlp.up_proj.weight" ? null : n);
        var e = Assert.Throws<InvalidDataException>(() => SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions()));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
    }

    // A base or LM checkpoint carries the LM head a classifier does not build (Llama's lm_head,
    // BERT's cls.predictions): its tensors are skipped, not an error, and the body loads as without them.
    [Theory]
    [InlineData("llama")]
    [InlineData("bert")]
    public void AnLmHeadInTheCheckpointIsSkippedAndNotAllocated(string family)
    {
        using var fx = new ClassifierFixture(family, "single");
        using var without = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions());
        string weights = Path.Combine(fx.Directory, "model.safetensors");
        var items = new List<Loom.Models.Formats.SafetensorsWriter.Item>();
        using (var file = Loom.Models.Formats.SafetensorsFile.Open(weights))
            foreach (var (name, entry) in file.Tensors) items.Add(new(name, entry.Shape, file.ReadSingle(name)));
        int V = (int)fx.Config["vocab_size"]!, C = (int)fx.Config["hidden_size"]!;
        float[] Filled(long n) => Enumerable.Range(0, (int)n).Select(i => 0.01f * (i % 7)).ToArray();
        if (family == "llama") items.Add(new("lm_head.weight", [V, C], Filled((long)V * C)));
        else
        {
            items.Add(new("cls.predictions.transform.dense.weight", [C, C], Filled(C * C)));
            items.Add(new("cls.predictions.bias", [V], Filled(V)));
        }
        Loom.Models.Formats.SafetensorsWriter.Write(weights, items);
        using var with = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions());
        Assert.DoesNotContain(with.Parameters.Specs, s => s.Name == "lm_head.weight" || s.Name.StartsWith("cls.", StringComparison.Ordinal));
        Assert.Equal(without.Parameters.AllValues.ToArray(), with.Parameters.AllValues.ToArray());
    }

    // Issue 12: the pooler exists once (in the body, as HF's BertModel.pooler), so a projection
    // factory aimed at it (a LoRA adapter) is called once and its output is what the classifier reads.
    [Fact]
    public void BertsPoolerIsBuiltOnceAndTheClassifierReadsTheBodysPooledOutput()
    {
        using var fx = new ClassifierFixture("bert", "single");
        int calls = 0;
        var options = new ModelOptions
        {
            Projections = c => { if (c.Spec.Path == "bert.pooler.dense") calls++; return c.CreateDense(); },
        };
        using var m = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions(), options);
        Assert.Equal(1, calls);
        m.Forward(fx.Batch, fx.Labels);
        var body = (Loom.Models.IPooledHiddenStateModel)((SequenceClassifier)m).Body;
        var p = m.Parameters;
        // scores = pooled·W_clsᵀ + b_cls, from the body's pooled output (dropout is off outside training)
        var w = p.Value(p.IndexOf("classifier.weight")).ToArray();
        var bias = p.Value(p.IndexOf("classifier.bias")).ToArray();
        int C = (int)fx.Config["hidden_size"]!, N = m.NumLabels;
        var pooled = body.Pooled.ToArray();
        for (int b = 0; b < fx.B; b++)
            for (int n = 0; n < N; n++)
            {
                double s = bias[n];
                for (int c = 0; c < C; c++) s += (double)pooled[b * C + c] * w[n * C + c];
                Assert.Equal(s, m.Scores[b * N + n], 4);
            }
    }

    // Issue 12: SequenceClassifiers checks the planned parameter (and gradient) bytes against the
    // machine before allocating, and names the setting to reduce, as loom train does.
    [Fact]
    public void AClassifierTooLargeForTheMachineIsRefusedBeforeAllocating()
    {
        var huge = new Gpt2Config { VocabSize = 2_000_000_000, MaxPositions = 8, Embedding = 65_536, Layers = 1, Heads = 1 };
        var e = Assert.Throws<InvalidOperationException>(() => SequenceClassifiers.Create(huge, new SequenceClassifierOptions { NumLabels = 2 }));
        Assert.Contains("GPT2ForSequenceClassification", e.Message);
        Assert.Contains("vocab_size", e.Message);
        Assert.Contains("GB", e.Message);
        Assert.Contains("this machine has", e.Message);
        var bert = new BertConfig { VocabSize = 100, HiddenSize = 65_536, Layers = 40, Heads = 1, IntermediateSize = 65_536, MaxPositions = 8 };
        e = Assert.Throws<InvalidOperationException>(() => SequenceClassifiers.Create(bert, new SequenceClassifierOptions { NumLabels = 2 }, ModelOptions.Inference));
        Assert.Contains("number or width of the layers", e.Message);
        Assert.DoesNotContain("gradients", e.Message);
    }

    [Fact]
    public void WithoutPadTokenIdABatchOfOneReadsTheLastPositionAndABatchOfMoreIsRefused()
    {
        using var fx = new ClassifierFixture("gpt2", "single", c => { c.Remove("pad_token_id"); return c; });
        using var model = (SequenceClassifier)SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions());
        Assert.Null(model.PadTokenId);
        var e = Assert.Throws<InvalidOperationException>(() => model.Forward(fx.Batch, default));
        Assert.Contains("pad_token_id", e.Message);
        Assert.Contains("batch of 4", e.Message);
        model.Forward(new TokenBatch(fx.Ids.AsSpan(0, fx.T), 1, fx.T), default);
        Assert.Equal([fx.T - 1], model.PooledRows.ToArray());
    }

    [Fact]
    public void LabelsOutsideTheClassesOrOfTheWrongKindAreRefused()
    {
        using var fx = new ClassifierFixture("gpt2", "single");
        using var model = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions());
        var e = Assert.Throws<ArgumentException>(() => model.Forward(fx.Batch, ClassificationLabels.FromClasses([0, 1, 3, 2])));
        Assert.Contains("Label 3 of sequence 2", e.Message);
        Assert.Throws<ArgumentException>(() => model.Forward(fx.Batch, ClassificationLabels.FromValues(new float[4])));
        Assert.Throws<ArgumentException>(() => model.Forward(fx.Batch, ClassificationLabels.FromClasses([0, 1])));
    }

    [Fact]
    public void AnUnknownProblemTypeNamesTheFileAndField()
    {
        using var fx = new ClassifierFixture("bert", "single", c => { c["problem_type"] = "ranking"; return c; });
        var e = Assert.Throws<InvalidDataException>(() => SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions()));
        Assert.Contains("config.json", e.Message);
        Assert.Contains("problem_type is \"ranking\"", e.Message);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("bert")]
    public void AnInferenceBuildHasNoGradientsAndGivesTheSameScores(string family)
    {
        using var fx = new ClassifierFixture(family, "single");
        using var train = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions());
        using var infer = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions(), ModelOptions.Inference);
        Assert.False(infer.Parameters.HasGradients);
        train.Forward(fx.Batch, default);
        infer.Forward(fx.Batch, fx.Labels);
        Assert.Equal(train.Scores.ToArray(), infer.Scores.ToArray());
        Assert.Throws<InvalidOperationException>(() => infer.Backward());
    }

    [Fact]
    public void CreateBuildsAFreshModelFromAConfigRecordDeterministically()
    {
        var config = new BertConfig { VocabSize = 50, HiddenSize = 16, Layers = 1, Heads = 2, IntermediateSize = 32, MaxPositions = 8 };
        var options = new SequenceClassifierOptions { Labels = ["x", "y"], Seed = 3 };
        using var a = SequenceClassifiers.Create(config, options);
        using var b = SequenceClassifiers.Create(config, options);
        Assert.Equal(2, a.NumLabels);
        Assert.Equal(ProblemType.SingleLabel, a.ProblemType);
        Assert.Equal(["x", "y"], SequenceClassifiers.LabelsOf(a));
        Assert.Equal(a.Parameters.AllValues.ToArray(), b.Parameters.AllValues.ToArray());
        Assert.Contains(a.Parameters.AllValues.ToArray(), v => v != 0 && v != 1);
        using var r = SequenceClassifiers.Create(new Gpt2Config { VocabSize = 50, MaxPositions = 8, Embedding = 16, Layers = 1, Heads = 2 }, new SequenceClassifierOptions { NumLabels = 1 });
        Assert.Equal(ProblemType.Regression, r.ProblemType);
    }

    // Central differences of the mean loss in float64-free float32: h = 1e-2 on O(0.1–1) weights,
    // compared within 2% of the largest gradient (truncation error O(h²), rounding O(ε/h)).
    [Theory]
    [InlineData("gpt2", "single")]
    [InlineData("bert", "single")]
    [InlineData("bert", "regression")]
    [InlineData("llama", "multi")]
    [InlineData("gpt2", "regression")]
    public void GradientsMatchFiniteDifferencesOfTheLoss(string family, string @case)
    {
        using var fx = new ClassifierFixture(family, @case);
        using var model = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions());
        var p = model.Parameters;
        model.Parameters.ZeroGradients();
        model.Forward(fx.Batch, fx.Labels);
        model.Backward();
        string head = family == "bert" ? "classifier.weight" : "score.weight";
        string body = family switch { "gpt2" => "h.1.mlp.c_proj.weight", "llama" => "model.layers.0.self_attn.q_proj.weight", _ => "bert.pooler.dense.weight" };
        foreach (var name in new[] { head, body })
        {
            int idx = p.IndexOf(name);
            var grad = p.Gradient(idx).ToArray();
            double scale = grad.Max(Math.Abs);
            var values = p.Value(idx);
            for (int k = 0; k < 6; k++)
            {
                int j = (int)((long)k * 7919 % values.Length);
                float w = values[j];
                const float h = 1e-2f;
                values[j] = w + h; float up = model.Forward(fx.Batch, fx.Labels);
                values[j] = w - h; float down = model.Forward(fx.Batch, fx.Labels);
                values[j] = w;
                double numeric = (up - down) / (2.0 * h);
                Assert.True(Math.Abs(numeric - grad[j]) <= 0.02 * scale + 1e-4, $"{name}[{j}]: finite difference {numeric:E4}, backward {grad[j]:E4}");
            }
        }
    }

    [Fact]
    public void ClassifierDropoutIsOffInEvaluationAndItsBackwardMatchesFiniteDifferencesThroughTheSameMask()
    {
        using var fx = new ClassifierFixture("bert", "single");
        using var model = (SequenceClassifier)SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions { ClassifierDropout = 0.5f });
        model.Forward(fx.Batch, default);
        float[] eval = model.Scores.ToArray();
        model.IsTraining = false;
        model.Forward(fx.Batch, default);
        Assert.Equal(eval, model.Scores.ToArray());
        model.IsTraining = true;
        model.Forward(fx.Batch, default);
        Assert.NotEqual(eval, model.Scores.ToArray());

        // With the step fixed, each forward draws the same mask: the loss is a smooth function of the weights.
        var p = model.Parameters;
        p.ZeroGradients();
        ulong step = model.DropoutStep;
        model.Forward(fx.Batch, fx.Labels);
        model.Backward();
        Assert.Equal(step + 1, model.DropoutStep);
        model.DropoutStep = step;
        int idx = p.IndexOf("classifier.weight");
        var grad = p.Gradient(idx).ToArray();
        double scale = grad.Max(Math.Abs);
        Assert.Contains(grad, g => g == 0);   // dropped inputs give no gradient to their weights
        var values = p.Value(idx);
        for (int j = 0; j < values.Length; j += 5)
        {
            float w = values[j];
            const float h = 1e-2f;
            values[j] = w + h; float up = model.Forward(fx.Batch, fx.Labels);
            values[j] = w - h; float down = model.Forward(fx.Batch, fx.Labels);
            values[j] = w;
            Assert.True(Math.Abs((up - down) / (2.0 * h) - grad[j]) <= 0.02 * scale + 1e-4, $"classifier.weight[{j}]");
        }
    }
}
