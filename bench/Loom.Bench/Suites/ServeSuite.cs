// The `serve` suite (issue 13 §4): aggregate decode throughput and latency through the real `loom serve`,
// run as a child process on loopback over a random-weight GPT-2 124M directory written to a temp
// folder, driven by a load generator in this process (HttpClient, streaming /v1/completions, SSE read
// line by line). Bounded in count (clients × rounds requests of a fixed length) and in time (each
// phase is cancelled after LOOM_BENCH_SERVE_TIMEOUT seconds, default 240).
//   `serve c=C threads=T`   C concurrent streaming clients, each sending `rounds` requests one after
//                           the other: 16-token prompt, max_tokens fixed, logit_bias −100 on
//                           <|endoftext|> so every completion has exactly max_tokens tokens (counted
//                           from the usage chunk, stream_options.include_usage); temperature 1 with a
//                           per-request seed. Rows: aggregate tokens/s on the wall clock and per second
//                           of the server's own CPU time ÷ threads (its Process.TotalProcessorTime: the
//                           load generator's parsing does not count), p50/p99 time to first token and
//                           inter-token latency (wall clock, milliseconds).
//   `serve c=16 vs c=1`     the two ratios (wall and server-CPU); the issue's target is ≥ 6×.
//   `prefix ...`            a shared-system-prompt workload (one long system prompt + a short user
//                           suffix, 4 clients) on a server with --prefix-caching off, then on: TTFT
//                           p50 and the server's prefill CPU time per request, and the ratio.
// After each phase the server's /metrics must show every KV block back in the pool (loom_kv_blocks_used 0).
// Options: --threads (LOOM_THREADS of the server), --steps N (max_tokens, default 64), --filter tiny (a
// 2-layer 64-wide model, to check the suite end to end in seconds), --filter prefix / --filter decode
// (one half). LOOM_BENCH_LOOM names the loom executable (default: src/Loom.Cli's Release build).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Loom.Bench.Suites.Finetune;
using Loom.Models;
using Loom.Models.Gpt2;

namespace Loom.Bench.Suites;

internal static class ServeSuite
{
    private const int Rounds = 2;

    public static void Run(BenchContext ctx)
    {
        bool tiny = ctx.Filter?.Contains("tiny", StringComparison.OrdinalIgnoreCase) == true;
        bool decode = ctx.Filter is null || !ctx.Filter.Contains("prefix", StringComparison.OrdinalIgnoreCase);
        bool prefix = ctx.Filter is null || !ctx.Filter.Contains("decode", StringComparison.OrdinalIgnoreCase);
        int maxTokens = ctx.Steps ?? 64;
        string root = Path.Combine(Path.GetTempPath(), "loom-bench-serve-" + Guid.NewGuid().ToString("N"));
        string dir = Path.Combine(root, tiny ? "gpt2-tiny" : "gpt2-124M");
        try
        {
            WriteModel(dir, tiny);
            foreach (int threads in ctx.Threads)
            {
                if (decode)
                {
                    using var server = ServerProcess.Start(dir, threads, prefixCaching: false);
                    var results = new Dictionary<int, Phase>();
                    server.Warm();
                    foreach (int c in new[] { 1, 4, 16 })
                    {
                        var phase = server.Load(c, Rounds, maxTokens, prompt: i => $"Request {i} asks the server to go on with this short text of several words", seed0: 100 * c);
                        results[c] = phase;
                        Report(ctx, $"serve c={c} threads={threads}", phase, threads);
                    }
                    double wall = results[16].TokensPerSecond / results[1].TokensPerSecond;
                    double cpu = results[16].TokensPerCpuSecond(threads) / results[1].TokensPerCpuSecond(threads);
                    ctx.Rows.Add(new BenchRow($"serve c=16 vs c=1 threads={threads}", "ratio_wall", Math.Round(wall, 2), "x"));
                    ctx.Rows.Add(new BenchRow($"serve c=16 vs c=1 threads={threads}", "ratio_server_cpu", Math.Round(cpu, 2), "x"));
                    Console.WriteLine($"serve threads={threads}: 16 streams ÷ 1 stream = {wall:F2}x (wall), {cpu:F2}x (server CPU time); target ≥ 6x");
                }
                if (prefix)
                {
                    // A ~400-token shared system prompt, 4 clients, short completions: TTFT is mostly prefill.
                    string system = string.Concat(Enumerable.Range(0, 40).Select(i => $"Rule {i}: answer briefly and politely. "));
                    Func<int, string> ask = i => system + $"\nQuestion {i}: what comes next?";
                    var phases = new Dictionary<bool, Phase>();
                    foreach (bool on in new[] { false, true })
                    {
                        using var server = ServerProcess.Start(dir, threads, prefixCaching: on);
                        server.Warm();
                        var phase = server.Load(4, 4, 4, ask, seed0: 7);
                        phases[on] = phase;
                        Report(ctx, $"prefix caching {(on ? "on" : "off")} c=4 threads={threads}", phase, threads);
                        ctx.Rows.Add(new BenchRow($"prefix caching {(on ? "on" : "off")} c=4 threads={threads}", "server_cpu_per_request", Math.Round(phase.ServerCpuSeconds / phase.Requests * 1000, 1), "ms"));
                        if (on) ctx.Rows.Add(new BenchRow($"prefix caching on c=4 threads={threads}", "prefix_cache_hit_tokens", phase.PrefixHitTokens, "tokens"));
                    }
                    double ttft = phases[false].Ttft.Percentile(50) / phases[true].Ttft.Percentile(50);
                    double cpuRatio = phases[false].ServerCpuSeconds / phases[true].ServerCpuSeconds;
                    ctx.Rows.Add(new BenchRow($"prefix caching on vs off threads={threads}", "ttft_p50_ratio", Math.Round(ttft, 2), "x"));
                    ctx.Rows.Add(new BenchRow($"prefix caching on vs off threads={threads}", "server_cpu_ratio", Math.Round(cpuRatio, 2), "x"));
                    Console.WriteLine($"prefix caching threads={threads}: TTFT p50 {ttft:F2}x lower, server CPU {cpuRatio:F2}x lower with it on");
                }
            }
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    private static void Report(BenchContext ctx, string label, Phase p, int threads)
    {
        double cpuRate = p.TokensPerCpuSecond(threads);
        ctx.Rows.Add(new BenchRow(label, "tokens_per_s", Math.Round(p.TokensPerSecond, 1), "tokens/s"));
        ctx.Rows.Add(new BenchRow(label, "tokens_per_server_cpu_s", Math.Round(cpuRate, 1), "tokens/s"));
        ctx.Rows.Add(new BenchRow(label, "ttft_p50", Math.Round(p.Ttft.Percentile(50), 1), "ms"));
        ctx.Rows.Add(new BenchRow(label, "ttft_p99", Math.Round(p.Ttft.Percentile(99), 1), "ms"));
        ctx.Rows.Add(new BenchRow(label, "itl_p50", Math.Round(p.Itl.Percentile(50), 1), "ms"));
        ctx.Rows.Add(new BenchRow(label, "itl_p99", Math.Round(p.Itl.Percentile(99), 1), "ms"));
        Console.WriteLine($"{label,-42} {p.TokensPerSecond,8:F1} tok/s wall {cpuRate,8:F1} tok/s server-CPU  TTFT p50 {p.Ttft.Percentile(50),7:F1} p99 {p.Ttft.Percentile(99),7:F1} ms  ITL p50 {p.Itl.Percentile(50),6:F1} p99 {p.Itl.Percentile(99),6:F1} ms  ({p.Tokens} tokens, {p.Requests} requests)");
    }

    // GPT-2's own byte-level BPE files (tests/Loom.Tokenizers.Tests/Fixtures/gpt2_bpe, MIT) next to a random-weight model.
    private static void WriteModel(string dir, bool tiny)
    {
        Directory.CreateDirectory(dir);
        string bpe = Path.Combine(BenchPaths.RepoRoot, "tests", "Loom.Tokenizers.Tests", "Fixtures", "gpt2_bpe");
        foreach (var f in new[] { "encoder.json", "vocab.bpe" }) File.Copy(Path.Combine(bpe, f), Path.Combine(dir, f));
        var config = tiny ? new Gpt2Config { Layers = 2, Embedding = 64, Heads = 4, MaxPositions = 1024 } : new Gpt2Config();
        using var model = new Gpt2Model(config, ModelOptions.Inference);
        model.InitializeWeights(1);
        model.Save(dir);
    }

    /// <summary>Latencies of one phase, in milliseconds.</summary>
    private sealed class Samples
    {
        private readonly List<double> _values = new();
        public void Add(double ms) { lock (_values) _values.Add(ms); }
        public double Percentile(double p)
        {
            lock (_values)
            {
                if (_values.Count == 0) return double.NaN;
                var sorted = _values.OrderBy(v => v).ToArray();
                // nearest rank (the smallest value with at least p% of the samples at or below it)
                int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
                return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
            }
        }
    }

    private sealed class Phase
    {
        public Samples Ttft { get; } = new();
        public Samples Itl { get; } = new();
        public long Tokens;
        public int Requests;
        public double WallSeconds, ServerCpuSeconds;
        public long PrefixHitTokens;
        public double TokensPerSecond => Tokens / WallSeconds;
        public double TokensPerCpuSecond(int threads) => Tokens / (ServerCpuSeconds / threads);
    }

    /// <summary>`loom serve` as a child process on a free loopback port.</summary>
    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly HttpClient _http;
        private readonly string _model;
        private readonly StringBuilder _log = new();

        private ServerProcess(Process process, Uri address, string model)
        {
            _process = process;
            _model = model;
            _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        }

        public static ServerProcess Start(string dir, int threads, bool prefixCaching)
        {
            int port = FreePort();
            var psi = new ProcessStartInfo(LoomChild.Program()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "serve", "--model", dir, "--port", port.ToString(CultureInfo.InvariantCulture), "--kv-cache-mb", "512", "--max-batch", "64", "--prefix-caching", prefixCaching ? "on" : "off" })
                psi.ArgumentList.Add(a);
            psi.Environment["LOOM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
            psi.Environment["NO_COLOR"] = "1";
            var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
            var server = new ServerProcess(p, new Uri($"http://127.0.0.1:{port}"), Path.GetFileName(dir));
            p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (server._log) server._log.AppendLine(e.Data); };
            p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (server._log) server._log.AppendLine(e.Data); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                if (p.HasExited) throw new InvalidOperationException($"loom serve exited {p.ExitCode}:\n{server._log}");
                try
                {
                    using var health = server._http.GetAsync("/health").GetAwaiter().GetResult();
                    if (health.IsSuccessStatusCode) break;
                }
                catch (HttpRequestException) { }
                if (deadline.Elapsed > TimeSpan.FromSeconds(300)) { server.Dispose(); throw new TimeoutException("loom serve did not answer /health within 300 s."); }
                Thread.Sleep(200);
            }
            return server;
        }

        private static int FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        private double CpuSeconds()
        {
            _process.Refresh();
            return _process.TotalProcessorTime.TotalSeconds;
        }

        /// <summary>A few requests so the JIT and the first allocations are not measured.</summary>
        public void Warm() => Load(2, 1, 8, i => $"warm-up {i}", 1);

        /// <summary>`clients` concurrent clients, each sending `rounds` streaming requests in turn.</summary>
        public Phase Load(int clients, int rounds, int maxTokens, Func<int, string> prompt, int seed0)
        {
            var phase = new Phase();
            double timeout = double.TryParse(Environment.GetEnvironmentVariable("LOOM_BENCH_SERVE_TIMEOUT"), CultureInfo.InvariantCulture, out double t) ? t : 240;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeout));
            long hitsBefore = Metric("loom_prefix_cache_hit_tokens_total");
            double cpu0 = CpuSeconds();
            var wall = Stopwatch.StartNew();
            var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                for (int r = 0; r < rounds; r++)
                {
                    int i = c * rounds + r;
                    await Stream(phase, prompt(i), maxTokens, seed0 + i, cts.Token).ConfigureAwait(false);
                }
            })).ToArray();
            try { Task.WaitAll(tasks); }
            catch (AggregateException e) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"The phase of {clients} clients did not finish in {timeout} s (LOOM_BENCH_SERVE_TIMEOUT).", e);
            }
            phase.WallSeconds = wall.Elapsed.TotalSeconds;
            phase.ServerCpuSeconds = CpuSeconds() - cpu0;
            phase.PrefixHitTokens = Metric("loom_prefix_cache_hit_tokens_total") - hitsBefore;
            // The issue's pool check: after the load every KV block is back (cached prefix blocks count as free).
            long used = -1;
            for (int i = 0; i < 100 && (used = Metric("loom_kv_blocks_used")) != 0; i++) Thread.Sleep(50);
            if (used != 0) throw new InvalidOperationException($"After the load {used} KV blocks are still in use; every block must be back in the pool.");
            return phase;
        }

        private long Metric(string name)
        {
            string text = _http.GetStringAsync("/metrics").GetAwaiter().GetResult();
            foreach (var line in text.Split('\n'))
                if (line.StartsWith(name + " ", StringComparison.Ordinal))
                    return (long)double.Parse(line.AsSpan(name.Length + 1), CultureInfo.InvariantCulture);
            return 0;
        }

        private async Task Stream(Phase phase, string prompt, int maxTokens, int seed, CancellationToken ct)
        {
            var body = new Dictionary<string, object>
            {
                ["model"] = _model, ["prompt"] = prompt, ["max_tokens"] = maxTokens, ["stream"] = true, ["seed"] = seed, ["temperature"] = 1.0,
                ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
                ["logit_bias"] = new Dictionary<string, int> { ["50256"] = -100 },   // never <|endoftext|>: fixed lengths
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
            var sent = Stopwatch.StartNew();
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"loom serve answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)}");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false));
            double last = -1;
            int tokens = -1;
            while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                if (line == "data: [DONE]") break;
                double now = sent.Elapsed.TotalMilliseconds;
                if (line.Contains("\"usage\":{", StringComparison.Ordinal))
                {
                    // The usage chunk (no choices): the exact completion token count.
                    using var doc = JsonDocument.Parse(line.AsMemory(6));
                    tokens = doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
                    continue;
                }
                if (line.Contains("\"error\"", StringComparison.Ordinal)) throw new InvalidOperationException($"The stream carried an error: {line}");
                // Every other event carries at least one token (the server sends no event for a held-back piece).
                if (last < 0) phase.Ttft.Add(now); else phase.Itl.Add(now - last);
                last = now;
            }
            if (tokens != maxTokens) throw new InvalidOperationException($"A completion has {tokens} tokens; max_tokens was {maxTokens} and <|endoftext|> is banned, so every one must have exactly that.");
            Interlocked.Add(ref phase.Tokens, tokens);
            Interlocked.Increment(ref phase.Requests);
        }

        public void Dispose()
        {
            _http.Dispose();
            try { if (!_process.HasExited) { _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); } }
            catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }
}
