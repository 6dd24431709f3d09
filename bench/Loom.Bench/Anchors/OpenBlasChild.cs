// Runs the gemm suite's OpenBLAS anchor in a child process with OPENBLAS_CORETYPE set, because
// OpenBLAS reads the variable once when it loads (the environment here sets Haswell, which
// forces its AVX2 kernels on an AVX-512 CPU). The child is this same benchmark program with
// LOOM_BENCH_CHILD=openblas (SelfProcess). It stays up for the whole suite and is asked for one
// case at a time, just before the parent times Loom on the same case, so the two figures of a
// ratio are taken seconds apart. (Until 2026-12-02 each child timed every case first and Loom ran
// last: in a full run the anchor's and Loom's figure of a case were minutes apart, and a host that
// slowed down meanwhile — the hour of the 14:29 run, whose anchors were 8–16% slower than at 11:05 —
// showed up as a ratio Loom could not move.) Protocol, one tab-separated line each way:
//   child → parent, once:   corename<TAB>SkylakeX
//   parent → child:         case<TAB><case name>
//   child → parent:         anchor<TAB><case name><TAB><GFLOP/s>   (or error<TAB><case name><TAB><message>)
// The child answers only once its process is idle again (WaitUntilIdle), so OpenBLAS's worker
// threads, which poll for work for a while after each call, are not still running while Loom is timed.
using System.Diagnostics;
using System.Globalization;

namespace Loom.Bench.Anchors;

/// <summary>One OpenBLAS anchor child, under one core type, answering one case at a time.</summary>
internal sealed class OpenBlasChild : IDisposable
{
    private readonly Process? _process;
    private readonly System.Text.StringBuilder _stderr = new();

    /// <summary>True in the child process.</summary>
    public static bool IsChild => SelfProcess.ChildRole == "openblas";

    /// <summary>The OPENBLAS_CORETYPE this child was started with.</summary>
    public string CoreType { get; }

    /// <summary>openblas_get_corename() in the child.</summary>
    public string? CoreName { get; }

    /// <summary>Why the child cannot answer (it failed to start or exited), or null.</summary>
    public string? Error { get; private set; }

    private OpenBlasChild(string coreType, BenchContext ctx)
    {
        CoreType = coreType;
        try
        {
            _process = SelfProcess.Start("gemm", "openblas", ctx, new Dictionary<string, string> { ["OPENBLAS_CORETYPE"] = coreType });
            _process.ErrorDataReceived += (_, e) => { if (e.Data is { } d) lock (_stderr) _stderr.AppendLine(d); };
            _process.BeginErrorReadLine();
            while (ReadLine() is { } parts)
                if (parts is ["corename", var name]) { CoreName = name; return; }
            Fail("it exited before naming its kernels");
        }
        catch (Exception e)
        {
            Error = e.Message;
        }
    }

    /// <summary>Starts the anchor child for <paramref name="coreType"/>; check <see cref="Error"/>.</summary>
    public static OpenBlasChild Start(string coreType, BenchContext ctx) => new(coreType, ctx);

    /// <summary>OpenBLAS's GFLOP/s on <paramref name="caseName"/>, measured now; null if the child failed (see <see cref="Error"/>).</summary>
    public double? Measure(string caseName)
    {
        if (Error is not null || _process is null) return null;
        try
        {
            _process.StandardInput.WriteLine($"case\t{caseName}");
            _process.StandardInput.Flush();
        }
        catch (IOException e)
        {
            Fail(e.Message);
            return null;
        }
        while (ReadLine() is { } parts)
        {
            if (parts is ["anchor", var name, var rate] && name == caseName) return double.Parse(rate, CultureInfo.InvariantCulture);
            if (parts is ["error", var failed, var message] && failed == caseName)
            {
                Fail(message);
                return null;
            }
        }
        Fail("it exited");
        return null;
    }

    private string[]? ReadLine() => _process!.StandardOutput.ReadLine()?.Split('\t');

    private void Fail(string why)
    {
        if (_process is { HasExited: false }) _process.Kill();
        _process?.WaitForExit();
        string stderr;
        lock (_stderr) stderr = _stderr.ToString().Trim();
        Error = $"child failed ({why}){(_process is { HasExited: true } ? $", exit code {_process.ExitCode}" : "")}{(stderr.Length > 0 ? $": {stderr}" : "")}";
    }

    /// <summary>Closes the child's input (it exits) and waits for it.</summary>
    public void Dispose()
    {
        if (_process is null) return;
        try
        {
            if (!_process.HasExited) _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000)) _process.Kill();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // Already gone: nothing to clean up.
        }
        _process.Dispose();
    }

    /// <summary>
    /// In the child: returns once the process has used under 1 ms of CPU time in 20 ms (at most 2 s),
    /// i.e. once OpenBLAS's worker threads have stopped polling for work (its pthreads server keeps them
    /// polling for a thread timeout after each call before they sleep) and no longer compete with the
    /// parent's timing of Loom for the cores.
    /// </summary>
    public static void WaitUntilIdle()
    {
        var total = Stopwatch.StartNew();
        double before = BenchContext.ProcessCpuSeconds();
        while (total.Elapsed.TotalSeconds < 2)
        {
            Thread.Sleep(20);
            double now = BenchContext.ProcessCpuSeconds();
            if (now - before < 1e-3) return;
            before = now;
        }
    }
}
