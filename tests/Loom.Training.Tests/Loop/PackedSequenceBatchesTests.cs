// PackedSequenceBatches (sft.packing): every conversation once per epoch, whole, in rows of at most
// max_length with position ids restarting at 0; a restored state replays the same batches; and the SFT
// loss and gradients through packed rows equal those through one-conversation-per-row padded batches
// (SequenceBatches, the unpacked definition) on real ChatML conversations — loss still on assistant
// tokens only (flipping every prompt label leaves the packed gradients bit-identical).
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Training.Instructions;
using Loom.Training.Loop;
using Loom.Training.Tests.Instructions;

namespace Loom.Training.Tests.Loop;

public class PackedSequenceBatchesTests
{
    private static LabeledSequence Row(int first, int length) =>
        new(Enumerable.Range(first, length).ToArray(), Enumerable.Range(first, length).Select((v, i) => i == 0 ? -100 : v + 1).ToArray());

    [Fact]
    public void EachSequenceOncePerEpochWholeWithPositionsFromZero()
    {
        var items = Enumerable.Range(0, 9).Select(i => Row(100 * (i + 1), 2 + (i * 5) % 7)).ToList();   // lengths 2..8
        var packer = new PackedSequenceBatches(items, rowsPerBatch: 2, capacity: 10, padId: 0, seed: 3);
        Assert.True(packer.RowsPerEpoch < items.Count);
        var seen = new List<int>();
        for (int k = 0; k < packer.BatchesPerEpoch; k++)
        {
            var b = packer.Next();
            Assert.True(b.Time <= 10);
            Assert.NotNull(b.PositionIds);
            for (int r = 0; r < b.Batch; r++)
                for (int t = 0; t < b.Time; t++)
                {
                    int i = r * b.Time + t, p = b.PositionIds![i];
                    if (p == 0 && b.Inputs[i] != 0)
                    {
                        seen.Add(b.Inputs[i]);
                        var item = items[b.Inputs[i] / 100 - 1];
                        Assert.Equal(item.Inputs, b.Inputs.AsSpan(i, item.Inputs.Length).ToArray());      // whole, in place
                        Assert.Equal(item.Targets, b.Targets.AsSpan(i, item.Targets.Length).ToArray());
                    }
                    Assert.True(p == 0 || p == b.PositionIds[i - 1] + 1);
                }
            Assert.Equal(b.Targets.Count(x => x != -100), b.LossWeight);
        }
        Assert.Equal(items.Select(x => x.Inputs[0]).Order(), seen.Order());
    }

    [Fact]
    public void ARestoredStateReplaysTheSameBatches()
    {
        var items = Enumerable.Range(0, 11).Select(i => Row(i * 10 + 1, 2 + i % 4)).ToList();
        var a = new PackedSequenceBatches(items, 2, 8, 0, seed: 5);
        for (int i = 0; i < 4; i++) a.Next();   // into the second epoch
        var saved = a.State;
        var want = Enumerable.Range(0, 5).Select(_ => { var x = a.Next(); return string.Join(",", x.Inputs) + "|" + string.Join(",", x.PositionIds!); }).ToList();
        var b = new PackedSequenceBatches(items, 2, 8, 0, seed: 5) { State = saved };
        var got = Enumerable.Range(0, 5).Select(_ => { var x = b.Next(); return string.Join(",", x.Inputs) + "|" + string.Join(",", x.PositionIds!); }).ToList();
        Assert.Equal(want, got);
        Assert.Throws<ArgumentException>(() => new PackedSequenceBatches([Row(1, 9)], 1, 8, 0, 1));   // longer than a row
    }

    private static readonly Conversation[] Conversations =
    [
        ConversationEncoderTests.TwoTurns,
        new([new("user", "Two plus two?"), new("assistant", "Four.")], "chat.jsonl:2"),
        new([new("system", "Be brief."), new("user", "Capital of France?"), new("assistant", "Paris.")], "chat.jsonl:3"),
        new([new("user", "Name a colour."), new("assistant", "Blue, like the sky on a clear day.")], "chat.jsonl:4"),
    ];

    private static (float Loss, float[] Gradients) Step(Gpt2Model model, PaddedBatch b)
    {
        model.Parameters.ZeroGradients();
        float loss = b.PositionIds is null ? model.Forward(b.Inputs, b.Targets, b.Batch, b.Time) : model.Forward(b.Tokens, b.Targets);
        model.Backward();
        return (loss, model.Parameters.AllGradients.ToArray());
    }

    [Fact]
    public void PackedSftEqualsOneConversationPerRowAndIgnoresPromptLabels()
    {
        var encoded = Conversations.Select(c => ConversationEncoderTests.Encoder().Encode(c, out _)!).ToList();
        var rows = encoded.Select(s => s.ToLabeled()).ToList();
        int capacity = rows.Sum(r => r.Inputs.Length) / 2 + 8;   // two packed rows
        using var model = new Gpt2Model(new Gpt2Config { VocabSize = 50257, MaxPositions = 128, Embedding = 16, Layers = 1, Heads = 2 }, ModelOptions.Default);
        model.InitializeWeights(7);
        model.Parameters.EnsureGradients();

        var (unpackedLoss, unpacked) = Step(model, new SequenceBatches(rows.Select(r => new[] { r }).ToList(), rows.Count, padId: 50256, seed: 1, shuffle: false).Next());
        var packer = new PackedSequenceBatches(rows, rowsPerBatch: 4, capacity, padId: 50256, seed: 1, shuffle: false);
        var batch = packer.Next();
        Assert.True(batch.Batch < rows.Count);   // really packed
        var (packedLoss, packed) = Step(model, batch);
        Assert.Equal(unpackedLoss, packedLoss, 1e-5);
        double scale = unpacked.Max(Math.Abs);
        for (int i = 0; i < packed.Length; i++) Assert.True(Math.Abs(unpacked[i] - packed[i]) <= 1e-5 * scale, $"gradient {i}: {unpacked[i]} vs {packed[i]}");

        // Prompt masking holds in packed rows: other labels on every prompt position, bit-identical gradients.
        var flippedRows = encoded.Select(s =>
        {
            var labels = (int[])s.Ids.Clone();
            for (int i = 0; i < labels.Length; i++) if (!s.Assistant[i]) labels[i] = (labels[i] + 1 + i) % 50257;
            return (s with { Labels = labels }).ToLabeled();
        }).ToList();
        var (_, flipped) = Step(model, new PackedSequenceBatches(flippedRows, 4, capacity, 50256, 1, shuffle: false).Next());
        Assert.Equal(packed, flipped);
    }
}
