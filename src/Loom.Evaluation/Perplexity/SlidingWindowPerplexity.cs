// Sliding-window perplexity of a causal language model, the loop Hugging Face documents
// (https://huggingface.co/docs/transformers/perplexity):
//
//   for begin in range(0, N, stride):
//       end = min(begin + context, N); trg_len = end − prev_end
//       input = ids[begin:end]; labels = input with the first len − trg_len set to −100
//       (the model shifts labels by one, so a window never scores its own first token)
//       prev_end = end; stop once end == N
//
// Every token after the first is scored exactly once (N − 1 tokens when stride < context; with
// stride = context each window also skips its first token, N − windows in all), each conditioned on
// at most context − 1 earlier tokens. Windows of one length are batched; the last, shorter window runs
// alone. The model's Forward returns the mean loss over targets ≠ −100 (summed in double, in row order),
// so mean × count recovers each batch's summed NLL.
using Loom.Models;

namespace Loom.Evaluation.Perplexity;

/// <summary>Hugging Face's strided perplexity over any <see cref="ICausalLanguageModel"/>.</summary>
public static class SlidingWindowPerplexity
{
    /// <summary>One window: its first token and its length, and where its scored targets begin.</summary>
    public readonly record struct Window(int Begin, int Length, int FirstScored);

    /// <summary>The windows of the loop above for <paramref name="tokens"/> tokens (at least 2).</summary>
    public static List<Window> Windows(int tokens, int context, int stride)
    {
        if (tokens < 2) throw new ArgumentException($"Perplexity needs at least 2 tokens (the first is never scored); the input has {tokens}.");
        var windows = new List<Window>();
        int prevEnd = 0;
        for (int begin = 0; begin < tokens; begin += stride)
        {
            int end = Math.Min(begin + context, tokens);
            int targetLength = end - prevEnd;
            // Position j of the window predicts token begin + j + 1; it is scored when that token lies
            // in the last targetLength tokens of the window (HF's labels[:, :-trg_len] = −100, shifted).
            windows.Add(new Window(begin, end - begin, Math.Max(end - targetLength, begin + 1)));
            prevEnd = end;
            if (end == tokens) break;
        }
        return windows;
    }

    /// <summary>
    /// Scores <paramref name="tokens"/> (the whole text tokenized at once, no BOS/EOS added) with
    /// <paramref name="model"/>. <paramref name="progress"/> receives (windows done, windows in all).
    /// </summary>
    public static PerplexityResult Evaluate(ICausalLanguageModel model, ReadOnlySpan<int> tokens, PerplexityOptions options,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var (context, stride) = options.Resolve(model.ContextLength);
        for (int i = 0; i < tokens.Length; i++)
            if ((uint)tokens[i] >= (uint)model.VocabularySize)
                throw new ArgumentException($"Token {i:N0} is id {tokens[i]}, outside the model's vocab_size {model.VocabularySize}; the text was tokenized with another tokenizer than the model's.");
        var windows = Windows(tokens.Length, context, stride);
        int B = options.BatchSize;
        var ids = new int[B * context];
        var targets = new int[B * context];
        double total = 0;
        long scored = 0;
        int done = 0;
        for (int w = 0; w < windows.Count;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int T = windows[w].Length, rows = 0;
            long batchScored = 0;
            while (rows < B && w < windows.Count && windows[w].Length == T)
            {
                var win = windows[w];
                var rowIds = ids.AsSpan(rows * T, T);
                var rowTargets = targets.AsSpan(rows * T, T);
                tokens.Slice(win.Begin, T).CopyTo(rowIds);
                for (int j = 0; j < T; j++)
                {
                    int next = win.Begin + j + 1;
                    bool score = next < win.Begin + T && next >= win.FirstScored;
                    rowTargets[j] = score ? tokens[next] : -100;
                    if (score) batchScored++;
                }
                rows++;
                w++;
            }
            if (batchScored > 0)
            {
                float mean = model.Forward(ids.AsSpan(0, rows * T), targets.AsSpan(0, rows * T), rows, T);
                total += (double)mean * batchScored;
                scored += batchScored;
            }
            done += rows;
            progress?.Report((done, windows.Count));
        }
        return new PerplexityResult { TotalNll = total, Tokens = scored, Windows = windows.Count, Context = context, Stride = stride };
    }
}
