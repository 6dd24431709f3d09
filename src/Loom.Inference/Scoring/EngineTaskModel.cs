// The task harness's ITaskModel over a local model in the inference engine.
//   Log-likelihood: lm-evaluation-harness's HFLM (lm_eval/models/huggingface.py): _encode_pair moves
//   the context's trailing whitespace to the continuation, the continuation's tokens are those of
//   encode(context + continuation) past encode(context), an empty context becomes the prefix token
//   (BOS when the model adds one, else the end-of-text id); the input is (context + continuation)
//   truncated from the left to n_positions + 1 tokens, minus the last; the score is the sum of
//   log-softmax(logits) at the continuation's tokens, in double, and "greedy" means every
//   continuation token is its position's argmax. A request whose input ids begin another's is scored
//   from that one's row (lm-eval's logits cache, generalised to prefixes: ScoringHosts); the distinct
//   rows are packed into right-padded batches (causal attention: padding after a sequence never
//   changes its positions) of at most TokensPerBatch tokens and run on the engine's model thread
//   between decode steps (InvokeAsync); the LM head runs only on the scored positions when the model
//   offers ISelectedLogits, and each row's log-softmax is the vectorised LogSoftmax kernel.
//   Generation: every request of a chunk is submitted at once, so the engine's continuous batching
//   decodes them together; prompts longer than the context keep their last tokens (lm-eval's
//   left truncation), leaving room for max_new_tokens.
using Loom.Core.Kernels;
using Loom.Evaluation.Harness;
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Models;
using Loom.Tokenizers;

namespace Loom.Inference.Scoring;

/// <summary>Harness scoring through an <see cref="InferenceEngine"/>.</summary>
public sealed class EngineTaskModel : ITaskModel
{
    private readonly InferenceEngine _engine;
    private float[] _selected = [];   // (rows, V): the scored positions' logits, reused across batches (touched only on the model thread)

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
        var contIds = new int[requests.Count][];
        for (int i = 0; i < requests.Count; i++)
        {
            var (ctx, cont) = Encode(requests[i]);
            int[] all = [.. ctx, .. cont];
            if (all.Length > n + 1) all = all[^(n + 1)..];
            inputs[i] = all[..^1];
            contIds[i] = cont.Length > inputs[i].Length ? cont[^inputs[i].Length..] : cont;
        }
        var host = ScoringHosts(inputs);
        var hosted = new List<int>[requests.Count];
        for (int i = 0; i < requests.Count; i++) (hosted[host[i]] ??= []).Add(i);
        // Longest host first, so each batch pads little; results go back in request order.
        var order = Enumerable.Range(0, requests.Count).Where(i => host[i] == i).OrderByDescending(i => inputs[i].Length).ToArray();
        var results = new LogLikelihoodResult[requests.Count];
        for (int start = 0; start < order.Length;)
        {
            int T = inputs[order[start]].Length;
            int B = Math.Max(1, Math.Min(order.Length - start, TokensPerBatch / Math.Max(1, T)));
            var batch = order.AsSpan(start, B).ToArray();
            await _engine.InvokeAsync(model => { Score(model, batch, hosted, inputs, contIds, T, results); return 0; }, cancellationToken).ConfigureAwait(false);
            start += B;
        }
        return results;
    }

    /// <summary>
    /// For each request, the request whose forward row scores it: itself, or one whose input ids start
    /// with its input ids. Causal attention makes position t's logits depend on ids[0..t] only, so a
    /// request whose input is a prefix of another's reads its continuation's logits from that row —
    /// the generalisation of lm-eval's logits cache (Collator group_by="contexts": choices whose
    /// context + continuation[:-1] coincide, e.g. every single-token choice of a question, share one
    /// forward). In lexicographic order a sequence that is a prefix of any other is a prefix of its
    /// successor, so one backward walk maps every input to the longest input it begins.
    /// </summary>
    internal static int[] ScoringHosts(int[][] inputs)
    {
        var host = new int[inputs.Length];
        var lex = Enumerable.Range(0, inputs.Length).ToArray();
        Array.Sort(lex, (a, b) => { int c = inputs[a].AsSpan().SequenceCompareTo(inputs[b]); return c != 0 ? c : a.CompareTo(b); });
        for (int k = lex.Length - 1; k >= 0; k--)
        {
            int i = lex[k];
            host[i] = k + 1 < lex.Length && inputs[lex[k + 1]].AsSpan().StartsWith(inputs[i]) ? host[lex[k + 1]] : i;
        }
        return host;
    }

    // One padded forward over the host rows of `batch`, the head only on the positions some hosted
    // request scores (ISelectedLogits; full logits otherwise), then each hosted request's
    // log-likelihood from those rows with the shared LogSoftmax kernel.
    private void Score(ICausalLanguageModel model, int[] batch, List<int>[] hosted, int[][] inputs, int[][] contIds, int T, LogLikelihoodResult[] results)
    {
        int B = batch.Length, V = model.VocabularySize;
        var ids = new int[B * T];
        for (int b = 0; b < B; b++) inputs[batch[b]].CopyTo(ids, b * T);   // right padding with id 0
        // The positions (b·T + t) read, each once, in order of first use.
        var rowOf = new Dictionary<int, int>();
        var rows = new List<int>();
        for (int b = 0; b < B; b++)
            foreach (int r in hosted[batch[b]])
                for (int t = inputs[r].Length - contIds[r].Length; t < inputs[r].Length; t++)
                    if (rowOf.TryAdd(b * T + t, rows.Count)) rows.Add(b * T + t);
        ReadOnlySpan<float> logits;
        if (model is ISelectedLogits selected)
        {
            if (_selected.Length < (long)rows.Count * V) _selected = new float[(long)rows.Count * V];
            var buffer = _selected.AsSpan(0, rows.Count * V);
            selected.ForwardSelected(new TokenBatch(ids, B, T), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rows), buffer);
            logits = buffer;
        }
        else
        {
            model.Forward(ids, [], B, T);
            logits = model.Logits;
            for (int k = 0; k < rows.Count; k++) rowOf[rows[k]] = rows[k];   // read the full logits in place
        }
        for (int b = 0; b < B; b++)
            foreach (int r in hosted[batch[b]])
            {
                int len = inputs[r].Length;
                var cont = contIds[r];
                double sum = 0;
                bool greedy = true;
                for (int j = 0; j < cont.Length; j++)
                {
                    var row = logits.Slice(rowOf[b * T + len - cont.Length + j] * V, V);
                    sum += row[cont[j]] - LogSoftmax.LogNormalizer(row, out int arg);
                    greedy &= arg == cont[j];
                }
                results[r] = new LogLikelihoodResult(sum, greedy, cont.Length);
            }
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
