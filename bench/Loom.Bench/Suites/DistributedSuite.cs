// The `distributed` suite: data-parallel training over MPI on this machine. The suite launches
// `mpirun -np R` on this very program (LOOM_BENCH_CHILD=mpi-rank) for R = 1 and 2; rank 0 prints
// tab-separated rows that the parent collects. Rows:
//   allreduce <bytes> ranks=2     algbw and busbw (nccl-tests' definitions: busbw = algbw·2(N−1)/N),
//                                 MPI_Allreduce of floats over loopback/shared memory;
//   <model> <strategy> ranks=R    per-rank bytes of parameters, gradients and optimizer state held
//                                 between steps (ZeRO's accounting), ZeRO-3's peak gathered bytes,
//                                 seconds per step and tokens/s (global batch fixed: strong scaling);
//   <model> <strategy> scaling    efficiency = time(1 rank) / (2 · time(2 ranks)).
// Anchors: none — there is no other data-parallel trainer for this model on this machine to compare
// with; the figures are Loom's own. One thread per rank. On a machine shared with other jobs the
// timings are noisy (the memory rows are exact).
using System.Diagnostics;
using System.Globalization;
using Loom.Distributed.Communication;
using Loom.Distributed.DataParallel;
using Loom.Models.Gpt2;
using Loom.Training.Loop;

namespace Loom.Bench.Suites;

internal static class DistributedSuite
{
    private const string Role = "mpi-rank";
    private static readonly string[] Strategies = ["ddp", "zero1", "zero2", "zero3"];
    // ~6.6M parameters: 6 blocks of 0.79M and a 4096×256 embedding, so that the blocks dominate as they do in larger models.
    private static readonly Gpt2Config Model = new() { VocabSize = 4096, MaxPositions = 128, Embedding = 256, Layers = 6, Heads = 8 };
    private const string ModelName = "gpt2 6L-256";

    public static void Run(BenchContext ctx)
    {
        if (SelfProcess.ChildRole == Role)
        {
            RunRank(ctx);
            return;
        }
        int steps = ctx.Steps ?? 6;
        // The timings mean little on a machine shared with other jobs: say how shared it was.
        if (File.Exists("/proc/loadavg"))
        {
            double load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
            ctx.Rows.Add(new BenchRow($"machine {Environment.ProcessorCount} cores", "load_average_1m", load, "runnable tasks"));
            Console.WriteLine($"load average {load} on {Environment.ProcessorCount} cores");
        }
        var times = new Dictionary<(string, int), double>();
        foreach (int ranks in new[] { 1, 2 })
        {
            var (lines, error) = Launch(ranks, steps, ctx.Filter);
            if (error != null) { Console.WriteLine($"ranks={ranks}: {error}"); continue; }
            foreach (var l in lines)
            {
                if (l.Length != 4) continue;
                var row = new BenchRow(l[0], l[1], double.Parse(l[2], CultureInfo.InvariantCulture), l[3]);
                ctx.Rows.Add(row);
                Console.WriteLine($"{row.Case,-40} {row.Metric,-26} {row.Value,14:G6} {row.Unit}");
                if (row.Metric == "s_per_step") times[(row.Case.Split(' ')[^2], ranks)] = row.Value;
            }
        }
        foreach (var s in Strategies)
            if (times.TryGetValue((s, 1), out double t1) && times.TryGetValue((s, 2), out double t2))
            {
                double efficiency = t1 / (2 * t2);
                ctx.Rows.Add(new BenchRow($"{ModelName} {s} scaling 1→2 ranks", "efficiency", Math.Round(efficiency, 3), "ratio"));
                Console.WriteLine($"{ModelName} {s} scaling 1→2 ranks: efficiency {efficiency:P0} (time per step {t1:F3} s → {t2:F3} s)");
            }
    }

    // mpirun on this program; only rank 0 prints rows.
    private static (List<string[]> Lines, string? Error) Launch(int ranks, int steps, string? filter)
    {
        string exe = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo("mpirun") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-np", ranks.ToString(CultureInfo.InvariantCulture), "--oversubscribe", "--bind-to", "none", "-x", "LOOM_THREADS=1", "-x", $"{SelfProcess.ChildVariable}={Role}", exe }) psi.ArgumentList.Add(a);
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(typeof(DistributedSuite).Assembly.Location);
        foreach (var a in new[] { "distributed", "--threads", "1", "--steps", steps.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        if (filter != null) { psi.ArgumentList.Add("--filter"); psi.ArgumentList.Add(filter); }
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { return ([], "mpirun not found: apt-get install openmpi-bin libopenmpi-dev"); }
        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            var lines = new List<string[]>();
            while (p.StandardOutput.ReadLine() is { } line) lines.Add(line.Split('\t'));
            p.WaitForExit();
            return (lines, p.ExitCode == 0 ? null : $"mpirun exited {p.ExitCode}: {stderr.Result.Trim()}");
        }
    }

    private static void RunRank(BenchContext ctx)
    {
        using var comm = MpiCommunicator.Create();
        void Row(string name, string metric, double value, string unit)
        {
            if (comm.Rank == 0) Console.WriteLine(string.Join('\t', name, metric, value.ToString("R", CultureInfo.InvariantCulture), unit));
        }
        if (comm.Size > 1) AllReduceBandwidth(comm, Row, ctx);
        foreach (var s in Strategies)
        {
            string name = $"{ModelName} {s} ranks={comm.Size}";
            if (!ctx.Selected(name)) continue;
            Train(comm, Enum.Parse<DataParallelStrategy>(s, ignoreCase: true), ctx.Steps ?? 6, name, Row);
        }
    }

    private static void AllReduceBandwidth(ICommunicator comm, Action<string, string, double, string> row, BenchContext ctx)
    {
        foreach (int floats in new[] { 256, 16 << 10, 256 << 10, 4 << 20, 16 << 20 })
        {
            long bytes = floats * 4L;
            string name = $"allreduce {bytes} B ranks={comm.Size}";
            if (!ctx.Selected(name)) continue;
            var buffer = new float[floats];
            comm.AllReduceSum(buffer);   // warm-up: connections and buffers set up
            int reps = Math.Max(3, (int)Math.Min(200, (64L << 20) / bytes));
            comm.Barrier();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) comm.AllReduceSum(buffer);
            double t = sw.Elapsed.TotalSeconds / reps;
            // Every rank's time counts: the slowest one is the collective's.
            Span<double> slowest = [t];
            comm.AllReduceSum(slowest);
            t = slowest[0] / comm.Size;
            double algbw = bytes / t, busbw = algbw * 2 * (comm.Size - 1) / comm.Size;
            row(name, "seconds", t, "s");
            row(name, "algbw", algbw / 1e9, "GB/s");
            row(name, "busbw", busbw / 1e9, "GB/s");
        }
    }

    private static void Train(ICommunicator comm, DataParallelStrategy strategy, int steps, string name, Action<string, string, double, string> row)
    {
        var options = new TrainOptions { BatchSize = 8, SequenceLength = 64, GradientAccumulation = 1, MaxSteps = steps + 2, WarmupSteps = 1, LearningRate = 1e-3f };
        using var model = new Gpt2Model(Model);
        model.InitializeWeights(1);
        var rng = new SplitMix64(7);
        var tokens = new int[200_000];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = rng.Next(Model.VocabSize);
        var batches = new WindowBatches(tokens, options.BatchSize, options.SequenceLength, options.Seed);
        using var parallel = new DataParallelism(comm, model, strategy, options.LearningRate, options.WeightDecay);
        using var step = new TrainingStep(model, batches, options, parallel);
        step.Run(0);   // plans, JIT
        step.Run(1);
        var times = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            comm.Barrier();
            long start = Stopwatch.GetTimestamp();
            step.Run(2 + i);
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2], best = times[0];
        var memory = parallel.Memory;
        row(name, "parameter_bytes", memory.Parameters, "B");
        row(name, "gradient_bytes", memory.Gradients, "B");
        row(name, "optimizer_bytes", memory.OptimizerState, "B");
        row(name, "model_state_bytes", memory.ModelStates, "B");
        if (strategy == DataParallelStrategy.Zero3) row(name, "peak_gathered_parameter_bytes", memory.PeakGatheredParameters, "B");
        row(name, "s_per_step", median, "s");
        row(name, "s_per_step_min", best, "s");   // least disturbed by other jobs
        row(name, "tokens_per_s", options.BatchSize * options.SequenceLength / median, "tokens/s");
    }
}
