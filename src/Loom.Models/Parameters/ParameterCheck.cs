// Loaded weights must be numbers: a NaN or an infinity in a checkpoint (a run that diverged, a
// corrupt download) would otherwise give NaN losses or garbage text with exit code 0.
namespace Loom.Models.Parameters;

/// <summary>Checks parameter values after a load.</summary>
public static class ParameterCheck
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming the first tensor that holds NaN or ±∞, the element and <paramref name="source"/>.</summary>
    public static void EnsureFinite(ParameterSet parameters, string source)
    {
        for (int i = 0; i < parameters.Specs.Count; i++)
            if (!parameters.IsHeldByProjection(i)) EnsureFinite(parameters.Value(i), parameters.Specs[i].Name, source);
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> when <paramref name="state"/> — optimizer state laid
    /// out like the gradient block (trainable tensors only, each at its GradientOffset), such as AdamW's
    /// moments — holds NaN or ±∞, naming the tensor (<paramref name="name"/> of "h.0.attn.c_attn.weight").
    /// </summary>
    public static void EnsureFiniteLikeGradients(ParameterSet parameters, ReadOnlySpan<float> state, string name, string source)
    {
        if (state.Length != parameters.GradientFloats)
            throw new ArgumentException($"{name} holds {state.Length:N0} floats; the model's trainable tensors take {parameters.GradientFloats:N0}.", nameof(state));
        if (float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Dot(state, state) * 0f)) return;
        foreach (var spec in parameters.Specs)
            if (spec.IsTrainable)
                EnsureFinite(state.Slice(checked((int)spec.GradientOffset), checked((int)spec.Count)), $"{name} of {spec.Name}", source);
    }

    /// <summary>Throws <see cref="InvalidDataException"/> when <paramref name="values"/> (tensor <paramref name="name"/> of <paramref name="source"/>) holds NaN or ±∞.</summary>
    public static void EnsureFinite(ReadOnlySpan<float> values, string name, string source)
    {
        // Any NaN or infinity makes the sum of x·0 NaN; a cheap vector pass finds whether to look further.
        if (float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Dot(values, values) * 0f)) return;
        for (int j = 0; j < values.Length; j++)
            if (!float.IsFinite(values[j]))
                throw new InvalidDataException($"{source}: tensor \"{name}\" holds {values[j]} at element {j:N0} of {values.Length:N0}; the weights are corrupt (a diverged run or a damaged file). Use an earlier checkpoint or the original model.");
    }
}
