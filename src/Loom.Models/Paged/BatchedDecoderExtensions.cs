// The two shapes of call the engine makes, named: prefill (many tokens per sequence) and a decode
// step (one token per sequence). Both are IBatchedDecoder.ForwardPaged.
namespace Loom.Models.Paged;

/// <summary>Prefill and decode-step helpers over <see cref="IBatchedDecoder.ForwardPaged"/>.</summary>
public static class BatchedDecoderExtensions
{
    /// <summary>Runs each prompt as one batched forward; logits (n, V) of each prompt's last position.</summary>
    public static void Prefill(this IBatchedDecoder model, IReadOnlyList<KvSequence> sequences, IReadOnlyList<int[]> prompts, Span<float> logits)
    {
        if (prompts.Count != sequences.Count) throw new ArgumentException($"{prompts.Count} prompts for {sequences.Count} sequences.");
        var counts = new int[prompts.Count];
        var tokens = new int[prompts.Sum(p => p.Length)];
        int o = 0;
        for (int i = 0; i < prompts.Count; i++) { counts[i] = prompts[i].Length; prompts[i].CopyTo(tokens, o); o += prompts[i].Length; }
        model.ForwardPaged(sequences, tokens, counts, logits);
    }

    /// <summary>Runs one token per sequence, each at its own position; logits (n, V).</summary>
    public static void DecodeStep(this IBatchedDecoder model, IReadOnlyList<KvSequence> sequences, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        Span<int> counts = sequences.Count <= 256 ? stackalloc int[sequences.Count] : new int[sequences.Count];
        counts.Fill(1);
        model.ForwardPaged(sequences, tokens, counts, logits);
    }
}
