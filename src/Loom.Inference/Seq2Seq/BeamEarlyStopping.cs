// transformers' early_stopping for beam search (generation/beam_search.py BeamHypotheses.is_done).
namespace Loom.Inference.Seq2Seq;

/// <summary>When a beam search over one source stops.</summary>
public enum BeamEarlyStopping
{
    /// <summary>early_stopping=False (HF's default): stop once num_beams hypotheses are finished and the best open beam, scored at the current length, cannot beat the worst of them.</summary>
    Heuristic,
    /// <summary>early_stopping=True: stop as soon as num_beams hypotheses are finished.</summary>
    True,
    /// <summary>early_stopping="never": stop only when no open beam can still beat the worst finished one (canonical beam search; scored at max_length when length_penalty &gt; 0).</summary>
    Never,
}
