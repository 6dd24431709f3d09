// The scores of text-to-text generation as Hugging Face's run_summarization.py reports them (ROUGE-1,
// ROUGE-2, ROUGE-L F-measures of rouge-score with the Porter stemmer, averaged over examples) plus
// exact match after SQuAD's answer normalisation (lower case, no punctuation or articles, collapsed
// whitespace) — the right measure for short structured targets such as GSM8K's final answers.
// Both come from Loom.Evaluation's metrics, which are checked against rouge-score and the official
// SQuAD script.
using Loom.Evaluation.Metrics;

namespace Loom.Training.Seq2Seq;

/// <summary>ROUGE-1/2/L F-measures and exact match over predictions and references (each 0-1).</summary>
public sealed record TextToTextScores(double Rouge1, double Rouge2, double RougeL, double ExactMatch, int Examples)
{
    /// <summary>Scores <paramref name="predictions"/> against <paramref name="references"/> pairwise.</summary>
    public static TextToTextScores Of(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(references);
        if (predictions.Count != references.Count) throw new ArgumentException($"{predictions.Count} predictions for {references.Count} references; they must pair up.");
        if (predictions.Count == 0) throw new ArgumentException("There are no predictions to score.");
        var targets = references.Select(r => (IReadOnlyList<string>)[r]).ToList();
        double em = 0;
        for (int i = 0; i < predictions.Count; i++) em += Squad.ExactMatch(references[i], predictions[i]);
        return new TextToTextScores(
            Rouge.Corpus(targets, predictions, "rouge1", stemmer: true).FMeasure,
            Rouge.Corpus(targets, predictions, "rouge2", stemmer: true).FMeasure,
            Rouge.Corpus(targets, predictions, "rougeL", stemmer: true).FMeasure,
            em / predictions.Count, predictions.Count);
    }
}
