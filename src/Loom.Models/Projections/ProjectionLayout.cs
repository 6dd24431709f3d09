// How a projection's weight matrix is stored.
namespace Loom.Models.Projections;

/// <summary>Storage order of a projection weight.</summary>
public enum ProjectionLayout
{
    /// <summary>(out, in), PyTorch's nn.Linear: y = x·Wᵀ + b (Llama, BERT, tied LM heads).</summary>
    OutIn,
    /// <summary>(in, out), GPT-2's Conv1D: y = x·W + b.</summary>
    InOut,
}
