// The task harness's ITaskModel over a local model in the inference engine.
//   Log-likelihood: lm-evaluation-harness's HFLM (lm_eval/models/huggingface.py): _encode_pair moves
//   the context's trailing whitespace to the continuation, the continuation's tokens are those of
//   encode(context + continuation) past encode(context), an empty context becomes the prefix token
//   (BOS when the model adds one, else the end-of-text id); the input is (context + continuation)
//   truncated from the left to n_positions + 1 tokens, minus the last; the score is the sum of
//   log-softmax(logits) at the continuation's tokens, in double, and "greedy" means every
//   continuation token is its position's argmax. Requests are packed into right-padded batches
//   (causal attention: padding after a sequence never changes its positions) of at most
//   TokensPerBatch tokens and run on the engine's model thread between decode steps (InvokeAsync).
//   Generation: every request of a chunk is submitted at once, so the engine's continuous batching
//   decodes them together; prompts longer than the context keep their last tokens (lm-eval's
//   left truncation), leaving room for max_new_tokens.
using Loom.Evaluation.Harness;
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Tokenizers;

namespace Loom.Inference.Scoring;

/// <summary>Harness scoring through an <see cref="InferenceEngine"/>.</summary>
public sealed class EngineTaskModel : ITaskModel
{
    private readonly InferenceEngine _engine;

    /// <summary>Most tokens (batch × padded length) in one log-likelihood forward; bounds the logits buffer (tokens × vocab floats).</summary>
    public int TokensPerBatch { get; init; } = 2048;

    public EngineTaskModel(InferenceEngine engine, string name)
    {
        _engine = engine;
        Name = name;
    }

    public string Name { get; }

    public bool SupportsLogLikelihood => true;

    // The prefix lm-eval uses for an empty context, and the BOS the model expects before any text.
    private int? Bos => _engine.Options.BeginningOfSequenceId;
    private int PrefixToken => Bos ?? _engine.EndOfSequenceIds.FirstOrDefault(_engine.Tokenizer.VocabularySize - 1);

    /// <summary>The (context, continuation) token ids of a request, as lm-eval's _encode_pair.</summary>
    public (int[] Context, int[] Continuation) Encode(LogLikelihoodRequest request)
    {
        string context = request.Context, continuation = request.Continuation;
        int spaces = context.Length - context.TrimEnd().Length;
        if (spaces > 0)
        {
            continuation = context[^spaces..] + continuation;
            context = context[..^spaces];
        }
        var tok = _engine.Tokenizer;
        int[] whole = tok.Encode(context + continuation, SpecialTokenPolicy.PlainText);
        int[] ctx = tok.Encode(context, SpecialTokenPolicy.PlainText);
        int[] cont = whole[Math.Min(ctx.Length, whole.Length)..];
        if (cont.Length == 0) throw new ArgumentException($"The continuation \"{request.Continuation}\" encodes to no tokens after \"{Tail(request.Context)}\"; a log-likelihood needs at least one.");
        if (context.Length == 0) ctx = [PrefixToken];
        else if (Bos is int b) ctx = [b, .. ctx];
        return (ctx, cont);
    }

    private static string Tail(string s) => s.Length <= 40 ? s : "…" + s[^40..];

    public async Task<IReadOnlyList<LogLikelihoodResult>> LogLikelihoodAsync(IReadOnlyList<LogLikelihoodRequest> requests, CancellationToken cancellationToken = default)
    {
        int n = _engine.ContextLength;
        var inputs = new int[requests.Count][];
        var contLength = new int[requests.Count];
        var contIds = new int[requests.Count][];
        for (int i = 0; i < requests.Count; i++)
        {
            var (ctx, cont) = Encode(requests[i]);
            int[] all = [.. ctx, .. cont];
            if (all.Length > n + 1) all = all[^(n + 1)..];
            inputs[i] = all[..^1];
            contIds[i] = cont.Length > inputs[i].Length ? cont[^inputs[i].Length..] : cont;
            contLength[i] = contIds[i].Length;
        }
        // Longest first, so each batch pads little; results go back in request order.
        var order = Enumerable.Range(0, requests.Count).OrderByDescending(i => inputs[i].Length).ToArray();
        var results = new LogLikelihoodResult[requests.Count];
        for (int start = 0; start < order.Length;)
        {
            int T = inputs[order[start]].Length;
            int B = Math.Max(1, Math.Min(order.Length - start, TokensPerBatch / Math.Max(1, T)));
            var batch = order.AsSpan(start, B).ToArray();
            var scored = await _engine.InvokeAsync(model => Score(model, batch, inputs, contIds, T), cancellationToken).ConfigureAwait(false);
            for (int k = 0; k < B; k++) results[batch[k]] = scored[k];
            start += B;
        }
        return results;
    }

    private static LogLikelihoodResult[] Score(Models.ICausalLanguageModel model, int[] batch, int[][] inputs, int[][] contIds, int T)
    {
        int B = batch.Length, V = model.VocabularySize;
        var ids = new int[B * T];
        for (int b = 0; b < B; b++) inputs[batch[b]].CopyTo(ids, b * T);   // right padding with id 0
        model.Forward(ids, [], B, T);
        var logits = model.Logits;
        var results = new LogLikelihoodResult[B];
        for (int b = 0; b < B; b++)
        {
            int len = inputs[batch[b]].Length;
            var cont = contIds[batch[b]];
            double sum = 0;
            bool greedy = true;
            for (int j = 0; j < cont.Length; j++)
            {
                int t = len - cont.Length + j;
                var row = logits.Slice((b * T + t) * V, V);
                float max = float.NegativeInfinity;
                int arg = 0;
                for (int v = 0; v < V; v++) if (row[v] > max) { max = row[v]; arg = v; }
                double z = 0;
                for (int v = 0; v < V; v++) z += Math.Exp(row[v] - max);
                sum += row[cont[j]] - max - Math.Log(z);
                greedy &= arg == cont[j];
            }
            results[b] = new LogLikelihoodResult(sum, greedy, cont.Length);
        }
        return results;
    }

    public async Task<IReadOnlyList<string>> GenerateAsync(IReadOnlyList<GenerationTaskRequest> requests, CancellationToken cancellationToken = default)
    {
        var tasks = requests.Select(r =>
        {
            int room = Math.Max(1, _engine.ContextLength - r.MaxNewTokens);
            int[] prompt = _engine.Tokenizer.Encode(r.Prompt, SpecialTokenPolicy.PlainText);
            if (Bos is int b) prompt = [b, .. prompt];
            if (prompt.Length > room) prompt = prompt[^room..];
            int maxNew = Math.Min(r.MaxNewTokens, _engine.ContextLength - prompt.Length);
            var sampling = new SamplingOptions
            {
                MaxNewTokens = Math.Max(1, maxNew), Temperature = r.Temperature, TopP = r.TopP, Seed = r.Seed,
                StopSequences = r.Stop.Where(s => s.Length > 0).ToList(),
            };
            return _engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = sampling }, cancellationToken);
        }).ToList();
        var done = await Task.WhenAll(tasks).ConfigureAwait(false);
        return done.Select(d => d.Text).ToList();
    }
}
