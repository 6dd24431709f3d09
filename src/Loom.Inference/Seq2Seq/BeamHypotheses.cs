// transformers' BeamHypotheses (generation/beam_search.py, v4.30): the n best finished hypotheses
// of one source, each scored sum_logprobs / len(hyp)^length_penalty with len counting the decoder
// start token and not the </s>; and is_done, the stopping rule of early_stopping.
namespace Loom.Inference.Seq2Seq;

internal sealed class BeamHypotheses
{
    private readonly int _numBeams, _maxLength;
    private readonly float _lengthPenalty;
    private readonly BeamEarlyStopping _early;
    private readonly List<(double Score, int[] Hyp)> _beams = [];
    private double _worst = 1e9;

    public BeamHypotheses(int numBeams, float lengthPenalty, BeamEarlyStopping early, int maxLength)
    {
        _numBeams = numBeams; _lengthPenalty = lengthPenalty; _early = early; _maxLength = maxLength;
    }

    public int Count => _beams.Count;

    public void Add(int[] hyp, double sumLogprobs)
    {
        double score = sumLogprobs / Math.Pow(hyp.Length, _lengthPenalty);
        if (_beams.Count < _numBeams || score > _worst)
        {
            _beams.Add((score, hyp));
            if (_beams.Count > _numBeams)
            {
                // drop the worst; the new worst is the second lowest (Python's sorted: by score, then index)
                var order = _beams.Select((b, i) => (b.Score, i)).OrderBy(x => x.Score).ThenBy(x => x.i).ToList();
                _beams.RemoveAt(order[0].i);
                _worst = order[1].Score;
            }
            else _worst = Math.Min(score, _worst);
        }
    }

    public bool IsDone(double bestSumLogprobs, int curLen)
    {
        if (_beams.Count < _numBeams) return false;
        return _early switch
        {
            BeamEarlyStopping.True => true,
            BeamEarlyStopping.Heuristic => _worst >= bestSumLogprobs / Math.Pow(curLen, _lengthPenalty),
            _ => _worst >= bestSumLogprobs / Math.Pow(_lengthPenalty > 0 ? _maxLength : curLen, _lengthPenalty),
        };
    }

    /// <summary>The best hypothesis (the last of a stable sort by score, as finalize's sorted(...).pop()).</summary>
    public (double Score, int[] Hyp) Best()
    {
        var best = _beams[0];
        foreach (var b in _beams) if (b.Score >= best.Score) best = b;
        return best;
    }
}
