// What a model would occupy, computed from its config before anything is allocated, so a run that
// cannot fit is refused with figures instead of dying in an allocation. Bytes are doubles: an absurd
// config (vocab_size 2e9 × n_embd 1e6) must give a huge figure, not a wrapped-around long.
namespace Loom.Models;

/// <summary>Planned bytes of a model configuration.</summary>
/// <param name="ParameterBytes">The parameter block (the gradient block is the same size).</param>
/// <param name="VocabularyBytes">The part of the parameters that grows with vocab_size (embedding and head).</param>
/// <param name="ActivationBytes">The activation block for the planned batch shape (0 without one).</param>
/// <param name="LogitsBytes">The part of the activations that grows with vocab_size (the logits).</param>
public sealed record ModelMemory(double ParameterBytes, double VocabularyBytes, double ActivationBytes, double LogitsBytes)
{
    /// <summary>
    /// f(layers) for a quantity that grows linearly with the layer count, from f(1) and f(2): planning
    /// a billion layers one by one would itself exhaust memory.
    /// </summary>
    public static double LinearInLayers(int layers, Func<int, long> f)
    {
        try
        {
            if (layers <= 2) return f(layers);
            double one = f(1), two = f(2);
            return one + (layers - 1.0) * (two - one);
        }
        catch (OverflowException) { return double.PositiveInfinity; }
    }
}
