// Greedy decoding of an encoder-decoder model for evaluation during training (HF's generate with
// num_beams = 1, do_sample = False): the encoder runs once, the decoder starts from
// decoder_start_token_id and appends the argmax token through the model's cache until </s> or
// maxNewTokens. Beam search and sampling live in Loom.Inference (the CLI passes them in as a
// generator function); this is the dependency-free default the training library itself can run.
using Loom.Models;

namespace Loom.Training.Seq2Seq;

/// <summary>Greedy generation through <see cref="ISeq2SeqModel"/>'s cache.</summary>
public static class GreedySeq2SeqDecoder
{
    /// <summary>The generated ids after the start token, without the final &lt;/s&gt;.</summary>
    public static int[] Generate(ISeq2SeqModel model, ReadOnlySpan<int> source, int maxNewTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (maxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), maxNewTokens, "Generate at least one token.");
        var output = new List<int>(maxNewTokens);
        using var cache = model.Encode(source, rows: 1, capacity: maxNewTokens);
        Span<int> token = [model.DecoderStartTokenId];
        for (int step = 0; step < maxNewTokens; step++)
        {
            var logits = model.DecodeNext(cache, token);
            int best = 0;
            for (int v = 1; v < logits.Length; v++) if (logits[v] > logits[best]) best = v;
            if (best == model.EosTokenId) break;
            output.Add(best);
            token[0] = best;
        }
        return output.ToArray();
    }
}
