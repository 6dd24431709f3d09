// Token-by-token generation for one sequence with a causal language model, streamed through the
// tokenizer's streaming decoder so no half character is ever emitted. A model that offers
// IBatchedDecoder (GPT-2, Llama) gets a paged cache of its own, the prompt prefilled in one batched
// forward and each token decoded by the same call the engine and the `inference` bench make; one that
// offers only IIncrementalDecoder keeps its contiguous key/value cache, filled one position at a time;
// any other runs the full forward over the window for each new token (the same logits, at quadratic
// cost). (GPT-2 took its contiguous cache until 2026-12-02: the prompt one token at a time and the
// attention on the calling thread alone.) When the context window fills, the cache is re-primed with the most
// recent half window. Serving many requests at once is InferenceEngine's job.
using Loom.Models;
using Loom.Models.Paged;
using Loom.Tokenizers;

namespace Loom.Inference.Generation;

/// <summary>Generates text from a prompt.</summary>
public sealed class TextGenerator
{
    private readonly ICausalLanguageModel _model;
    private readonly BpeTokenizer _tokenizer;
    private readonly int _window;

    /// <param name="model">The model (an <see cref="IBatchedDecoder"/> decodes with a paged KV cache, an <see cref="IIncrementalDecoder"/> with its own; others recompute the window).</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="window">Context kept (defaults to the model's context length).</param>
    public TextGenerator(ICausalLanguageModel model, BpeTokenizer tokenizer, int? window = null)
    {
        if (tokenizer.VocabularySize > model.VocabularySize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabularySize} ids but the model's vocab_size is {model.VocabularySize}; they do not belong together.");
        _model = model;
        _tokenizer = tokenizer;
        _window = Math.Min(window ?? model.ContextLength, model.ContextLength);
    }

    // One token in, next-token logits out, over a bounded window.
    private interface IStepper : IDisposable
    {
        int Length { get; }
        int Capacity { get; }
        void Clear();
        ReadOnlySpan<float> Next(int token);
    }

    private sealed class CachedStepper(IIncrementalDecoder model, int window) : IStepper
    {
        private readonly IDecoderCache _cache = model.CreateDecoderCache(window);
        public int Length => _cache.Length;
        public int Capacity => _cache.Capacity;
        public void Clear() => _cache.Clear();
        public ReadOnlySpan<float> Next(int token) => model.DecodeNext(_cache, token);
        public void Dispose() => _cache.Dispose();
    }

    private sealed class PagedStepper : IStepper
    {
        private readonly IBatchedDecoder _model;
        private readonly KvBlockPool _pool;
        private readonly KvSequence[] _seq;
        private readonly int[] _token = new int[1], _count = new int[1];
        private readonly float[] _logits;

        public PagedStepper(IBatchedDecoder model, int window)
        {
            _model = model;
            const int blockSize = 16;
            long blocks = (window + blockSize - 1) / blockSize;
            _pool = new KvBlockPool(model.KvShape, blockSize, blocks * model.KvShape.FloatsPerPosition * blockSize * sizeof(float));
            _seq = [new KvSequence(_pool)];
            _logits = new float[model.VocabularySize];
            Capacity = window;
        }

        public int Length => _seq[0].Length;
        public int Capacity { get; }
        public void Clear() => _seq[0].Release();

        public ReadOnlySpan<float> Next(int token)
        {
            _token[0] = token;
            _count[0] = 1;
            if (!_seq[0].TryReserve(Length + 1)) throw new InvalidOperationException("The generator's KV pool is full.");
            _model.ForwardPaged(_seq, _token, _count, _logits);
            return _logits;
        }

        public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
        {
            if (!_seq[0].TryReserve(Length + tokens.Length)) throw new InvalidOperationException("The generator's KV pool is full.");
            _count[0] = tokens.Length;
            _model.ForwardPaged(_seq, tokens, _count, _logits);
            return _logits;
        }

        public void Dispose() => _pool.Dispose();
    }

    private sealed class RecomputeStepper(ICausalLanguageModel model, int window) : IStepper
    {
        private readonly int[] _ids = new int[window];
        public int Length { get; private set; }
        public int Capacity => window;
        public void Clear() => Length = 0;
        public ReadOnlySpan<float> Next(int token)
        {
            _ids[Length++] = token;
            model.Forward(_ids.AsSpan(0, Length), default, 1, Length);
            int v = model.VocabularySize;
            return model.Logits.Slice((Length - 1) * v, v);
        }
        public void Dispose() { }
    }

    // Index in text where the earliest stop sequence ending inside the last `pieceLength` chars starts, or −1.
    private static int FindStop(System.Text.StringBuilder text, int pieceLength, IReadOnlyList<string> stops)
    {
        int best = -1;
        foreach (var stop in stops)
        {
            if (stop.Length == 0) continue;
            int from = Math.Max(0, text.Length - pieceLength - stop.Length + 1);
            for (int i = from; i + stop.Length <= text.Length; i++)
            {
                int j = 0;
                while (j < stop.Length && text[i + j] == stop[j]) j++;
                if (j == stop.Length) { if (best < 0 || i < best) best = i; break; }
            }
        }
        return best;
    }

    /// <summary>Streams the continuation of <paramref name="prompt"/>, piece by piece.</summary>
    public IEnumerable<string> Generate(string prompt, SamplingOptions options, CancellationToken ct = default)
    {
        options.Validate();
        var tokens = new List<int>(_tokenizer.Encode(prompt, SpecialTokenPolicy.PlainText));
        if (tokens.Count == 0 && _tokenizer.SpecialTokens.TryGetValue("<|endoftext|>", out int eot)) tokens.Add(eot);
        if (tokens.Count == 0) throw new ArgumentException("The prompt is empty and the tokenizer has no <|endoftext|> to start from.");
        int promptLength = tokens.Count;
        var sampler = new Sampler(options);
        var decoder = _tokenizer.CreateStreamingDecoder();
        var text = new System.Text.StringBuilder();
        // With stop sequences, the last (longest stop − 1) chars are held back until no stop can begin in
        // them, so text that turns out to start a stop sequence is never printed.
        int holdBack = Math.Max(0, options.StopSequences.Select(st => st.Length).DefaultIfEmpty(0).Max() - 1);
        int emitted = 0;
        using IStepper cache = _model is IBatchedDecoder batched ? new PagedStepper(batched, _window)
            : _model is IIncrementalDecoder incremental ? new CachedStepper(incremental, _window)
            : new RecomputeStepper(_model, _window);
        // The logits live in the model's scratch; an iterator cannot hold a span across yields, so copy.
        var logits = new float[_model.VocabularySize];
        if (cache is PagedStepper paged) paged.Prefill(tokens.TakeLast(_window).ToArray()).CopyTo(logits);
        else foreach (int t in tokens.TakeLast(_window)) cache.Next(t).CopyTo(logits);
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            ct.ThrowIfCancellationRequested();
            int next = sampler.Next(logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens)[promptLength..]);
            tokens.Add(next);
            if (cache.Length == cache.Capacity)
            {
                cache.Clear();
                var recent = tokens.Skip(tokens.Count - 1 - _window / 2).Take(_window / 2).ToArray();
                if (cache is PagedStepper p) p.Prefill(recent);
                else foreach (int t in recent) cache.Next(t);
            }
            cache.Next(next).CopyTo(logits);
            if (_tokenizer.SpecialTokens.TryGetValue("<|endoftext|>", out int end) && next == end) break;
            string piece = decoder.Push(next);
            if (piece.Length == 0) continue;
            text.Append(piece);
            // A stop sequence can only be completed by this piece, so only the tail that ends with it is searched.
            int stopAt = FindStop(text, piece.Length, options.StopSequences);
            if (stopAt >= 0)
            {
                if (stopAt > emitted) yield return text.ToString(emitted, stopAt - emitted);
                yield break;
            }
            int safe = text.Length - holdBack;
            if (safe > emitted)
            {
                yield return text.ToString(emitted, safe - emitted);
                emitted = safe;
            }
        }
        string tail = decoder.Flush();
        text.Append(tail);
        int last = FindStop(text, tail.Length, options.StopSequences);
        if (last < 0) last = text.Length;
        if (last > emitted) yield return text.ToString(emitted, last - emitted);
    }
}
