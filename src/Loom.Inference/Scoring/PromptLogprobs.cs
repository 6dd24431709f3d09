// The log-probability of every prompt token given the tokens before it, from one forward over the
// whole prompt (the model's full logits) — what OpenAI's legacy completions return for `echo: true`
// with `logprobs: k`. The first token has no left context, so its log-prob is null (as OpenAI's).
// The normalizer is the same LogSoftmax kernel EngineTaskModel's scorer uses, so a continuation's
// summed log-probs here and the harness's --model log-likelihood agree.
using Loom.Core.Kernels;
using Loom.Inference.Engine;

namespace Loom.Inference.Scoring;

/// <summary>Prompt-token log-probabilities on an engine's model.</summary>
public static class PromptLogprobs
{
    /// <summary>Scores <paramref name="ids"/> (one sequence) on the engine's model thread.</summary>
    public static Task<PromptTokenLogprob[]> ComputeAsync(InferenceEngine engine, int[] ids, int top, CancellationToken cancellationToken = default)
    {
        if (ids.Length == 0) throw new ArgumentException("A prompt to score needs at least one token.", nameof(ids));
        if (ids.Length > engine.ContextLength) throw new ArgumentException($"The prompt has {ids.Length} tokens; the model's context is {engine.ContextLength}.", nameof(ids));
        return engine.InvokeAsync(model =>
        {
            int T = ids.Length, V = model.VocabularySize;
            model.Forward(ids, [], 1, T);
            var logits = model.Logits;
            var result = new PromptTokenLogprob[T];
            result[0] = new PromptTokenLogprob(ids[0], null, []);
            for (int t = 1; t < T; t++)
            {
                // Row t-1 predicts token t.
                var row = logits.Slice((t - 1) * V, V);
                double logZ = LogSoftmax.LogNormalizer(row, out _);
                var best = new List<(int, double)>(top);
                if (top > 0)
                {
                    // Partial selection: k passes over the row (k ≤ 5 on the wire).
                    var taken = new HashSet<int>();
                    for (int k = 0; k < Math.Min(top, V); k++)
                    {
                        int arg = -1;
                        for (int v = 0; v < V; v++) if (!taken.Contains(v) && (arg < 0 || row[v] > row[arg])) arg = v;
                        taken.Add(arg);
                        best.Add((arg, row[arg] - logZ));
                    }
                }
                result[t] = new PromptTokenLogprob(ids[t], row[ids[t]] - logZ, best);
            }
            return result;
        }, cancellationToken);
    }
}
