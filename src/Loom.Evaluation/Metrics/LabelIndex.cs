// The ordered label set of a metric and the map from a label value to its position in it. Without
// explicit labels it is sklearn's unique_labels: the sorted union of the values present. With
// explicit labels (the trainer passes 0..num_labels−1) every value must belong to the set: unlike
// sklearn, which silently drops samples whose label is not listed, a stray value is an error here,
// because in Loom it always means a bug or a corrupt label file.
namespace Loom.Evaluation.Metrics;

internal sealed class LabelIndex
{
    private readonly Dictionary<int, int> _position;

    public int[] Labels { get; }

    public int Count => Labels.Length;

    private LabelIndex(int[] labels)
    {
        Labels = labels;
        _position = new Dictionary<int, int>(labels.Length);
        for (int i = 0; i < labels.Length; i++) _position[labels[i]] = i;
    }

    /// <summary>Explicit labels (checked unique, order kept) or the sorted union of the values in <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static LabelIndex Create(IReadOnlyList<int>? labels, ReadOnlySpan<int> a, string nameA, ReadOnlySpan<int> b = default, string nameB = "")
    {
        if (labels is null)
        {
            var set = new SortedSet<int>();
            foreach (int v in a) set.Add(v);
            foreach (int v in b) set.Add(v);
            return new LabelIndex([.. set]);
        }
        if (labels.Count == 0)
            throw new ArgumentException("labels is empty: give the full label set, or null to infer it from the data.", nameof(labels));
        var index = new LabelIndex([.. labels]);
        if (index._position.Count != labels.Count)
            throw new ArgumentException($"labels [{string.Join(", ", labels)}] repeats a label: each label must appear once.", nameof(labels));
        index.RequireMembers(a, nameA);
        index.RequireMembers(b, nameB);
        return index;
    }

    public void RequireMembers(ReadOnlySpan<int> values, string name)
    {
        for (int i = 0; i < values.Length; i++)
            if (!_position.ContainsKey(values[i]))
                throw new ArgumentException(
                    $"{name}[{i}] is {values[i]}, which is not in the label set [{string.Join(", ", Labels)}]: fix the data or pass the full label set.", name);
    }

    public int PositionOf(int label) => _position[label];

    public bool Contains(int label) => _position.ContainsKey(label);
}
