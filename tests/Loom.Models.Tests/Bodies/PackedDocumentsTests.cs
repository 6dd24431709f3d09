// Packed documents (TokenBatch.PositionIds: HF's DataCollatorWithFlattening / TRL padding_free) checked
// against their definition: a row packing documents A, B, C with position ids restarting at 0 and a
// block-diagonal causal mask must give every token the logits it gets when its document runs alone,
// unpacked and unpadded, and the packed mean loss and its gradients must equal the token-weighted
// sum of the separate runs (loss_d · n_d / n, backward with lossScale n_d / n), for each causal family.
using Loom.Models.Gpt2;
using Loom.Models.Llama;

namespace Loom.Models.Tests.Bodies;

public class PackedDocumentsTests
{
    private const int V = 37;

    private static ICausalLanguageModel Create(string family) => family switch
    {
        "gpt2" => new Gpt2Model(new Gpt2Config { VocabSize = V, MaxPositions = 16, Embedding = 16, Layers = 2, Heads = 2 }),
        _ => new LlamaModel(new LlamaConfig { VocabSize = V, HiddenSize = 16, IntermediateSize = 24, Layers = 2, Heads = 4, KeyValueHeads = 2, MaxPositions = 16 }),
    };

    // Two packed rows of T = 12: row 0 = A(5) B(4) C(3); row 1 = D(6) E(4) + 2 padding (a document of its own, target −100).
    private static readonly int[] Lengths0 = [5, 4, 3], Lengths1 = [6, 4];
    private const int T = 12;

    [Theory]
    [InlineData("gpt2", false)]
    [InlineData("llama", false)]
    [InlineData("gpt2", true)]
    [InlineData("llama", true)]
    public void PackedRowsEqualEachDocumentRunAlone(string family, bool checkpointing)
    {
        var rng = new Random(7);
        var docs = Lengths0.Concat(Lengths1).Select(n => (Ids: Enumerable.Range(0, n).Select(_ => rng.Next(V)).ToArray(),
            Targets: Enumerable.Range(0, n).Select(_ => rng.Next(4) == 0 ? -100 : rng.Next(V)).ToArray())).ToArray();
        var ids = new int[2 * T];
        var targets = Enumerable.Repeat(-100, 2 * T).ToArray();
        var positions = new int[2 * T];
        var where = new List<int>();   // each document's offset in the packed batch
        int d = 0;
        foreach (var (row, lengths) in new[] { (0, Lengths0), (1, Lengths1) })
        {
            int t = 0;
            foreach (int n in lengths)
            {
                where.Add(row * T + t);
                docs[d].Ids.CopyTo(ids, row * T + t);
                docs[d].Targets.CopyTo(targets, row * T + t);
                for (int i = 0; i < n; i++) positions[row * T + t + i] = i;
                t += n; d++;
            }
            for (int i = 0; t < T; t++, i++) { ids[row * T + t] = 1; positions[row * T + t] = i; }   // padding
        }
        int labelled = targets.Count(x => x != -100);

        using var model = Create(family);
        model.InitializeWeights(3);
        model.ActivationCheckpointing = checkpointing;
        var p = model.Parameters;
        p.EnsureGradients();

        // The reference: each document alone (B = 1, its own length), gradients weighted by its labelled share.
        p.ZeroGradients();
        double expectedLoss = 0;
        var expectedLogits = new float[2 * T * V];
        for (int k = 0; k < docs.Length; k++)
        {
            float loss = model.Forward(docs[k].Ids, docs[k].Targets, 1, docs[k].Ids.Length);
            model.Logits.CopyTo(expectedLogits.AsSpan(where[k] * V));
            int n = docs[k].Targets.Count(x => x != -100);
            expectedLoss += (double)loss * n / labelled;
            model.Backward((float)n / labelled);
        }
        var expectedGradients = p.AllGradients.ToArray();

        p.ZeroGradients();
        float packed = model.Forward(new TokenBatch(ids, 2, T) { PositionIds = positions }, targets);
        var logits = model.Logits.ToArray();
        model.Backward();
        var gradients = p.AllGradients.ToArray();

        Assert.Equal(expectedLoss, packed, 1e-5);
        for (int k = 0; k < docs.Length; k++)
            for (int i = 0; i < docs[k].Ids.Length * V; i++)
                Assert.True(Math.Abs(expectedLogits[where[k] * V + i] - logits[where[k] * V + i]) <= 1e-5,
                    $"document {k}, logit {i}: alone {expectedLogits[where[k] * V + i]}, packed {logits[where[k] * V + i]}");
        double scale = Math.Max(1e-3, expectedGradients.Max(Math.Abs));
        for (int i = 0; i < gradients.Length; i++)
            Assert.True(Math.Abs(expectedGradients[i] - gradients[i]) <= 1e-5 * scale + 1e-7,
                $"gradient {i}: alone {expectedGradients[i]}, packed {gradients[i]}");

        // Without the position ids the same row is one long document: the later documents' logits change.
        model.Forward(ids, targets, 2, T);
        Assert.True(Math.Abs(model.Logits[(where[1] + 1) * V] - logits[(where[1] + 1) * V]) > 1e-4);
    }

    [Fact]
    public void PositionIdsThatDoNotCountUpFromZeroAreRefusedWithTheirPlace()
    {
        using var model = Create("gpt2");
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(new TokenBatch(new int[8], 2, 4) { PositionIds = [0, 1, 2, 3, 0, 2, 3, 4] }, new int[8]));
        Assert.Contains("row 1, position 1", ex.Message);
    }
}
