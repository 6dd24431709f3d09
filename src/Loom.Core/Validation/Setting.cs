// The one way an options record or a model config rejects a value: an ArgumentException that names
// the field as the user wrote it (a snake_case path such as "train.max_steps" or
// "model.layer_norm_epsilon", built by the caller's prefix), the value, and what it must be. Each
// record's Validate(prefix) calls these, so every setting fails the same way and never by dumping a
// whole record.
using System.Globalization;

namespace Loom.Core.Validation;

/// <summary>Checks of single settings; each throws <see cref="ArgumentException"/> naming the setting and its value.</summary>
public static class Setting
{
    /// <summary>The error for <paramref name="name"/> = <paramref name="value"/>, which must be <paramref name="requirement"/>.</summary>
    public static ArgumentException Error(string name, object? value, string requirement) =>
        new($"{name} is {Show(value)}; it must be {requirement}.");

    /// <summary>Requires <paramref name="value"/> ≥ <paramref name="min"/>.</summary>
    public static void AtLeast(string name, long value, long min)
    {
        if (value < min) throw Error(name, value, min == 1 ? "at least 1" : $"at least {min}");
    }

    /// <summary>Requires a finite value &gt; 0 (NaN and infinities are refused).</summary>
    public static void Positive(string name, double value)
    {
        if (!(double.IsFinite(value) && value > 0)) throw Error(name, value, "a finite number greater than 0");
    }

    /// <summary>Requires a finite value ≥ 0.</summary>
    public static void NonNegative(string name, double value)
    {
        if (!(double.IsFinite(value) && value >= 0)) throw Error(name, value, "a finite number of at least 0");
    }

    /// <summary>Requires <paramref name="low"/> &lt; value &lt; <paramref name="high"/>.</summary>
    public static void Between(string name, double value, double low, double high)
    {
        if (!(value > low && value < high))
            throw Error(name, value, $"more than {low.ToString(CultureInfo.InvariantCulture)} and less than {high.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>Requires <paramref name="value"/> to be one of <paramref name="allowed"/>.</summary>
    public static void OneOf(string name, string? value, params string[] allowed)
    {
        if (value is null || Array.IndexOf(allowed, value) < 0)
            throw Error(name, value, "one of " + string.Join(", ", allowed.Select(a => $"\"{a}\"")));
    }

    private static string Show(object? value) => value switch
    {
        null => "missing",
        string s => $"\"{s}\"",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
