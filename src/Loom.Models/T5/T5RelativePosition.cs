// T5's relative position bias (Raffel et al. 2020, §2.1 "Positional embeddings"; Shaw et al. 2018):
// each (query i, key j) pair reads a learned scalar per head from a table of num_buckets rows,
// indexed by the bucket of the relative position j − i. transformers' modeling_t5.py
// T5Attention._relative_position_bucket: half the buckets hold exact distances below
// max_exact = num_buckets/2 (of each direction when bidirectional), the rest grow logarithmically up
// to max_distance, beyond which all share the last bucket. The encoder is bidirectional (n = j − i
// of either sign, the sign picks the half); the decoder is causal (only j ≤ i, by −min(n, 0)).
// The log is taken in float32 as PyTorch does, so the integer buckets equal its table exactly
// (checked for −300..300 against the fixture).
using System.Numerics.Tensors;

namespace Loom.Models.T5;

/// <summary>Relative-position buckets and the position-bias table lookup, forward and backward.</summary>
public static class T5RelativePosition
{
    /// <summary>The bucket of <paramref name="relativePosition"/> (key − query).</summary>
    public static int Bucket(int relativePosition, bool bidirectional, int numBuckets, int maxDistance)
    {
        int bucket = 0, n = relativePosition;
        if (bidirectional)
        {
            numBuckets /= 2;
            if (n > 0) bucket += numBuckets;
            n = Math.Abs(n);
        }
        else n = -Math.Min(n, 0);
        int maxExact = numBuckets / 2;
        if (n < maxExact) return bucket + n;
        // max_exact + (log(n / max_exact) / log(max_distance / max_exact) · (num_buckets − max_exact)).to(long), in float32
        float large = MathF.Log((float)n / maxExact) / (float)Math.Log((double)maxDistance / maxExact) * (numBuckets - maxExact);
        return bucket + Math.Min(maxExact + (int)large, numBuckets - 1);
    }

    /// <summary>
    /// Buckets of a (queries × keys) block whose first query sits at position <paramref name="queryOffset"/>
    /// (0 in training; the cached length when decoding one position): buckets[i·keys + j] = Bucket(j − (i + offset)).
    /// </summary>
    public static void Buckets(Span<int> buckets, int queries, int keys, int queryOffset, bool bidirectional, int numBuckets, int maxDistance)
    {
        if (buckets.Length != queries * keys) throw new ArgumentException($"buckets has {buckets.Length} elements; {queries} queries × {keys} keys need {queries * keys}.");
        for (int i = 0; i < queries; i++)
            for (int j = 0; j < keys; j++)
                buckets[i * keys + j] = Bucket(j - (i + queryOffset), bidirectional, numBuckets, maxDistance);
    }

    /// <summary>bias[h, i, j] = table[buckets[i, j], h]: (heads, pairs) from the (num_buckets, heads) table.</summary>
    public static void Forward(ReadOnlySpan<float> table, ReadOnlySpan<int> buckets, int heads, Span<float> bias)
    {
        int pairs = buckets.Length;
        if (bias.Length != heads * pairs) throw new ArgumentException($"bias has {bias.Length} elements; {heads} heads × {pairs} pairs need {heads * pairs}.");
        for (int h = 0; h < heads; h++)
        {
            var row = bias.Slice(h * pairs, pairs);
            for (int p = 0; p < pairs; p++) row[p] = table[buckets[p] * heads + h];
        }
    }

    /// <summary>dtable[buckets[i, j], h] += dbias[h, i, j] (the embedding lookup's backward).</summary>
    public static void Backward(ReadOnlySpan<float> biasGradient, ReadOnlySpan<int> buckets, int heads, Span<float> tableGradient)
    {
        int pairs = buckets.Length;
        for (int h = 0; h < heads; h++)
        {
            var row = biasGradient.Slice(h * pairs, pairs);
            for (int p = 0; p < pairs; p++) tableGradient[buckets[p] * heads + h] += row[p];
        }
    }

    /// <summary>Adds the (heads, Tq, Tk) bias to every batch row of (batch, heads, Tq, Tk) scores.</summary>
    internal static void AddToScores(Span<float> scores, ReadOnlySpan<float> bias, int batch)
    {
        int n = bias.Length;
        for (int b = 0; b < batch; b++) TensorPrimitives.Add(scores.Slice(b * n, n), bias, scores.Slice(b * n, n));
    }
}
