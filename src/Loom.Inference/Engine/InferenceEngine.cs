// The batched inference engine: one model, its tokenizer and one paged KV block pool, driven by one
// model thread running vLLM's loop (schedule → execute → update) with continuous batching
// (Yu et al. 2022, Orca: iteration-level scheduling):
//   schedule  every step, sequences already running get one slot for their next token (a new block
//             when they cross a block boundary); when the pool is out of blocks the youngest running
//             sequence is preempted — its blocks freed, itself put back at the head of the queue to
//             be recomputed (prompt + what it generated) when blocks free up, as vLLM's recompute
//             preemption. Then waiting sequences are admitted, oldest first, while the batch has room
//             (max_batch sequences, max_batch_tokens new tokens) and their whole prompt's blocks are
//             free; a prompt longer than the token budget is prefilled in chunks over several steps.
//   execute   one IBatchedDecoder.ForwardPaged call for every scheduled sequence (prefill chunks and
//             single decode tokens together).
//             With prefix caching, a sequence being admitted first takes references to cached
//             blocks holding whole leading blocks of its prompt (KvSequence.AttachPrefix) and
//             prefills only the rest; n > 1 completions of one prompt wait one step for the first
//             one's prefill and then share its blocks.
//   update    each sequence whose prompt is fully cached samples its next token with its own
//             sampler, streams a chunk, and is retired at once when it finished (its blocks return
//             to the pool); a cancelled request is removed at the next step, its blocks returned.
// The model thread is the only one that touches the pool, the sequences and the model; callers only
// enqueue requests and read their chunk channels. The worker pool parallelises inside each call.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Loom.Models;
using Loom.Models.Paged;
using Loom.Tokenizers;

namespace Loom.Inference.Engine;

/// <summary>Serves many generation requests at once on one model with continuous batching.</summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly ICausalLanguageModel _model;
    private readonly IBatchedDecoder _decoder;
    private readonly bool _ownsModel;
    private readonly KvBlockPool _pool;
    private readonly InferenceEngineOptions _options;
    private readonly HashSet<int> _endOfSequence;
    private readonly ConcurrentQueue<EngineRequest> _incoming = new();
    private readonly ConcurrentQueue<Action> _calls = new();   // other uses of the model (embeddings), run between steps
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _thread;
    private volatile bool _stopping;
    private int _disposed;
    private long _nextOrder;

    // Model-thread state.
    private readonly List<EngineSequence> _waiting = new();   // by Order, oldest first
    private readonly List<EngineSequence> _running = new();   // by Order, oldest first
    private readonly List<EngineSequence> _batch = new();
    private readonly List<KvSequence> _batchKv = new();
    private int[] _tokens = new int[256], _counts = new int[64];
    private float[] _logits = [];
    private readonly float[] _logprobs;
    // Two vocabulary-sized rows for Entropy: planned once, so the per-token confidence allocates nothing.
    private readonly float[] _entropyScratch;

    // Statistics (written by the model thread, read by anyone).
    private int _statWaiting, _statRunning, _statLastBatch;
    private long _statPreemptions, _statSteps, _statPrompt, _statGenerated, _statPrefixHits;
    private int _statCachedBlocks;

    /// <summary>The tokenizer.</summary>
    public BpeTokenizer Tokenizer { get; }

    /// <summary>The model.</summary>
    public ICausalLanguageModel Model => _model;

    /// <summary>Longest prompt + completion.</summary>
    public int ContextLength => _decoder.ContextLength;

    /// <summary>Ids that end a completion.</summary>
    public IReadOnlyCollection<int> EndOfSequenceIds => _endOfSequence;

    /// <summary>The settings.</summary>
    public InferenceEngineOptions Options => _options;

    /// <summary>
    /// An engine over <paramref name="model"/> (which must offer <see cref="IBatchedDecoder"/>) and its
    /// tokenizer. With <paramref name="ownsModel"/> the engine disposes the model.
    /// </summary>
    public InferenceEngine(ICausalLanguageModel model, BpeTokenizer tokenizer, InferenceEngineOptions? options = null, bool ownsModel = false)
    {
        options ??= new();
        options.Validate();
        _decoder = model as IBatchedDecoder
            ?? throw new NotSupportedException($"{CausalLanguageModels.Describe(model.Configuration)} offers no batched decoding (IBatchedDecoder); the engine cannot serve it.");
        if (tokenizer.VocabularySize > model.VocabularySize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabularySize} ids but the model's vocab_size is {model.VocabularySize}; they do not belong together.");
        _model = model;
        _ownsModel = ownsModel;
        Tokenizer = tokenizer;
        _options = options;
        _endOfSequence = new HashSet<int>(options.EndOfSequenceIds ?? []);
        foreach (int id in _endOfSequence)
            if ((uint)id >= (uint)model.VocabularySize) throw new ArgumentException($"End-of-sequence id {id} is outside the model's vocabulary of {model.VocabularySize}.");
        _pool = KvBlockPool.FromMegabytes(_decoder.KvShape, options.BlockSize, options.KvCacheMegabytes);
        _pool.PrefixCaching = options.PrefixCaching;
        _logprobs = new float[model.VocabularySize];
        _entropyScratch = new float[2 * model.VocabularySize];
        _thread = new Thread(Loop) { IsBackground = true, Name = "Loom inference engine" };
        _thread.Start();
    }

    /// <summary>
    /// Opens a model directory (config.json, model.safetensors, a tokenizer): end-of-sequence ids from
    /// generation_config.json / config.json / tokenizer_config.json and the BOS rule from
    /// tokenizer_config.json unless <paramref name="options"/> sets them.
    /// </summary>
    public static InferenceEngine Load(string directory, InferenceEngineOptions? options = null)
    {
        options ??= new();
        options.Validate();
        if (Gguf.GgufModelFiles.IsGguf(directory))
        {
            // A GGUF file: weights, tokenizer and special ids all come from the one file (tokenizer.ggml.*).
            var gguf = Gguf.GgufModelFiles.Load(directory);
            options = options with
            {
                EndOfSequenceIds = options.EndOfSequenceIds ?? gguf.EndOfSequenceIds,
                BeginningOfSequenceId = options.BeginningOfSequenceId ?? gguf.BeginningOfSequenceId,
            };
            try { return new InferenceEngine(gguf.Model, gguf.Tokenizer, options, ownsModel: true); }
            catch { gguf.Dispose(); throw; }
        }
        var tokenizer = TokenizerLoader.Load(directory);
        options = options with
        {
            EndOfSequenceIds = options.EndOfSequenceIds ?? GenerationConfig.ReadEndOfSequenceIds(directory, tokenizer),
            BeginningOfSequenceId = options.BeginningOfSequenceId ?? GenerationConfig.ReadBeginningOfSequenceId(directory, tokenizer),
        };
        var model = options.AdapterDirectory is { } adapter
            ? Loom.Models.Adapters.LoraAdapters.LoadCausalLanguageModel(directory, adapter, ModelOptions.Inference)
            : CausalLanguageModels.Load(directory, ModelOptions.Inference);
        try { return new InferenceEngine(model, tokenizer, options, ownsModel: true); }
        catch { model.Dispose(); throw; }
    }

    /// <summary>A snapshot of the queue and the KV pool.</summary>
    public EngineStatistics Statistics => new()
    {
        Waiting = Volatile.Read(ref _statWaiting) + _incoming.Count,
        Running = Volatile.Read(ref _statRunning),
        TotalBlocks = _pool.TotalBlocks,
        UsedBlocks = _pool.UsedBlocks,
        KvCacheBytes = _pool.Bytes,
        Preemptions = Interlocked.Read(ref _statPreemptions),
        Steps = Interlocked.Read(ref _statSteps),
        LastBatchSize = Volatile.Read(ref _statLastBatch),
        PromptTokens = Interlocked.Read(ref _statPrompt),
        GeneratedTokens = Interlocked.Read(ref _statGenerated),
        PrefixCacheHitTokens = Interlocked.Read(ref _statPrefixHits),
        CachedBlocks = Volatile.Read(ref _statCachedBlocks),
    };

    /// <summary>The prompt's token ids as the engine will run them (BOS added when the model asks for it).</summary>
    public int[] EncodePrompt(GenerationRequest request)
    {
        if ((request.Prompt == null) == (request.PromptTokens == null))
            throw new ArgumentException("A generation request needs exactly one of Prompt and PromptTokens.");
        int[] ids;
        if (request.PromptTokens != null) ids = request.PromptTokens.ToArray();
        else
        {
            var encoded = Tokenizer.Encode(request.Prompt!, SpecialTokenPolicy.All);
            ids = _options.BeginningOfSequenceId is int bos ? [bos, .. encoded] : encoded;
        }
        foreach (int id in ids)
            if ((uint)id >= (uint)_model.VocabularySize) throw new ArgumentException($"Prompt token id {id} is outside the model's vocabulary of {_model.VocabularySize}.");
        return ids;
    }

    /// <summary>
    /// Streams the request's completions as they are generated. Settings and the prompt are checked
    /// before this returns (ArgumentException naming the setting; a prompt longer than the context
    /// names both lengths). Cancelling <paramref name="cancellationToken"/> — or leaving the
    /// enumeration early — removes the request at the engine's next step and returns its KV blocks;
    /// the stream then ends with chunks whose finish reason is <see cref="FinishReason.Cancelled"/>.
    /// A token already cancelled when this is called throws <see cref="OperationCanceledException"/> and
    /// queues nothing, as every .NET async API does.
    /// </summary>
    public IAsyncEnumerable<GenerationChunk> GenerateStreamingAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var r = Submit(request, cancellationToken);
        return Read(r, cancellationToken);
    }

    /// <summary>
    /// The request's completions once all have finished (the Task twin of <see cref="GenerateStreamingAsync"/>).
    /// A token already cancelled when this is called gives a cancelled task (<see cref="OperationCanceledException"/>).
    /// </summary>
    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var r = Submit(request, cancellationToken);
        int n = r.Options.N;
        var text = new System.Text.StringBuilder[n];
        var ids = new List<int>[n];
        var lps = new List<float>[n];
        var tops = new List<IReadOnlyList<TokenLogprob>>[n];
        var reasons = new FinishReason[n];
        var confidence = new GenerationConfidence?[n];
        for (int i = 0; i < n; i++) { text[i] = new(); ids[i] = new(); lps[i] = new(); tops[i] = new(); }
        GenerationUsage usage = new(r.Prompt.Length, 0);
        await foreach (var c in Read(r, cancellationToken).ConfigureAwait(false))
        {
            text[c.Index].Append(c.Text);
            if (c.TokenId is int id) ids[c.Index].Add(id);
            if (c.Logprob is float lp) lps[c.Index].Add(lp);
            if (c.TopLogprobs is { } top) tops[c.Index].Add(top);
            if (c.FinishReason is { } f) reasons[c.Index] = f;
            if (c.Confidence is { } conf) confidence[c.Index] = conf;
            if (c.Usage is { } u) usage = u;
        }
        bool logprobs = r.Options.Logprobs || r.Options.TopLogprobs > 0;
        var choices = Enumerable.Range(0, n).Select(i => new GenerationChoice
        {
            Index = i, Text = text[i].ToString(), TokenIds = ids[i], FinishReason = reasons[i],
            Logprobs = logprobs ? lps[i] : null, TopLogprobs = r.Options.TopLogprobs > 0 ? tops[i] : null, Confidence = confidence[i],
        }).ToList();
        return new GenerationResult(choices, usage);
    }

    private EngineRequest Submit(GenerationRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0 || _stopping, this);
        var options = request.Sampling;
        options.Validate();
        if (options.LogitBias != null)
            foreach (int id in options.LogitBias.Keys)
                if (id >= _model.VocabularySize) throw new ArgumentException($"LogitBias has token id {id}, outside the model's vocabulary of {_model.VocabularySize}.", nameof(options.LogitBias));
        int[] prompt = EncodePrompt(request);
        if (prompt.Length == 0) throw new ArgumentException("The prompt is empty (no tokens) and the model adds no beginning-of-sequence token; give at least one token.");
        if (prompt.Length > ContextLength)
            throw new ArgumentException($"The prompt has {prompt.Length} tokens; the model's context is {ContextLength}. Shorten the prompt.");
        int blocks = (prompt.Length + _pool.BlockSize - 1) / _pool.BlockSize;
        if (blocks > _pool.TotalBlocks)
            throw new InvalidOperationException($"The prompt needs {blocks} KV blocks of {_pool.BlockSize} positions; the pool has {_pool.TotalBlocks}. Raise the KV cache budget (--kv-cache-mb).");
        var r = new EngineRequest
        {
            Output = Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true }),
            Cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken),
            Prompt = prompt,
            Options = options,
        };
        long order = Interlocked.Add(ref _nextOrder, options.N) - options.N;
        r.Sequences = Enumerable.Range(0, options.N).Select(i => new EngineSequence(r, i, order + i, _pool, Tokenizer)).ToArray();
        r.Remaining = options.N;
        // Wake the model thread when the caller cancels, so a waiting loop sees it at once.
        r.Cancellation.Token.Register(static s => ((SemaphoreSlim)s!).Release(), _signal);
        _incoming.Enqueue(r);
        _signal.Release();
        return r;
    }

    private static async IAsyncEnumerable<GenerationChunk> Read(EngineRequest r, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            // Read without the token: after a cancel the engine still writes the cancelled chunks and completes.
            await foreach (var chunk in r.Output.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                yield return chunk;
        }
        finally
        {
            // A caller that stops reading early frees the request's blocks at the next step.
            if (!r.Output.Reader.Completion.IsCompleted)
            {
                try { r.Cancellation.Cancel(); }
                catch (ObjectDisposedException) { }   // the engine finished it meanwhile
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> on the model thread between two decode steps (the model's buffers
    /// and the worker pool serve one call at a time), e.g. a hidden-state forward for embeddings.
    /// </summary>
    public Task<T> InvokeAsync<T>(Func<ICausalLanguageModel, T> call, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0 || _stopping, this);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls.Enqueue(() =>
        {
            if (cancellationToken.IsCancellationRequested) { done.TrySetCanceled(cancellationToken); return; }
            try { done.TrySetResult(call(_model)); }
            catch (Exception e) { done.TrySetException(e); }
        });
        _signal.Release();
        return done.Task;
    }

    // ---- the model thread ----

    private void Loop()
    {
        while (true)
        {
            while (_incoming.TryDequeue(out var r))
                foreach (var s in r.Sequences)
                {
                    // max_tokens 0: nothing to generate, so the prompt is not even run.
                    if (r.Options.MaxNewTokens == 0) Retire(s, s.End(FinishReason.Length));
                    else InsertByOrder(_waiting, s);
                }
            while (_calls.TryDequeue(out var call)) call();
            if (_stopping) { CancelEverything(); return; }
            try
            {
                SweepCancelled();
                Schedule();
                PublishCounts();
                if (_batch.Count == 0)
                {
                    _signal.Wait();
                    continue;
                }
                Execute();
            }
            catch (Exception e)
            {
                // A bug in one step fails the requests of that step (their readers get the exception)
                // and frees their blocks; the loop, and every other request, carries on.
                FailBatch(e);
            }
            PublishCounts();
        }
    }

    private static void InsertByOrder(List<EngineSequence> list, EngineSequence s)
    {
        int i = list.Count;
        while (i > 0 && list[i - 1].Order > s.Order) i--;
        list.Insert(i, s);
    }

    private void SweepCancelled()
    {
        for (int i = _running.Count - 1; i >= 0; i--)
            if (_running[i].Request.Cancellation.IsCancellationRequested) { var s = _running[i]; _running.RemoveAt(i); Retire(s, s.End(FinishReason.Cancelled)); }
        for (int i = _waiting.Count - 1; i >= 0; i--)
            if (_waiting[i].Request.Cancellation.IsCancellationRequested) { var s = _waiting[i]; _waiting.RemoveAt(i); Retire(s, s.End(FinishReason.Cancelled)); }
    }

    private void Schedule()
    {
        _batch.Clear();
        int budget = _options.MaxBatchTokens;
        // 1. Running sequences, oldest first: a slot for each one's pending tokens, preempting the youngest when out of blocks.
        for (int i = 0; i < _running.Count && budget > 0 && _batch.Count < _options.MaxBatch; i++)
        {
            var s = _running[i];
            int count = Math.Min(s.Pending, budget);
            bool preemptedSelf = false;
            while (!s.Kv.TryReserve(s.Kv.Length + count))
            {
                var victim = _running[^1];
                if (_running.Count == 1)
                {
                    // Alone and still out of blocks: the pool cannot hold this sequence any longer.
                    _running.RemoveAt(_running.Count - 1);
                    Retire(s, s.End(FinishReason.Length));
                    preemptedSelf = true;
                    break;
                }
                Preempt(victim);
                if (victim == s) { preemptedSelf = true; break; }
            }
            if (preemptedSelf) break;   // s was the youngest: nothing after it is left to schedule
            _batch.Add(s);
            budget -= count;
        }
        // 2. Admit waiting sequences, oldest first, while the whole pending prompt's blocks are free.
        while (_waiting.Count > 0 && budget > 0 && _running.Count < _options.MaxBatch && _batch.Count < _options.MaxBatch)
        {
            var s = _waiting[0];
            if (s.Kv.BlocksNeeded(s.Tokens.Count) > _pool.TotalBlocks)
            {
                // A preempted sequence that has outgrown the whole pool can never come back.
                _waiting.RemoveAt(0);
                Retire(s, s.End(FinishReason.Length));
                continue;
            }
            int reused = 0;
            if (_pool.PrefixCaching)
            {
                // n > 1: the other completions wait one step for the first one's prompt blocks, then share them.
                if (s.Index > 0 && SiblingPrefilling(s)) break;
                reused = s.Kv.AttachPrefix(s.PromptSpan);
            }
            if (!s.Kv.TryReserve(s.Tokens.Count))
            {
                if (reused > 0) s.Kv.Release();   // the shared blocks go back to the cache
                break;
            }
            if (reused > 0) Interlocked.Add(ref _statPrefixHits, reused);
            _waiting.RemoveAt(0);
            InsertByOrder(_running, s);
            _batch.Add(s);
            budget -= Math.Min(s.Pending, budget);
        }
    }

    // The first completion of s's request is running and has not cached its whole prompt yet (and the
    // prompt has a whole block to share).
    private bool SiblingPrefilling(EngineSequence s)
    {
        var first = s.Request.Sequences[0];
        return s.PromptLength > _pool.BlockSize && first.Finished == null && first.Kv.Length < first.PromptLength && _running.Contains(first);
    }

    private void Preempt(EngineSequence s)
    {
        _running.Remove(s);
        s.Kv.Release();
        InsertByOrder(_waiting, s);
        Interlocked.Increment(ref _statPreemptions);
    }

    private void Execute()
    {
        int n = _batch.Count, V = _model.VocabularySize;
        int budget = _options.MaxBatchTokens, total = 0;
        if (_counts.Length < n) _counts = new int[n * 2];
        _batchKv.Clear();
        for (int i = 0; i < n; i++)
        {
            var s = _batch[i];
            int count = Math.Min(s.Pending, budget);
            budget -= count;
            _counts[i] = count;
            total += count;
            _batchKv.Add(s.Kv);
        }
        if (_tokens.Length < total) _tokens = new int[total * 2];
        int o = 0;
        for (int i = 0; i < n; i++)
        {
            var s = _batch[i];
            for (int j = 0; j < _counts[i]; j++) _tokens[o++] = s.Tokens[s.Kv.Length + j];
        }
        if (_logits.Length < (long)n * V) _logits = new float[n * V];
        _decoder.ForwardPaged(_batchKv, _tokens.AsSpan(0, total), _counts.AsSpan(0, n), _logits);
        Interlocked.Increment(ref _statSteps);
        Volatile.Write(ref _statLastBatch, n);
        for (int i = 0; i < n; i++)
        {
            var s = _batch[i];
            // Prompt blocks this step filled become shareable (prefix caching; nothing when off).
            if (s.Kv.Length - _counts[i] < s.PromptLength) s.Kv.RegisterPromptBlocks(s.PromptSpan);
            if (s.Generated == 0) Interlocked.Add(ref _statPrompt, _counts[i]);
            if (s.Pending > 0) continue;   // a prompt prefilled in chunks: more to come before sampling
            var row = _logits.AsSpan(i * V, V);
            int id = s.Sampler.Next(row, s.PromptSpan, s.GeneratedSpan);
            float? logprob = null;
            IReadOnlyList<TokenLogprob>? top = null;
            // Every token is scored for the completion's confidence (mean logprob, mean entropy H = −Σ p·log p):
            // one pass over V next to a forward of the whole model.
            Generation.Sampler.LogSoftmax(row, _logprobs);
            s.Score(_logprobs[id], Entropy(_logprobs, _entropyScratch));
            if (s.Logprobs != null)
            {
                logprob = _logprobs[id];
                if (s.Request.Options.TopLogprobs > 0) top = Top(_logprobs, s.Request.Options.TopLogprobs);
            }
            s.Request.CompletionTokens++;
            Interlocked.Increment(ref _statGenerated);
            var chunk = s.Accept(id, logprob, top, _endOfSequence, ContextLength);
            if (s.Finished != null)
            {
                _running.Remove(s);
                Retire(s, chunk);
            }
            else s.Request.Output.Writer.TryWrite(chunk);
        }
    }

    private IReadOnlyList<TokenLogprob> Top(float[] logprobs, int k)
    {
        var best = new List<int>(k + 1);
        for (int i = 0; i < logprobs.Length; i++)
        {
            if (best.Count == k && logprobs[i] <= logprobs[best[^1]]) continue;
            int at = best.Count;
            while (at > 0 && logprobs[best[at - 1]] < logprobs[i]) at--;
            best.Insert(at, i);
            if (best.Count > k) best.RemoveAt(k);
        }
        return best.Select(i => new TokenLogprob(i, Tokenizer.Decode([i]), logprobs[i])).ToArray();
    }

    // A finished sequence: its blocks go back at once; the request's last one carries the usage and closes the stream.
    private void Retire(EngineSequence s, GenerationChunk chunk)
    {
        s.Kv.Release();
        var r = s.Request;
        if (--r.Remaining == 0 && !r.Done)
        {
            r.Done = true;
            r.Output.Writer.TryWrite(chunk with { Usage = new GenerationUsage(r.Prompt.Length, r.CompletionTokens) });
            r.Output.Writer.TryComplete();
            r.Cancellation.Dispose();
        }
        else r.Output.Writer.TryWrite(chunk);
    }

    private void FailBatch(Exception e)
    {
        foreach (var s in _batch)
        {
            s.Kv.Release();
            _running.Remove(s);
            var r = s.Request;
            if (r.Done) continue;
            r.Done = true;
            foreach (var other in r.Sequences)
            {
                if (other == s) continue;
                other.Kv.Release();
                _running.Remove(other);
                _waiting.Remove(other);
            }
            r.Output.Writer.TryComplete(e);
        }
        _batch.Clear();
    }

    private void CancelEverything()
    {
        while (_calls.TryDequeue(out var call)) call();
        foreach (var s in _running.Concat(_waiting).ToList()) Retire(s, s.End(FinishReason.Cancelled));
        _running.Clear();
        _waiting.Clear();
        while (_incoming.TryDequeue(out var r))
            foreach (var s in r.Sequences) Retire(s, s.End(FinishReason.Cancelled));
    }

    private void PublishCounts()
    {
        Volatile.Write(ref _statCachedBlocks, _pool.CachedBlocks);
        Volatile.Write(ref _statWaiting, _waiting.Count);
        Volatile.Write(ref _statRunning, _running.Count);
    }

    /// <summary>Cancels what is still queued or running (their streams end "cancelled"), stops the model thread, frees the pool.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping = true;
        _signal.Release();
        _thread.Join();
        _pool.Dispose();   // the semaphore is left to the GC: a late cancellation may still release it
        if (_ownsModel) _model.Dispose();
    }

    // H = −Σ p·log p over one row of log-probabilities, vectorised (one SIMD exp and one dot over V instead of V
    // scalar Math.Exp calls per generated token). −∞ (masked ids) is clamped to float.MinValue, whose exp is 0 and
    // whose product with it is −0, so masked ids add nothing as in the definition.
    private static double Entropy(ReadOnlySpan<float> logprobs, float[] scratch)
    {
        var clamped = scratch.AsSpan(0, logprobs.Length);
        var probabilities = scratch.AsSpan(logprobs.Length, logprobs.Length);
        System.Numerics.Tensors.TensorPrimitives.Max(logprobs, float.MinValue, clamped);
        System.Numerics.Tensors.TensorPrimitives.Exp(clamped, probabilities);
        return -System.Numerics.Tensors.TensorPrimitives.Dot(probabilities, clamped);
    }
}
