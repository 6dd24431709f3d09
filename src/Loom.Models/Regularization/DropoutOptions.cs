// Dropout probabilities, with Hugging Face's config names in the comments.
namespace Loom.Models.Regularization;

/// <summary>Dropout settings; all zero (off) by default.</summary>
public sealed record DropoutOptions
{
    /// <summary>On the embeddings' output and each residual branch (GPT-2 embd_pdrop/resid_pdrop, BERT hidden_dropout_prob).</summary>
    public float Hidden { get; init; }

    /// <summary>On the attention probabilities, after the softmax (GPT-2 attn_pdrop, BERT attention_probs_dropout_prob).</summary>
    public float Attention { get; init; }

    /// <summary>Seed of the masks: the same seed and step give the same masks.</summary>
    public ulong Seed { get; init; } = 0x5EED;

    /// <summary>Throws unless every probability is in [0, 1).</summary>
    public void Validate()
    {
        if (!(Hidden >= 0f && Hidden < 1f)) throw new ArgumentException($"Hidden dropout must be in [0, 1); got {Hidden}.");
        if (!(Attention >= 0f && Attention < 1f)) throw new ArgumentException($"Attention dropout must be in [0, 1); got {Attention}.");
    }
}
