using System.Globalization;
using Loom.Distributed.Communication;
using Loom.Distributed.DataParallel;
using Loom.Models.Gpt2;
using Loom.Training.Loop;

namespace Loom.Distributed.Tests.Harness;

/// <summary>The programs the tests run on each rank.</summary>
internal static class Worker
{
    public static int Run(string[] args)
    {
        switch (args)
        {
            case ["fail"]:
            {
                using var comm = MpiCommunicator.Create();
                return DistributedRun.Guard(comm, () =>
                {
                    if (comm.Rank == 1) throw new InvalidOperationException("planted failure");
                    comm.Barrier();   // rank 0 would wait here forever without the abort
                    return 0;
                });
            }
            case ["collectives"]:
            {
                using var comm = MpiCommunicator.Create();
                return DistributedRun.Guard(comm, () => Collectives(comm));
            }
            case ["train", .. var runs] when runs.Length > 0 && runs.Length % 5 == 0:
            {
                // Several runs in one job (one launch, one JIT warm-up): groups of MODE OUTPUT STEPS CHECKPOINT_EVERY RESUME|-.
                var groups = runs.Chunk(5).ToArray();
                if (groups.All(g => g[0] == "single"))
                {
                    foreach (var g in groups) Train(null, g);
                    return 0;
                }
                using var comm = MpiCommunicator.Create();
                return DistributedRun.Guard(comm, () =>
                {
                    foreach (var g in groups) Train(comm, g);
                    return 0;
                });
            }
            default:
                Console.Error.WriteLine("usage: worker fail | collectives | train (single|ddp|zero1|zero2|zero3 OUTPUT STEPS CHECKPOINT_EVERY RESUME|-)...");
                return 2;
        }
    }

    // Every collective against its definition (MPI 4.0 §6), on values that differ per rank and position.
    private static unsafe int Collectives(ICommunicator comm)
    {
        int n = comm.Size, r = comm.Rank;
        static float V(int rank, int i) => rank * 1000 + i * 0.5f;
        const int len = 37;
        var x = new float[len];
        for (int i = 0; i < len; i++) x[i] = V(r, i);
        comm.AllReduceSum(x);
        for (int i = 0; i < len; i++) Expect(x[i], Enumerable.Range(0, n).Sum(k => V(k, i)), "AllReduceSum(float)");
        var d = new double[] { r + 0.25 };
        comm.AllReduceSum(d);
        Expect((float)d[0], Enumerable.Range(0, n).Sum(k => k + 0.25f), "AllReduceSum(double)");
        var send = new float[len * n];
        for (int i = 0; i < send.Length; i++) send[i] = V(r, i);
        var part = new float[len];
        comm.ReduceScatterSum(send, part);
        for (int i = 0; i < len; i++) Expect(part[i], Enumerable.Range(0, n).Sum(k => V(k, r * len + i)), "ReduceScatterSum");
        var mine = new float[len];
        for (int i = 0; i < len; i++) mine[i] = V(r, i);
        var all = new float[len * n];
        comm.AllGather(mine, all);
        for (int k = 0; k < n; k++) for (int i = 0; i < len; i++) Expect(all[k * len + i], V(k, i), "AllGather");
        // In place: this rank's chunk already sits in the receive buffer.
        var inPlace = new float[len * n];
        for (int i = 0; i < len; i++) inPlace[r * len + i] = V(r, i);
        comm.AllGather(inPlace.AsSpan(r * len, len), inPlace);
        for (int k = 0; k < n; k++) for (int i = 0; i < len; i++) Expect(inPlace[k * len + i], V(k, i), "AllGather in place");
        var b = new float[len];
        if (r == n - 1) for (int i = 0; i < len; i++) b[i] = V(7, i);
        comm.Broadcast(b, n - 1);
        for (int i = 0; i < len; i++) Expect(b[i], V(7, i), "Broadcast(float)");
        var bytes = new byte[5];
        if (r == 0) bytes = [1, 2, 3, 4, 5];
        comm.Broadcast(bytes, 0);
        if (!bytes.SequenceEqual(new byte[] { 1, 2, 3, 4, 5 })) throw new InvalidOperationException("Broadcast(byte) gave " + string.Join(",", bytes));
        // A ring of point-to-point messages.
        var outgoing = new float[len];
        for (int i = 0; i < len; i++) outgoing[i] = V(r, i);
        var incoming = new float[len];
        if (r % 2 == 0) { comm.Send(outgoing, (r + 1) % n, 9); comm.Receive(incoming, (r - 1 + n) % n, 9); }
        else { comm.Receive(incoming, (r - 1 + n) % n, 9); comm.Send(outgoing, (r + 1) % n, 9); }
        for (int i = 0; i < len; i++) Expect(incoming[i], V((r - 1 + n) % n, i), "Send/Receive");
        // Non-blocking, on native memory.
        using var native = new Loom.Core.Tensors.NativeBuffer(len * sizeof(float));
        var span = native.AsSpan<float>(0, len);
        for (int i = 0; i < len; i++) span[i] = V(r, i);
        var request = comm.StartAllReduceSum((nint)native.Pointer, len);
        while (!comm.Test(request)) { }
        comm.Wait(request);
        for (int i = 0; i < len; i++) Expect(span[i], Enumerable.Range(0, n).Sum(k => V(k, i)), "StartAllReduceSum");
        using var gathered = new Loom.Core.Tensors.NativeBuffer(len * n * sizeof(float));
        for (int i = 0; i < len; i++) span[i] = V(r, i);
        request = comm.StartAllGather((nint)native.Pointer, len, (nint)gathered.Pointer);
        comm.Wait(request);
        var g = gathered.AsSpan<float>(0, len * n);
        for (int k = 0; k < n; k++) for (int i = 0; i < len; i++) Expect(g[k * len + i], V(k, i), "StartAllGather");
        comm.Barrier();
        Console.WriteLine($"rank {r} of {n} (local {comm.LocalRank}): collectives ok");
        return 0;
    }

    private static void Expect(float got, float want, string what)
    {
        if (got != want) throw new InvalidOperationException($"{what}: got {got}, expected {want}");
    }

    /// <summary>The tiny GPT-2 run every equality test trains: 20 steps, global batch 4 × 2 windows of 16.</summary>
    public static readonly Gpt2Config Tiny = new() { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 2 };

    public static TrainOptions Options(int steps, int every) => new()
    {
        BatchSize = 4, GradientAccumulation = 2, SequenceLength = 16, MaxSteps = steps, LearningRate = 1e-2f, MinLearningRate = 1e-3f,
        WarmupSteps = 3, EvalEvery = 1000, EvalBatches = 1, CheckpointEvery = every, KeepCheckpoints = 5, Seed = 5,
    };

    // A token stream with structure to learn (a noisy arithmetic pattern), the same on every rank.
    public static int[] Tokens(int count, int seed)
    {
        var rng = new Loom.Training.Loop.SplitMix64((ulong)seed);
        var t = new int[count];
        for (int i = 0; i < count; i++) t[i] = rng.Next(10) == 0 ? rng.Next(64) : (i * 7 + i / 5) % 64;
        return t;
    }

    private static void Train(ICommunicator? comm, string[] run)
    {
        string mode = run[0], output = run[1];
        var options = Options(int.Parse(run[2], CultureInfo.InvariantCulture), int.Parse(run[3], CultureInfo.InvariantCulture));
        string? resume = run[4] == "-" ? null : run[4];
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(11);
        var tokens = Tokens(6000, 3);
        var train = new WindowBatches(tokens[..5000], options.BatchSize, options.SequenceLength, options.Seed);
        var validation = new WindowBatches(tokens[5000..], options.BatchSize, options.SequenceLength, seed: 0);
        if (mode == "single")
        {
            LanguageModelTraining.Train(model, train, validation, options, output, resumeFrom: resume);
            return;
        }
        if (comm == null) throw new ArgumentException($"{mode} runs need mpirun; single-process runs cannot be mixed with them in one job.");
        var strategy = Enum.Parse<DataParallelStrategy>(mode, ignoreCase: true);
        using var parallel = new DataParallelism(comm, model, strategy, options.LearningRate, options.WeightDecay);
        LanguageModelTraining.Train(model, train, validation, options, output, resumeFrom: resume, parallel: parallel);
        var mem = parallel.Memory;
        Console.WriteLine($"rank {comm.Rank} {mode}: memory parameters {mem.Parameters} gradients {mem.Gradients} optimizer {mem.OptimizerState} peak-gathered {mem.PeakGatheredParameters}");
    }
}
