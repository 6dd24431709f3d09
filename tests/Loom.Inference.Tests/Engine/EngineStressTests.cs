// The engine side of issue 13 §5: many concurrent requests on a small pool, a random third of them
// cancelled at random moments (clients that disconnect) — every stream ends with exactly one finish
// chunk per completion and usage on the last, the ones left alone give what they give alone, and
// every KV block is back in the pool afterwards.
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Models;

namespace Loom.Inference.Tests.Engine;

public class EngineStressTests
{
    [Fact]
    public async Task ManyRequestsWithRandomDisconnectsReturnEveryBlock()
    {
        var kv = ((IBatchedDecoder)TinyModels.Create("llama")).KvShape;
        double blockMb = kv.FloatsPerPosition * 4 * sizeof(float) / (1024.0 * 1024.0);
        using var engine = new InferenceEngine(TinyModels.Create("llama"), TinyModels.Tokenizer,
            new InferenceEngineOptions { BlockSize = 4, KvCacheMegabytes = blockMb * 40, MaxBatch = 12, MaxBatchTokens = 24 }, ownsModel: true);
        using var solo = new InferenceEngine(TinyModels.Create("llama"), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4 }, ownsModel: true);
        string[] prompts = ["the cat", "the dog sat on", "where is", "on the mat, said the", "the"];
        var rng = new Random(11);
        var jobs = Enumerable.Range(0, 60).Select(i => (
            Request: new GenerationRequest(prompts[i % prompts.Length], new SamplingOptions { MaxNewTokens = 5 + rng.Next(25), Temperature = i % 3 == 0 ? 0f : 1f, Seed = i, N = 1 + i % 2 }),
            CancelAfter: rng.NextDouble() < 0.35 ? rng.Next(0, 8) : -1)).ToList();

        async Task<(List<GenerationChunk> Chunks, bool Cancelled)> Run(GenerationRequest request, int cancelAfter)
        {
            using var cts = new CancellationTokenSource();
            var chunks = new List<GenerationChunk>();
            if (cancelAfter == 0)
            {
                // A token cancelled before the call throws and queues nothing (as every .NET async API does).
                cts.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { await foreach (var _ in engine.GenerateStreamingAsync(request, cts.Token)) { } });
                return (chunks, true);
            }
            await foreach (var c in engine.GenerateStreamingAsync(request, cts.Token))
            {
                chunks.Add(c);
                if (cancelAfter > 0 && chunks.Count == cancelAfter) cts.Cancel();
            }
            return (chunks, cts.IsCancellationRequested);
        }

        var results = await Task.WhenAll(jobs.Select(j => Task.Run(() => Run(j.Request, j.CancelAfter))));
        for (int i = 0; i < jobs.Count; i++)
        {
            var (chunks, cancelled) = results[i];
            if (jobs[i].CancelAfter == 0) { Assert.Empty(chunks); continue; }
            int n = jobs[i].Request.Sampling.N;
            Assert.Equal(n, chunks.Count(c => c.FinishReason != null));
            for (int k = 0; k < n; k++) Assert.Single(chunks, c => c.Index == k && c.FinishReason != null);
            Assert.NotNull(chunks[^1].Usage);
            Assert.Equal(chunks.Count(c => c.TokenId != null), chunks[^1].Usage!.CompletionTokens);
            if (!cancelled)
            {
                var alone = await solo.GenerateAsync(jobs[i].Request);
                for (int k = 0; k < n; k++)
                    Assert.Equal(alone.Choices[k].TokenIds, chunks.Where(c => c.Index == k && c.TokenId != null).Select(c => c.TokenId!.Value));
            }
        }
        Assert.Contains(results, r => r.Cancelled);
        await EngineIdle.WaitAsync(engine);
        var stats = engine.Statistics;
        Assert.Equal(0, stats.UsedBlocks);
        Assert.Equal(0, stats.Running);
        Assert.Equal(0, stats.Waiting);
        Assert.Equal(stats.TotalBlocks, stats.FreeBlocks);
    }
}
