// Generation for the evaluation of text-to-text fine-tuning: greedy through the model's decoder cache
// (Loom.Training.Seq2Seq.GreedySeq2SeqDecoder). Beam search belongs to Loom.Inference's seq2seq
// generator; until it is wired here, num_beams above 1 is refused with a message rather than
// silently decoded greedily.
using Loom.Models;
using Loom.Training.Seq2Seq;

namespace Loom.Cli.Commands;

internal static class Seq2SeqGeneration
{
    public static int[] Generate(ISeq2SeqModel model, int[] source, int maxNewTokens, int numBeams)
    {
        if (numBeams != 1)
            throw new NotSupportedException($"seq2seq.num_beams is {numBeams}; evaluation during fine-tuning decodes greedily (num_beams: 1) — run `loom generate` on the saved model for beam search.");
        return GreedySeq2SeqDecoder.Generate(model, source, maxNewTokens);
    }
}
