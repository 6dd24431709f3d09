// Range checks shared by the stage option records (fractions in [0, 1], positional lists of them),
// in Setting's words: "toxicity.threshold is -1; it must be between 0 and 1".
using Loom.Core.Validation;

namespace Loom.Data.Stages;

/// <summary>Checks of stage settings; each throws <see cref="ArgumentException"/> naming the setting and its value.</summary>
public static class StageSettings
{
    /// <summary>Requires 0 ≤ <paramref name="value"/> ≤ 1.</summary>
    public static void Fraction(string name, double value)
    {
        if (!(value >= 0 && value <= 1)) throw Setting.Error(name, value, "between 0 and 1");
    }

    /// <summary>Requires exactly <paramref name="count"/> fractions, one per <paramref name="meaning"/>.</summary>
    public static void Fractions(string name, IReadOnlyList<double>? values, int count, string meaning)
    {
        if (values is null || values.Count != count)
            throw new ArgumentException($"{name} holds {(values is null ? "nothing" : values.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + " value(s)")}; " +
                                        $"it must hold exactly {count}, one fraction for each of {meaning}, in that order.");
        for (int i = 0; i < count; i++) Fraction($"{name}[{i}]", values[i]);
    }
}
