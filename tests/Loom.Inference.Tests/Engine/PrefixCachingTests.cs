// Prefix caching in the engine, checked against the same engine with it off (which prefills every
// prompt in full): the same requests with the same seeds give the same tokens; requests sharing a
// long system prompt prefill it once (the hit counter counts exactly the whole shared blocks);
// n > 1 completions of one prompt share its blocks; and after concurrent load with cancellations
// every block is back (used 0) while the shared prompt blocks stay cached for the next request.
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Models;

namespace Loom.Inference.Tests.Engine;

public class PrefixCachingTests
{
    private const string System = "the cat sat on the mat. the dog sat on the log. where is the cat? ";

    private static InferenceEngine Engine(bool prefixCaching, string family = "gpt2", double megabytes = 4) =>
        new(TinyModels.Create(family, context: 96), TinyModels.Tokenizer,
            new InferenceEngineOptions { BlockSize = 4, KvCacheMegabytes = megabytes, PrefixCaching = prefixCaching }, ownsModel: true);

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public async Task SharedSystemPromptGivesTheSameTokensAndIsPrefilledOnce(string family)
    {
        string[] questions = ["the dog", "where is the", "said the cat", "on the log"];
        var requests = questions.Select((q, i) => new GenerationRequest(System + q, new SamplingOptions { MaxNewTokens = 8, Temperature = i % 2 == 0 ? 0f : 1f, Seed = 5 + i })).ToArray();
        using var off = Engine(false, family);
        using var on = Engine(true, family);
        var want = new List<GenerationResult>();
        foreach (var r in requests) want.Add(await off.GenerateAsync(r));
        // One after the other: from the second request on, the system prompt's whole blocks come from the cache.
        foreach (var (r, i) in requests.Select((r, i) => (r, i)))
        {
            var got = await on.GenerateAsync(r);
            Assert.Equal(want[i].Choices[0].TokenIds, got.Choices[0].TokenIds);
            Assert.Equal(want[i].Usage, got.Usage);
        }
        int shared = SharedWholeBlocks(on, requests.Select(r => r.Prompt!).ToArray()) * 4;
        Assert.True(shared >= 16, $"the test's prompts should share at least 4 blocks; they share {shared} tokens");
        Assert.Equal((long)shared * (requests.Length - 1), on.Statistics.PrefixCacheHitTokens);
        Assert.Equal(0, off.Statistics.PrefixCacheHitTokens);
        // Computed prompt tokens: with the cache, the shared blocks are prefilled once.
        Assert.Equal(off.Statistics.PromptTokens - on.Statistics.PrefixCacheHitTokens, on.Statistics.PromptTokens);
        // Concurrently too, and the same again.
        var together = await Task.WhenAll(requests.Select(r => on.GenerateAsync(r)));
        for (int i = 0; i < requests.Length; i++) Assert.Equal(want[i].Choices[0].TokenIds, together[i].Choices[0].TokenIds);
        Assert.Equal(0, on.Statistics.UsedBlocks);
        Assert.True(on.Statistics.CachedBlocks > 0);
    }

    [Fact]
    public async Task NCompletionsShareTheirPromptBlocks()
    {
        var request = new GenerationRequest(System, new SamplingOptions { MaxNewTokens = 6, Temperature = 1f, Seed = 9, N = 3 });
        using var off = Engine(false);
        using var on = Engine(true);
        var want = await off.GenerateAsync(request);
        var got = await on.GenerateAsync(request);
        for (int k = 0; k < 3; k++) Assert.Equal(want.Choices[k].TokenIds, got.Choices[k].TokenIds);
        int prompt = on.EncodePrompt(request).Length;
        int whole = (prompt - 1) / 4 * 4;   // the last prompt token is always computed: its logits start the completion
        Assert.Equal(2L * whole, on.Statistics.PrefixCacheHitTokens);
        Assert.Equal(3L * prompt - 2L * whole, on.Statistics.PromptTokens);
        Assert.Equal(3L * prompt, off.Statistics.PromptTokens);
        Assert.Equal(0, on.Statistics.UsedBlocks);
    }

    [Fact]
    public async Task EveryBlockComesBackAfterLoadWithCancellationsAndTheCacheIsEvictedWhenFull()
    {
        // A pool of 40 blocks of 4 positions: requests need evictions of cached blocks to fit.
        var kv = ((IBatchedDecoder)TinyModels.Create("gpt2", context: 96)).KvShape;
        double blockMb = kv.FloatsPerPosition * 4 * sizeof(float) / (1024.0 * 1024.0);
        using var on = Engine(true, megabytes: blockMb * 40);
        using var off = Engine(false);
        var rng = new Random(3);
        string[] tails = ["the dog", "where is the", "said the cat", "on the log", "the mat", "is on"];
        var jobs = Enumerable.Range(0, 40).Select(i => (
            Request: new GenerationRequest((i % 4 == 0 ? "" : System) + tails[i % tails.Length] + (i % 5 == 0 ? $" {i}" : ""), new SamplingOptions { MaxNewTokens = 3 + rng.Next(10), Temperature = 1f, Seed = i, N = 1 + i % 3 }),
            CancelAfter: rng.NextDouble() < 0.3 ? 1 + rng.Next(6) : -1)).ToList();
        var results = await Task.WhenAll(jobs.Select(j => Task.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            var chunks = new List<GenerationChunk>();
            await foreach (var c in on.GenerateStreamingAsync(j.Request, cts.Token))
            {
                chunks.Add(c);
                if (chunks.Count == j.CancelAfter) cts.Cancel();
            }
            return (chunks, cts.IsCancellationRequested);
        })));
        for (int i = 0; i < jobs.Count; i++)
        {
            var (chunks, cancelled) = results[i];
            if (cancelled) continue;
            var alone = await off.GenerateAsync(jobs[i].Request);
            for (int k = 0; k < jobs[i].Request.Sampling.N; k++)
                Assert.Equal(alone.Choices[k].TokenIds, chunks.Where(c => c.Index == k && c.TokenId != null).Select(c => c.TokenId!.Value));
        }
        var stats = on.Statistics;
        Assert.Equal(0, stats.UsedBlocks);
        Assert.Equal(0, stats.Running + stats.Waiting);
        Assert.True(stats.PrefixCacheHitTokens > 0);
        Assert.InRange(stats.CachedBlocks, 1, stats.TotalBlocks);
    }

    // Whole blocks of 4 tokens every prompt starts with (never the last prompt token).
    private static int SharedWholeBlocks(InferenceEngine engine, string[] prompts)
    {
        var ids = prompts.Select(p => engine.EncodePrompt(new GenerationRequest(p))).ToArray();
        int common = ids.Min(p => p.Length - 1);
        for (int j = 0; j < common; j++)
            if (ids.Any(p => p[j] != ids[0][j])) { common = j; break; }
        return common / 4;
    }
}
