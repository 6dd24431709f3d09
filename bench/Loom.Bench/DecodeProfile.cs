// LOOM_DECODE_PROFILE=1: where a decode step's time goes (issues 13 §4, 15 §6), as LOOM_TRAIN_PROFILE does for
// a training step. After a suite's timed decode, the same tokens run once more with OpProfiler on — every line of
// the paged forward (Gpt2Model.ForwardPaged: embedding, ln_1, c_attn, kv write, attend, attn.c_proj, residual,
// ln_2, c_fc, gelu, mlp.c_proj, ln_f, lm_head) in its own scope — and each op's time per token is printed and
// kept as rows `<case> profile <op>` (ms_per_token), beside the whole step's and the part in no op (row
// bookkeeping, the bench's own loop). Clock: the calling thread's CPU time with one thread (exact and not
// inflated by time spent descheduled: every kernel runs inline on the caller); wall time with more (a parallel
// op then includes its hand-off and join). Scopes cost a clock read each (a system call for the thread clock),
// so the profiled step is a little slower than the timed one.
using Loom.Core.Diagnostics;

namespace Loom.Bench;

internal static class DecodeProfile
{
    /// <summary>Whether LOOM_DECODE_PROFILE=1 asks for a profile.</summary>
    public static bool Requested => Environment.GetEnvironmentVariable("LOOM_DECODE_PROFILE") == "1";

    /// <summary>Runs <paramref name="step"/> <paramref name="tokens"/> times profiled and reports per-op time per call.</summary>
    public static void Run(BenchContext ctx, string label, int threads, int tokens, Action step)
    {
        OpProfiler.Clock = threads == 1 ? ProfilerClock.ThreadCpu : ProfilerClock.Wall;
        OpProfiler.Reset();
        OpProfiler.Enabled = true;
        try
        {
            for (int t = 0; t < tokens; t++)
                using (OpProfiler.Op("step", "decode step"))
                    step();
        }
        finally
        {
            OpProfiler.Enabled = false;
        }
        var ops = OpProfiler.Snapshot();
        OpProfiler.Reset();
        double total = ops.Where(o => o.Category == "step").Sum(o => o.Seconds) / tokens;
        string clock = threads == 1 ? "calling thread's CPU time" : "wall time";
        Console.WriteLine($"  profile of {label} ({clock}, {tokens} steps): {total * 1e3:F3} ms/step");
        double counted = 0;
        foreach (var op in ops.Where(o => o.Category != "step"))
        {
            double sec = op.Seconds / tokens;
            counted += sec;
            Console.WriteLine($"    {op.Category,-12} {op.Name,-12} {sec * 1e3,9:F3} ms/step {op.Calls / (double)tokens,5:F0} calls {sec / total,7:P1}");
            ctx.Rows.Add(new BenchRow($"{label} profile {op.Name}", "ms_per_step", Math.Round(sec * 1e3, 4), "ms"));
        }
        foreach (var g in ops.Where(o => o.Category != "step").GroupBy(o => o.Category).OrderByDescending(g => g.Sum(o => o.Seconds)))
        {
            double sec = g.Sum(o => o.Seconds) / tokens;
            Console.WriteLine($"  {g.Key,-27} {sec * 1e3,9:F3} ms/step {"",11} {sec / total,7:P1}");
        }
        Console.WriteLine($"  {"(in no op)",-27} {(total - counted) * 1e3,9:F3} ms/step {"",11} {(total - counted) / total,7:P1}");
        ctx.Rows.Add(new BenchRow($"{label} profile step", "ms_per_step", Math.Round(total * 1e3, 4), "ms"));
        ctx.Rows.Add(new BenchRow($"{label} profile other", "ms_per_step", Math.Round((total - counted) * 1e3, 4), "ms"));
    }
}
