// The engine against references: greedy output equals the argmax of the full forward recomputed per
// token; many requests run together (with a pool small enough to force preemption, and prompts longer
// than a step's token budget so prefill is chunked) give what each gives alone; a seeded request
// samples the same tokens whatever it is batched with; cancellation and completion return every block.
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Models;

namespace Loom.Inference.Tests.Engine;

public class InferenceEngineTests
{
    public static TheoryData<string> Families => new() { "gpt2", "llama" };

    private static async Task WaitForIdle(InferenceEngine engine)
    {
        await EngineIdle.WaitAsync(engine);
    }

    [Theory, MemberData(nameof(Families))]
    public async Task GreedyOutputIsTheArgMaxOfTheFullForwardAtEachStep(string family)
    {
        using var reference = TinyModels.Create(family);
        using var engine = new InferenceEngine(TinyModels.Create(family), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4, KvCacheMegabytes = 1 }, ownsModel: true);
        var result = await engine.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 20 }));

        var ids = new List<int>(TinyModels.Tokenizer.Encode("the cat"));
        var expected = new List<int>();
        for (int i = 0; i < 20; i++) { int next = TinyModels.ArgMax(TinyModels.FullLogits(reference, ids)); ids.Add(next); expected.Add(next); }
        var choice = Assert.Single(result.Choices);
        Assert.Equal(expected, choice.TokenIds);
        Assert.Equal(TinyModels.Tokenizer.Decode(expected.ToArray()), choice.Text);
        Assert.Equal(FinishReason.Length, choice.FinishReason);
        Assert.Equal(new GenerationUsage(2, 20), result.Usage with { });
        Assert.Equal(TinyModels.Tokenizer.Encode("the cat").Length, result.Usage.PromptTokens);
        await WaitForIdle(engine);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
    }

    [Theory, MemberData(nameof(Families))]
    public async Task ConcurrentRequestsWithPreemptionAndChunkedPrefillEqualEachAlone(string family)
    {
        string[] prompts = ["the cat", "where is the dog? the dog sat on the log", "the", "on the mat, said", "the dog sat on the mat. the cat sat on the log.", "is"];
        var sampling = prompts.Select((_, i) => new SamplingOptions { MaxNewTokens = 12 + i, Temperature = i % 2 == 0 ? 0f : 0.9f, TopK = i == 3 ? 5 : 0, Seed = 40 + i }).ToArray();

        // Alone: one request at a time on a roomy engine.
        var alone = new List<GenerationResult>();
        using (var solo = new InferenceEngine(TinyModels.Create(family), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4, KvCacheMegabytes = 4 }, ownsModel: true))
            for (int i = 0; i < prompts.Length; i++) alone.Add(await solo.GenerateAsync(new GenerationRequest(prompts[i], sampling[i])));

        // Together: a pool of a few blocks (so running sequences get preempted and recomputed) and a
        // token budget of 5 per step (so longer prompts are prefilled over several steps).
        var kv = ((IBatchedDecoder)TinyModels.Create(family)).KvShape;
        double blockMb = kv.FloatsPerPosition * 4 * sizeof(float) / (1024.0 * 1024.0);
        using var engine = new InferenceEngine(TinyModels.Create(family), TinyModels.Tokenizer,
            new InferenceEngineOptions { BlockSize = 4, KvCacheMegabytes = blockMb * 12.5, MaxBatchTokens = 5 }, ownsModel: true);
        Assert.Equal(12, engine.Statistics.TotalBlocks);
        var together = await Task.WhenAll(prompts.Select((p, i) => engine.GenerateAsync(new GenerationRequest(p, sampling[i]))));
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(alone[i].Choices[0].TokenIds, together[i].Choices[0].TokenIds);
            Assert.Equal(alone[i].Text, together[i].Text);
            Assert.Equal(alone[i].Usage, together[i].Usage);
        }
        Assert.True(engine.Statistics.Preemptions > 0, "the small pool should have forced a preemption");
        await WaitForIdle(engine);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
        Assert.Equal(12, engine.Statistics.FreeBlocks);
    }

    [Fact]
    public async Task ASeededRequestSamplesTheSameTokensWhateverItIsBatchedWith()
    {
        var mine = new SamplingOptions { MaxNewTokens = 16, Temperature = 1.2f, TopP = 0.95f, Seed = 1234 };
        using var engine = new InferenceEngine(TinyModels.Create("gpt2"), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4 }, ownsModel: true);
        var alone = await engine.GenerateAsync(new GenerationRequest("the dog", mine));
        var companions = Enumerable.Range(0, 5).Select(i => engine.GenerateAsync(new GenerationRequest("the cat sat", new SamplingOptions { MaxNewTokens = 10 + i, Temperature = 1f, Seed = i }))).ToList();
        var batched = await engine.GenerateAsync(new GenerationRequest("the dog", mine));
        await Task.WhenAll(companions);
        Assert.Equal(alone.Choices[0].TokenIds, batched.Choices[0].TokenIds);
        // A different seed draws differently (the tokens are not all the argmax).
        var other = await engine.GenerateAsync(new GenerationRequest("the dog", mine with { Seed = 99 }));
        Assert.NotEqual(alone.Choices[0].TokenIds, other.Choices[0].TokenIds);
    }

    [Fact]
    public async Task NCompletionsShareThePromptEachWithTheSeedPlusItsIndex()
    {
        var options = new SamplingOptions { MaxNewTokens = 8, Temperature = 1f, Seed = 7, N = 3 };
        using var engine = new InferenceEngine(TinyModels.Create("llama"), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4 }, ownsModel: true);
        var result = await engine.GenerateAsync(new GenerationRequest("the cat", options));
        Assert.Equal(3, result.Choices.Count);
        for (int i = 0; i < 3; i++)
        {
            var single = await engine.GenerateAsync(new GenerationRequest("the cat", options with { N = 1, Seed = 7 + i }));
            Assert.Equal(single.Choices[0].TokenIds, result.Choices[i].TokenIds);
            Assert.Equal(i, result.Choices[i].Index);
        }
        Assert.Equal(TinyModels.Tokenizer.Encode("the cat").Length, result.Usage.PromptTokens);
        Assert.Equal(result.Choices.Sum(c => c.TokenIds.Count), result.Usage.CompletionTokens);
    }

    [Fact]
    public async Task CancellingARequestEndsItAtTheNextStepAndReturnsItsBlocks()
    {
        using var engine = new InferenceEngine(TinyModels.Create("gpt2", context: 512), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4 }, ownsModel: true);
        using var cts = new CancellationTokenSource();
        var chunks = new List<GenerationChunk>();
        await foreach (var c in engine.GenerateStreamingAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 500 }), cts.Token))
        {
            chunks.Add(c);
            if (chunks.Count == 3) cts.Cancel();
        }
        Assert.Equal(FinishReason.Cancelled, chunks[^1].FinishReason);
        Assert.NotNull(chunks[^1].Usage);
        // No bound on how many chunks arrive after the cancel: the model thread runs ahead of a slow
        // reader (once > 100 on a loaded machine). Cancelled, not Length (500 tokens), is the proof.
        Assert.Equal(chunks.Count(c => c.TokenId != null), chunks[^1].Usage!.CompletionTokens);
        await WaitForIdle(engine);
        Assert.Equal(0, engine.Statistics.UsedBlocks);

        // Leaving the enumeration early cancels too.
        await foreach (var c in engine.GenerateStreamingAsync(new GenerationRequest("the dog", new SamplingOptions { MaxNewTokens = 500 })))
            break;
        await WaitForIdle(engine);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
        Assert.Equal(0, engine.Statistics.Running);
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenThrowsAndQueuesNothing()
    {
        // Every .NET async API throws OperationCanceledException for a token cancelled before the call;
        // the engine once ran the request and returned FinishReason.Cancelled with usage.
        using var engine = new InferenceEngine(TinyModels.Create("gpt2"), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4 }, ownsModel: true);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var request = new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 5 });
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.GenerateAsync(request, cts.Token));
        Assert.Equal(cts.Token, e.CancellationToken);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.GenerateStreamingAsync(request, cts.Token)) { }
        });
        Assert.Equal(0, engine.Statistics.Waiting);
        Assert.Equal(0, engine.Statistics.Running);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
        // The engine serves the next request as usual.
        Assert.Equal(5, (await engine.GenerateAsync(request)).Usage.CompletionTokens);
    }

    [Fact]
    public async Task MaxNewTokensBeyondTheContextIsCappedWithFinishReasonLength()
    {
        // Documented in docs/INFERENCE.md: the engine generates until the context is full; the HTTP layer
        // decides whether to refuse such a request first (OpenAI answers 400).
        using var engine = new InferenceEngine(TinyModels.Create("gpt2", context: 32), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4 }, ownsModel: true);
        var result = await engine.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 100_000 }));
        var choice = Assert.Single(result.Choices);
        Assert.Equal(FinishReason.Length, choice.FinishReason);
        Assert.Equal(32 - result.Usage.PromptTokens, choice.TokenIds.Count);
    }

    [Fact]
    public async Task DisposingCancelsWhatIsRunning()
    {
        var engine = new InferenceEngine(TinyModels.Create("gpt2", context: 512), TinyModels.Tokenizer, ownsModel: true);
        var task = engine.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 500 }));
        await Task.Delay(50);
        engine.Dispose();
        var result = await task;
        Assert.Contains(result.Choices[0].FinishReason, new[] { FinishReason.Cancelled, FinishReason.Length });
        Assert.Throws<ObjectDisposedException>(() => engine.GenerateStreamingAsync(new GenerationRequest("x")));
    }

    [Fact]
    public async Task MaxTokensZeroGeneratesNothingAndAFullContextEndsWithLength()
    {
        using var engine = new InferenceEngine(TinyModels.Create("gpt2", context: 16), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 4 }, ownsModel: true);
        var none = await engine.GenerateAsync(new GenerationRequest("the cat", new SamplingOptions { MaxNewTokens = 0 }));
        Assert.Empty(none.Choices[0].TokenIds);
        Assert.Equal(FinishReason.Length, none.Choices[0].FinishReason);
        Assert.Equal(0, none.Usage.CompletionTokens);
        // A prompt of 14 tokens in a context of 16: two tokens fit, then "length" however large max_tokens is.
        var prompt = Enumerable.Range(0, 14).Select(i => i + 20).ToArray();
        var full = await engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = new SamplingOptions { MaxNewTokens = 100 } });
        Assert.Equal(2, full.Choices[0].TokenIds.Count);
        Assert.Equal(FinishReason.Length, full.Choices[0].FinishReason);
        Assert.Equal(new GenerationUsage(14, 2), full.Usage);
    }

    [Fact]
    public void BadRequestsAreRefusedBeforeTheyQueue()
    {
        using var engine = new InferenceEngine(TinyModels.Create("gpt2", context: 16), TinyModels.Tokenizer, ownsModel: true);
        var tooLong = Assert.Throws<ArgumentException>(() => engine.GenerateStreamingAsync(new GenerationRequest(string.Join(" ", Enumerable.Repeat("where", 40)))));
        Assert.Contains("context is 16", tooLong.Message);
        Assert.Contains("TopP", Assert.Throws<ArgumentException>(() => engine.GenerateStreamingAsync(new GenerationRequest("the", new SamplingOptions { TopP = 0 }))).Message);
        Assert.Contains("N", Assert.Throws<ArgumentException>(() => engine.GenerateStreamingAsync(new GenerationRequest("the", new SamplingOptions { N = 0 }))).Message);
        Assert.Throws<ArgumentException>(() => engine.GenerateStreamingAsync(new GenerationRequest { PromptTokens = [] }));
        Assert.Throws<ArgumentException>(() => engine.GenerateStreamingAsync(new GenerationRequest { PromptTokens = [100000] }));
        Assert.Throws<ArgumentException>(() => engine.GenerateStreamingAsync(new GenerationRequest("the", new SamplingOptions { LogitBias = new Dictionary<int, float> { [5] = 101 } })));
        Assert.Equal(0, engine.Statistics.Waiting);
    }
}
