// The Microsoft.Extensions.AI clients against references: the chat reply is the greedy continuation
// of the ChatML prompt computed by the full forward (cut at <|im_end|>), streaming gives the same text
// with usage on the last update; an embedding is the mean of the body's hidden states computed
// directly on a second copy of the model.
using Loom.Inference.Chat;
using Loom.Inference.Engine;
using Loom.Inference.Tests.Engine;
using Loom.Models;
using Loom.Tokenizers;
using Microsoft.Extensions.AI;

namespace Loom.Inference.Tests.Chat;

public class LoomChatClientTests
{
    private static readonly ChatMessage[] Conversation = [new(ChatRole.System, "the cat"), new(ChatRole.User, "where is the dog?")];

    [Fact]
    public async Task AReplyIsTheGreedyContinuationOfTheChatMLPrompt()
    {
        using var reference = TinyModels.Create("gpt2", context: 128);
        using IChatClient client = new LoomChatClient(new InferenceEngine(TinyModels.Create("gpt2", context: 128), TinyModels.Tokenizer, new InferenceEngineOptions { BlockSize = 8 }, ownsModel: true), "tiny", ownsEngine: true);
        var response = await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 12, Temperature = 0 });

        string prompt = "<|im_start|>system\nthe cat<|im_end|>\n<|im_start|>user\nwhere is the dog?<|im_end|>\n<|im_start|>assistant\n";
        var ids = new List<int>(TinyModels.Tokenizer.Encode(prompt, SpecialTokenPolicy.All));
        int promptTokens = ids.Count;
        var generated = new List<int>();
        for (int i = 0; i < 12; i++) { int next = TinyModels.ArgMax(TinyModels.FullLogits(reference, ids)); ids.Add(next); generated.Add(next); }
        string text = TinyModels.Tokenizer.Decode(generated.ToArray());
        int stop = text.IndexOf("<|im_end|>", StringComparison.Ordinal);
        Assert.Equal(stop >= 0 ? text[..stop] : text, response.Text);
        Assert.Equal(ChatRole.Assistant, response.Messages[0].Role);
        Assert.Equal(stop >= 0 ? ChatFinishReason.Stop : ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(promptTokens, response.Usage!.InputTokenCount);
        Assert.Equal("tiny", response.ModelId);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 12 })) updates.Add(u);
        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(response.FinishReason, updates[^1].FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
        Assert.Equal(response.Usage.OutputTokenCount, usage.Details.OutputTokenCount);
        Assert.NotNull(client.GetService<InferenceEngine>());
        Assert.Equal("tiny", client.GetService<ChatClientMetadata>()!.DefaultModelId);
    }

    [Fact]
    public async Task CancellationThrowsAsIChatClientCallersExpect()
    {
        using var client = new LoomChatClient(new InferenceEngine(TinyModels.Create("llama", context: 512), TinyModels.Tokenizer, ownsModel: true), "tiny", ownsEngine: true);
        using var cts = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            int n = 0;
            await foreach (var u in client.GetStreamingResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 400 }, cts.Token))
                if (++n == 2) cts.Cancel();
        });
        var engine = client.GetService<InferenceEngine>()!;
        await Loom.Inference.Tests.Engine.EngineIdle.WaitAsync(engine);
        Assert.Equal(0, engine.Statistics.UsedBlocks);
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([]));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public async Task AnEmbeddingIsTheMeanOfTheLastHiddenStates(string family)
    {
        using var reference = TinyModels.Create(family);
        using var engine = new InferenceEngine(TinyModels.Create(family), TinyModels.Tokenizer, ownsModel: true);
        using IEmbeddingGenerator<string, Embedding<float>> generator = new LoomEmbeddingGenerator(engine, "tiny");
        string[] texts = ["the cat sat", "on the log, said the dog"];
        var embeddings = await generator.GenerateAsync(texts);
        Assert.Equal(2, embeddings.Count);
        var body = (IHiddenStateModel)reference;
        for (int e = 0; e < texts.Length; e++)
        {
            int[] ids = TinyModels.Tokenizer.Encode(texts[e]);
            var hidden = body.ForwardHidden(new TokenBatch(ids, 1, ids.Length)).ToArray();
            int C = body.HiddenSize;
            Assert.Equal(C, embeddings[e].Vector.Length);
            for (int c = 0; c < C; c++)
            {
                double mean = Enumerable.Range(0, ids.Length).Average(t => (double)hidden[t * C + c]);
                Assert.Equal(mean, embeddings[e].Vector.Span[c], 4);
            }
        }
        Assert.Equal(texts.Sum(t => TinyModels.Tokenizer.Encode(t).Length), embeddings.Usage!.InputTokenCount);
        // Embedding while generating: both run on the engine's one model thread.
        var gen = engine.GenerateAsync(new GenerationRequest("the cat", new Loom.Inference.Generation.SamplingOptions { MaxNewTokens = 30 }));
        var again = await generator.GenerateAsync([texts[0]]);
        Assert.Equal(embeddings[0].Vector.ToArray(), again[0].Vector.ToArray());
        await gen;
    }
}
