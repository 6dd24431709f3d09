// SequenceBatches: DPO's row layout (every chosen row, then every rejected row, as TRL's
// concatenated_forward), right padding with target −100, loss weights, and a restored state that
// replays the very same batches (what bit-identical resume needs).
using Loom.Training.Loop;

namespace Loom.Training.Tests.Loop;

public class SequenceBatchesTests
{
    private static LabeledSequence Row(int first, int length) =>
        new(Enumerable.Range(first, length).ToArray(), Enumerable.Range(first, length).Select((v, i) => i == 0 ? -100 : v + 1).ToArray());

    [Fact]
    public void PairsAreLaidOutChosenRowsFirstAndPaddedOnTheRight()
    {
        var items = new List<LabeledSequence[]> { new[] { Row(10, 3), Row(20, 4) }, new[] { Row(30, 2), Row(40, 5) } };
        var b = new SequenceBatches(items, 2, padId: 0, seed: 1, shuffle: false).Next();
        Assert.Equal((4, 5), (b.Batch, b.Time));
        Assert.Equal([10, 11, 12, 0, 0, 30, 31, 0, 0, 0, 20, 21, 22, 23, 0, 40, 41, 42, 43, 44], b.Inputs);
        Assert.Equal([-100, 12, 13, -100, -100], b.Targets[..5]);
        Assert.Equal(2, b.LossWeight);                // a DPO batch's loss is a mean over its pairs
        Assert.Equal(14, b.RealTokens);
        var sft = new SequenceBatches([[Row(1, 3)], [Row(5, 2)]], 2, 0, 1, shuffle: false).Next();
        Assert.Equal(3, sft.LossWeight);              // an SFT batch's: over its labelled targets
    }

    [Fact]
    public void ARestoredStateReplaysTheSameBatches()
    {
        var items = Enumerable.Range(0, 7).Select(i => new[] { Row(i * 10, 2 + i % 3) }).ToList();
        var a = new SequenceBatches(items, 2, 0, seed: 5);
        for (int i = 0; i < 5; i++) a.Next();   // into the second epoch
        var saved = a.State;
        var want = Enumerable.Range(0, 6).Select(_ => a.Next().Inputs.ToArray()).ToList();
        var b = new SequenceBatches(items, 2, 0, seed: 5) { State = saved };
        var got = Enumerable.Range(0, 6).Select(_ => b.Next().Inputs.ToArray()).ToList();
        Assert.Equal(want, got);
        // Every item once per epoch.
        var c = new SequenceBatches(items, 2, 0, seed: 5);
        var firsts = Enumerable.Range(0, 4).SelectMany(_ => { var x = c.Next(); return Enumerable.Range(0, x.Batch).Select(r => x.Inputs[r * x.Time]); }).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 7).Select(i => i * 10), firsts);
    }
}
