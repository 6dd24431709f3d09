// The embedding used when no model is given: a hashed bag of words (Weinberger et al., "Feature Hashing for Large
// Scale Multitask Learning", 2009): each word and each pair of adjacent words adds ±(1 + ln tf)-weighted mass to
// one of `Dimensions` buckets chosen by FNV-1a (the sign by another bit of the hash), and the vector is
// L2-normalised. It sees vocabulary and phrasing, not meaning; `--model DIR` swaps in the model's own embeddings
// through the same IEmbeddingGenerator seam.
using Loom.Monitoring.Text;
using Microsoft.Extensions.AI;

namespace Loom.Monitoring.Embeddings;

/// <summary>Hashed bag-of-words (unigrams and bigrams) embeddings.</summary>
public sealed class HashedBagOfWordsEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>The embedding width.</summary>
    public int Dimensions { get; }

    /// <summary>An embedder of <paramref name="dimensions"/> buckets.</summary>
    public HashedBagOfWordsEmbedder(int dimensions = 512)
    {
        if (dimensions < 8) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "Use at least 8 dimensions.");
        Dimensions = dimensions;
        _metadata = new EmbeddingGeneratorMetadata("loom-hashed-bow", null, $"hashed-bow-{dimensions}", dimensions);
    }

    /// <summary>The embedding of one text.</summary>
    public float[] Embed(string text)
    {
        var words = Words.Split(text);
        var tf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < words.Count; i++)
        {
            tf[words[i]] = tf.GetValueOrDefault(words[i]) + 1;
            if (i > 0) { string bigram = words[i - 1] + " " + words[i]; tf[bigram] = tf.GetValueOrDefault(bigram) + 1; }
        }
        var v = new double[Dimensions];
        foreach (var (term, count) in tf)
        {
            uint h = 2166136261;
            foreach (char ch in term) h = (h ^ ch) * 16777619;
            double sign = (h & 0x80000000) != 0 ? -1 : 1;
            v[(int)((h & 0x7FFFFFFF) % (uint)Dimensions)] += sign * (1 + Math.Log(count));
        }
        double norm = Math.Sqrt(v.Sum(x => x * x));
        var e = new float[Dimensions];
        if (norm > 0) for (int i = 0; i < e.Length; i++) e[i] = (float)(v[i] / norm);
        return e;
    }

    /// <inheritdoc/>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var text in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result.Add(new Embedding<float>(Embed(text)) { ModelId = _metadata.DefaultModelId });
        }
        return Task.FromResult(result);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey != null ? null
        : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc/>
    public void Dispose() { }
}
