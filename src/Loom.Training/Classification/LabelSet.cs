// The id ↔ name map of a classifier (Hugging Face's id2label / label2id). Given in the config, or
// inferred from the training data: the distinct names sorted — numerically when every name is a
// whole number (so 0, 1, 2, 10 and not 0, 1, 10, 2), otherwise ordinally, as sklearn's LabelEncoder
// sorts — so the same data always gives the same ids. A label outside a given set is an error naming
// file:line: guessing an id would train on a class the user never declared.
using System.Globalization;
using Loom.Models.Classification;

namespace Loom.Training.Classification;

/// <summary>Class names in id order.</summary>
public sealed class LabelSet
{
    private readonly Dictionary<string, int> _ids;

    /// <summary>Names, index = class id (id2label).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>How many scores the model gives per example.</summary>
    public int Count => Names.Count;

    /// <summary>The problem the labels describe.</summary>
    public ProblemType ProblemType { get; }

    public LabelSet(IReadOnlyList<string> names, ProblemType problemType)
    {
        ArgumentNullException.ThrowIfNull(names);
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i])) throw new ArgumentException($"labels[{i}] is empty; every label needs a name.");
            if (!_ids.TryAdd(names[i], i)) throw new ArgumentException($"labels lists \"{names[i]}\" twice; each label once.");
        }
        if (names.Count == 0) throw new ArgumentException("labels is empty; give the class names, or leave labels out to infer them from the data.");
        if (problemType == ProblemType.SingleLabel && names.Count < 2)
            throw new ArgumentException($"labels has {names.Count} class ({names[0]}); classification needs at least two classes (for one real-valued target use task: regression).");
        Names = names.ToArray();
        ProblemType = problemType;
    }

    /// <summary>
    /// The labels of <paramref name="examples"/>: sorted class names, or for regression LABEL_0.. one per target value.
    /// </summary>
    public static LabelSet Infer(IReadOnlyList<LabeledText> examples, ProblemType problemType)
    {
        if (examples.Count == 0) throw new ArgumentException("There are no training examples to infer the labels from.");
        if (problemType == ProblemType.Regression)
        {
            int width = examples[0].Values?.Length ?? 1;
            return new LabelSet(Enumerable.Range(0, width).Select(i => $"LABEL_{i}").ToArray(), problemType);
        }
        var distinct = examples.SelectMany(e => e.Labels).Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count == 0) throw new InvalidDataException("No example has a label; multi-label data needs at least one label somewhere (or give labels: in the config).");
        bool numeric = distinct.All(n => long.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _));
        var sorted = numeric
            ? distinct.OrderBy(n => long.Parse(n, CultureInfo.InvariantCulture)).ToList()
            : distinct.Order(StringComparer.Ordinal).ToList();
        if (problemType == ProblemType.SingleLabel && sorted.Count < 2)
            throw new InvalidDataException($"Every training example has the label \"{sorted[0]}\" ({examples[0].Source}); a classifier needs examples of at least two classes.");
        return new LabelSet(sorted, problemType);
    }

    /// <summary>The id of <paramref name="name"/>, or −1.</summary>
    public int IdOf(string name) => _ids.TryGetValue(name, out int id) ? id : -1;

    /// <summary>The class id of a single-label example; an unknown label is an error naming its line.</summary>
    public int ClassOf(LabeledText example)
    {
        if (example.Labels.Length != 1) throw new InvalidDataException($"{example.Where}: the example has {example.Labels.Length} labels; single-label classification needs exactly one.");
        int id = IdOf(example.Labels[0]);
        if (id < 0) throw Unknown(example, example.Labels[0]);
        return id;
    }

    /// <summary>The targets of an example as the loss reads them: 0/1 per label (multi-label) or its values (regression).</summary>
    public float[] TargetsOf(LabeledText example)
    {
        if (ProblemType == ProblemType.Regression)
        {
            var v = example.Values ?? throw new InvalidDataException($"{example.Where}: the example has no numeric target.");
            if (v.Length != Count) throw new InvalidDataException($"{example.Where}: the target has {v.Length} value(s) but the model has {Count} output(s) (num_labels); give every example the same number of targets.");
            return v;
        }
        var t = new float[Count];
        foreach (var name in example.Labels)
        {
            int id = IdOf(name);
            if (id < 0) throw Unknown(example, name);
            t[id] = 1f;
        }
        return t;
    }

    private InvalidDataException Unknown(LabeledText example, string name) =>
        new($"{example.Where}: the label \"{name}\" is not in the label set ({string.Join(", ", Names.Take(20))}{(Count > 20 ? ", ..." : "")}); fix the line, or add \"{name}\" to labels: in the config.");
}
