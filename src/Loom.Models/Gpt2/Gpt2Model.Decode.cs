// Incremental decoding with a key/value cache: each new token runs the model for one position,
// attending over the cached keys and values of all earlier positions, instead of recomputing the
// whole window. The arithmetic is the forward pass's, line for line, for a single row, through the
// same projections (a dense one uses matrix-vector products for one row, reading each weight once).
using System.Numerics.Tensors;
using Loom.Core.Kernels;
using Loom.Core.Tensors;

namespace Loom.Models.Gpt2;

/// <summary>Cached keys and values of one sequence, (L, 2, NH, capacity, hs), plus one token's scratch.</summary>
public sealed unsafe class Gpt2KvCache : IDecoderCache
{
    internal readonly NativeBuffer Block;
    internal readonly NativeBuffer Scratch;
    internal readonly int Layers, Heads, HeadSize, Embedding, Vocab;

    /// <summary>Most positions the cache holds (≤ n_positions).</summary>
    public int Capacity { get; }

    /// <summary>Positions cached so far.</summary>
    public int Length { get; internal set; }

    internal Gpt2KvCache(Gpt2Config c, int capacity)
    {
        Capacity = capacity;
        Layers = c.Layers; Heads = c.Heads; HeadSize = c.Embedding / c.Heads; Embedding = c.Embedding; Vocab = c.VocabSize;
        Block = new NativeBuffer((long)Layers * 2 * c.Embedding * capacity * sizeof(float), zero: false);
        // x, ln, attention output, tmp (C each), qkv (3C), hidden (4C), scores (capacity), logits (V), 2 stats.
        Scratch = new NativeBuffer(((long)4 * c.Embedding + 3 * c.Embedding + 4 * c.Embedding + capacity + c.VocabSize + 2) * sizeof(float));
    }

    /// <summary>Keys (kind 0) or values (kind 1) of layer <paramref name="layer"/>, head <paramref name="head"/>: (capacity, hs).</summary>
    internal Span<float> Slot(int layer, int kind, int head) =>
        new((float*)Block.Pointer + ((((long)layer * 2 + kind) * Heads + head) * Capacity) * HeadSize, Capacity * HeadSize);

    internal Span<float> ScratchSpan(long offset, int count) => new((float*)Scratch.Pointer + offset, count);

    /// <summary>Forgets the cached positions (the memory is reused).</summary>
    public void Clear() => Length = 0;

    public void Dispose()
    {
        Block.Dispose();
        Scratch.Dispose();
    }
}

public sealed partial class Gpt2Model
{
    /// <summary>A cache for one sequence of up to <paramref name="capacity"/> positions (default n_positions).</summary>
    public Gpt2KvCache CreateCache(int? capacity = null)
    {
        RequireWholeModel("Decoding with a KV cache");
        int cap = capacity ?? Config.MaxPositions;
        if (cap < 1 || cap > Config.MaxPositions) throw new ArgumentOutOfRangeException(nameof(capacity), cap, $"Capacity must be in [1, n_positions = {Config.MaxPositions}].");
        return new Gpt2KvCache(Config, cap);
    }

    /// <inheritdoc/>
    public IDecoderCache CreateDecoderCache(int? capacity = null) => CreateCache(capacity);

    /// <inheritdoc/>
    public ReadOnlySpan<float> DecodeNext(IDecoderCache cache, int token) =>
        DecodeNext(cache as Gpt2KvCache ?? throw new ArgumentException("The cache was not made by a GPT-2 model's CreateDecoderCache.", nameof(cache)), token);

    /// <summary>
    /// Runs one token at position <c>cache.Length</c>, appends its keys and values, and returns the
    /// logits for the next token (valid until the next call on this cache).
    /// </summary>
    public ReadOnlySpan<float> DecodeNext(Gpt2KvCache cache, int token)
    {
        int C = Config.Embedding, V = Config.VocabSize, NH = Config.Heads, hs = C / NH, pos = cache.Length;
        if (pos >= cache.Capacity) throw new InvalidOperationException($"The cache is full ({cache.Capacity} positions); clear it or start a new one.");
        if ((uint)token >= (uint)V) throw new ArgumentOutOfRangeException(nameof(token), token, $"Token id {token} is outside the vocabulary of {V}.");
        var p = Parameters;
        float eps = Config.LayerNormEpsilon;
        long o = 0;
        Span<float> Take(int n) { var s = cache.ScratchSpan(o, n); o += n; return s; }
        Span<float> x = Take(C), ln = Take(C), att = Take(C), tmp = Take(C), qkv = Take(3 * C), hidden = Take(4 * C),
            scores = Take(cache.Capacity), logits = Take(V), mean = Take(1), rstd = Take(1);

        // x = wte[token] + wpe[pos]
        TensorPrimitives.Add(p.Value(_wte).Slice(token * C, C), p.Value(_wpe).Slice(pos * C, C), x);
        float scale = 1f / MathF.Sqrt(hs);
        for (int l = 0; l < Config.Layers; l++)
        {
            var L = _layers[l];
            LayerNorm.Forward(x, p.Value(L.Ln1W), p.Value(L.Ln1B), ln, mean, rstd, C, eps, _pool);
            L.Attn.Forward(ln, qkv, 1);
            for (int h = 0; h < NH; h++)
            {
                var keys = cache.Slot(l, 0, h);
                var values = cache.Slot(l, 1, h);
                qkv.Slice(C + h * hs, hs).CopyTo(keys.Slice(pos * hs, hs));
                qkv.Slice(2 * C + h * hs, hs).CopyTo(values.Slice(pos * hs, hs));
                var q = qkv.Slice(h * hs, hs);
                // Causal by construction: only positions 0..pos exist in the cache.
                var s = scores[..(pos + 1)];
                for (int j = 0; j <= pos; j++) s[j] = TensorPrimitives.Dot(q, keys.Slice(j * hs, hs)) * scale;
                TensorPrimitives.SoftMax(s, s);
                var y = att.Slice(h * hs, hs);
                y.Clear();
                for (int j = 0; j <= pos; j++) TensorPrimitives.MultiplyAdd(values.Slice(j * hs, hs), s[j], y, y);
            }
            L.Proj.Forward(att, tmp, 1);
            TensorPrimitives.Add(x, tmp, x);
            LayerNorm.Forward(x, p.Value(L.Ln2W), p.Value(L.Ln2B), ln, mean, rstd, C, eps, _pool);
            L.Fc.Forward(ln, hidden, 1);
            Activations.GeluForward(hidden, hidden, _pool);
            L.Mproj.Forward(hidden, tmp, 1);
            TensorPrimitives.Add(x, tmp, x);
        }
        LayerNorm.Forward(x, p.Value(_lnfW), p.Value(_lnfB), ln, mean, rstd, C, eps, _pool);
        Head.Forward(ln, logits, 1);
        cache.Length = pos + 1;
        return logits;
    }
}
