// "Hot loops allocate nothing" for the generative tasks' training steps, cached distillation included:
// after warm-up (every batch shape seen, the JIT tiered up) whole steps — batches drawn (twice, with
// accumulation: once to weigh them), the objective's forward and backward (the sparse top-k loss of a
// cached teacher; the teacher's forward; DPO's reference), AdamW — allocate nothing on any thread.
using Loom.Training.Loop;
using Loom.Training.Precision;
using Loom.Training.Tests.Loop;

namespace Loom.Training.Tests.Tasks;

[Collection(nameof(AllocationCollection))]
public class FinetuneTaskAllocationTests
{
    public static TheoryData<string> Tasks => new(FinetuneTask.Names);

    [Theory]
    [MemberData(nameof(Tasks))]
    public void AStepAllocatesNothingAfterWarmUp(string name)
    {
        using var task = FinetuneTask.Create(name, 4);
        var options = new TrainOptions { BatchSize = 4, SequenceLength = FinetuneTask.Time, MaxSteps = 1000, GradientAccumulation = 2, Precision = TrainingPrecision.Fp32 };
        using var step = new TrainingStep(task.Trained, task.Batches, options);
        // 40 warm-up steps cross several epochs (12 items or 49 chunks: partial last batches), so every shape
        // is planned; then windows of 3 steps until one is quiet (as TrainingStepTests: the background JIT).
        for (int i = 0; i < 40; i++) step.Run(i);
        var windows = new List<long>();
        for (int w = 0, s = 40; w < 20 && (windows.Count == 0 || windows.Min() > 0); w++)
        {
            Thread.Sleep(50);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 3; i++) step.Run(s++);
            windows.Add(GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        Assert.True(windows.Min() == 0, $"{name}: bytes allocated per 3 steps: {string.Join(", ", windows)}");
    }
}

public class TeacherCacheBatchesAllocationTests
{
    // The epoch's last, partial batch of cached chunks used to slice new arrays every epoch; its buffers are
    // now planned with the others. After one epoch, whole epochs (partial batch included) allocate nothing.
    [Fact]
    public void AnEpochOfCachedChunksAllocatesNothingAfterTheFirst()
    {
        using var task = FinetuneTask.Create("distill-cached", 4);
        for (int i = 0; i < 13; i++) task.Batches.Next();   // 49 chunks: 12 batches of 4 and one of 1
        long before = GC.GetAllocatedBytesForCurrentThread();
        int partial = 0;
        for (int i = 0; i < 26; i++) if (task.Batches.Next().Batch == 1) partial++;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(2, partial);
    }
}
