// Labelled texts → encoded examples: each text tokenised by the encoder within max_length (cut by
// the truncation policy and counted, never dropped), each label mapped through the label set (an
// unknown label is an error naming file:line).
using Loom.Models.Classification;

namespace Loom.Training.Classification;

/// <summary>Encoded examples and what encoding them did.</summary>
public sealed class ClassificationDataset
{
    /// <summary>The examples as read.</summary>
    public IReadOnlyList<LabeledText> Texts { get; }

    /// <summary>Encoded examples, same order.</summary>
    public IReadOnlyList<EncodedExample> Examples { get; }

    /// <summary>The problem the targets describe (SingleLabel when encoded without labels).</summary>
    public ProblemType ProblemType { get; }

    /// <summary>The id padded positions hold (the encoder's, which the model knows as pad_token_id).</summary>
    public int PadId { get; private init; }

    /// <summary>Examples whose content was cut to fit max_length.</summary>
    public int TruncatedCount { get; }

    private ClassificationDataset(IReadOnlyList<LabeledText> texts, IReadOnlyList<EncodedExample> examples, int truncated, ProblemType problemType)
    {
        ProblemType = problemType;
        Texts = texts;
        Examples = examples;
        TruncatedCount = truncated;
    }

    /// <summary>Encodes <paramref name="texts"/>; with <paramref name="labels"/> null the examples carry no targets (prediction).</summary>
    public static ClassificationDataset Encode(IReadOnlyList<LabeledText> texts, SequenceEncoder encoder, LabelSet? labels, int maxLength, TruncationPolicy policy)
    {
        var examples = new EncodedExample[texts.Count];
        int truncated = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            var t = texts[i];
            var (ids, types, cut) = encoder.Encode(t.Text, t.Pair, maxLength, policy);
            if (cut) truncated++;
            int cls = -1;
            float[]? targets = null;
            if (labels != null)
            {
                if (labels.ProblemType == ProblemType.SingleLabel) cls = labels.ClassOf(t);
                else targets = labels.TargetsOf(t);
            }
            examples[i] = new EncodedExample(ids, types, cls, targets, i, cut);
        }
        return new ClassificationDataset(texts, examples, truncated, labels?.ProblemType ?? ProblemType.SingleLabel) { PadId = encoder.PadId };
    }

    /// <summary>The examples at <paramref name="indices"/> (a fold or hold-out part), renumbered from 0.</summary>
    public ClassificationDataset Subset(IReadOnlyList<int> indices)
    {
        var texts = indices.Select(i => Texts[i]).ToArray();
        var examples = indices.Select((i, k) => Examples[i] with { Index = k }).ToArray();
        return new ClassificationDataset(texts, examples, examples.Count(e => e.Truncated), ProblemType) { PadId = PadId };
    }

    /// <summary>
    /// The declared labels no example carries (none for regression): a class the model can never learn
    /// from this set, or never be measured on, which the run must report rather than pass over.
    /// </summary>
    public IReadOnlyList<string> LabelsWithoutExamples(LabelSet labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (ProblemType == ProblemType.Regression) return [];
        var seen = new bool[labels.Count];
        foreach (var e in Examples)
        {
            if (e.Class >= 0 && e.Class < seen.Length) seen[e.Class] = true;
            else if (e.Targets is { } t)
                for (int j = 0; j < t.Length && j < seen.Length; j++) if (t[j] == 1f) seen[j] = true;
        }
        return labels.Names.Where((_, i) => !seen[i]).ToList();
    }

    /// <summary>Class ids (single-label) or, for stratifying other problems, the id of each example's first true label (0 for none/regression).</summary>
    public int[] StratificationKeys() =>
        Examples.Select(e => e.Class >= 0 ? e.Class : ProblemType == ProblemType.MultiLabel && e.Targets is { } t && Array.IndexOf(t, 1f) is var j and >= 0 ? j : 0).ToArray();
}
