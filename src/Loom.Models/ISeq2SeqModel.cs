// What training loops, generation and the CLI need from an encoder-decoder language model (T5 and
// later BART/Marian): teacher-forced (source, labels) batches in, mean token cross-entropy out; and
// generation through an encoder run once and a decoder cache (self-attention keys/values appended
// per step, cross-attention keys/values computed once from the encoder output). Shared code asks
// for this interface, never for a family type.
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Models;

/// <summary>A trainable encoder-decoder language model with cached decoding.</summary>
public interface ISeq2SeqModel : IDisposable
{
    /// <summary>The Hugging Face config record (<c>T5Config</c>).</summary>
    object Configuration { get; }

    /// <summary>Ids the embedding and the head cover.</summary>
    int VocabularySize { get; }

    /// <summary>The first decoder input (config.json's decoder_start_token_id).</summary>
    int DecoderStartTokenId { get; }

    /// <summary>End of sequence (config.json's eos_token_id).</summary>
    int EosTokenId { get; }

    /// <summary>Padding (config.json's pad_token_id); −100 labels become this in the decoder inputs.</summary>
    int PadTokenId { get; }

    /// <summary>Parameters and gradients.</summary>
    ParameterSet Parameters { get; }

    /// <summary>Fills the weights with the family's initialisation.</summary>
    void InitializeWeights(int seed);

    /// <summary>Reads every parameter by its Hugging Face name, checking shapes.</summary>
    void LoadWeights(SafetensorsFile file, string prefix = "");

    /// <summary>Writes model.safetensors and config.json.</summary>
    void Save(string directory);

    /// <summary>
    /// Teacher-forced forward: B sources of S ids (attention mask 1 = real, 0 = padding; empty = no
    /// padding) and B label rows of T ids (−100 = ignored); the decoder reads the labels shifted right
    /// behind the decoder start token. Returns the mean cross-entropy over labels ≠ −100.
    /// </summary>
    float Forward(ReadOnlySpan<int> inputIds, ReadOnlySpan<int> attentionMask, ReadOnlySpan<int> labels, int batch, int sourceLength, int targetLength);

    /// <summary>Adds the gradient of lossScale × the last mean loss to the gradients.</summary>
    void Backward(float lossScale = 1f);

    /// <summary>Logits of the last forward, (B·T, V).</summary>
    ReadOnlySpan<float> Logits { get; }

    /// <summary>
    /// Runs the encoder once over one source and returns a decoder cache of <paramref name="rows"/>
    /// hypotheses (beams or samples, all reading this source) for up to <paramref name="capacity"/>
    /// decoder positions; the cross-attention keys and values are computed here, once.
    /// </summary>
    ISeq2SeqDecoderCache Encode(ReadOnlySpan<int> sourceIds, int rows, int capacity);

    /// <summary>
    /// Runs one token per row at position <c>cache.Length</c>, appends it to the cache and returns the
    /// next-token logits, (rows, V), valid until the next call.
    /// </summary>
    ReadOnlySpan<float> DecodeNext(ISeq2SeqDecoderCache cache, ReadOnlySpan<int> tokens);
}
