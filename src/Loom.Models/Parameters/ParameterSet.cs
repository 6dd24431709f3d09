// A model's parameters as one planned native block (llm.c: "params_memory"), with a second block
// of identical layout for the gradients. Each tensor is a named slice with its shape and whether
// weight decay applies; models keep the slice indexes, so a hot loop never looks a name up.
using Loom.Core.Tensors;

namespace Loom.Models.Parameters;

/// <summary>One parameter tensor's place in the block.</summary>
public sealed record ParameterSpec(string Name, long[] Shape, long Offset, bool WeightDecay)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>Parameters and gradients, each one aligned native block.</summary>
public sealed unsafe class ParameterSet : IDisposable
{
    private readonly List<ParameterSpec> _specs;
    private readonly Dictionary<string, int> _index;

    /// <summary>Parameter values.</summary>
    public NativeBuffer Values { get; }

    /// <summary>Gradients, same layout as <see cref="Values"/>.</summary>
    public NativeBuffer Gradients { get; }

    /// <summary>Total number of parameters.</summary>
    public long Count { get; }

    /// <summary>The tensors in block order.</summary>
    public IReadOnlyList<ParameterSpec> Specs => _specs;

    /// <summary>Lays out <paramref name="tensors"/> (each start 64-byte aligned) and allocates both blocks, zeroed.</summary>
    public ParameterSet(IEnumerable<(string Name, long[] Shape, bool WeightDecay)> tensors)
    {
        _specs = new List<ParameterSpec>();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, shape, decay) in tensors)
        {
            var spec = new ParameterSpec(name, shape, offset, decay);
            _index[name] = _specs.Count;
            _specs.Add(spec);
            offset += Padded(spec.Count);
        }
        Count = _specs.Sum(s => s.Count);
        Values = new NativeBuffer(offset * sizeof(float));
        Gradients = new NativeBuffer(offset * sizeof(float));
        Floats = offset;
    }

    /// <summary>Floats one block of <paramref name="tensors"/> would hold (padding included), without allocating it.</summary>
    public static long PlanFloats(IEnumerable<(string Name, long[] Shape, bool WeightDecay)> tensors) =>
        tensors.Sum(t => Padded(t.Shape.Aggregate(1L, (a, b) => checked(a * b))));

    // Each tensor starts 64-byte aligned.
    private static long Padded(long count) => (count + 15) & ~15L;

    /// <summary>Floats in each block, alignment padding included.</summary>
    public long Floats { get; }

    /// <summary>Index of the tensor named <paramref name="name"/>.</summary>
    public int IndexOf(string name) => _index.TryGetValue(name, out int i) ? i
        : throw new KeyNotFoundException($"The model has no parameter \"{name}\".");

    /// <summary>Values of tensor <paramref name="index"/>.</summary>
    public Span<float> Value(int index) => Slice(Values, _specs[index]);

    /// <summary>Gradient of tensor <paramref name="index"/>.</summary>
    public Span<float> Gradient(int index) => Slice(Gradients, _specs[index]);

    /// <summary>The whole gradient block (padding included, always zero).</summary>
    public Span<float> AllGradients => new((float*)Gradients.Pointer, checked((int)Floats));

    /// <summary>The whole value block.</summary>
    public Span<float> AllValues => new((float*)Values.Pointer, checked((int)Floats));

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => AllGradients.Clear();

    private static Span<float> Slice(NativeBuffer b, ParameterSpec s) => new((float*)b.Pointer + s.Offset, checked((int)s.Count));

    public void Dispose()
    {
        Values.Dispose();
        Gradients.Dispose();
    }
}

/// <summary>Plans named float regions of one block (activations), then allocates it once.</summary>
public sealed unsafe class BufferPlan : IDisposable
{
    private long _floats;
    private NativeBuffer? _block;

    /// <summary>Reserves <paramref name="count"/> floats; returns the region's offset.</summary>
    public long Add(long count)
    {
        if (_block != null) throw new InvalidOperationException("The plan is already allocated; re-plan for a new shape.");
        long at = _floats;
        _floats += (count + 15) & ~15L;
        return at;
    }

    /// <summary>Allocates the block.</summary>
    public void Allocate() => _block = new NativeBuffer(Math.Max(1, _floats) * sizeof(float));

    /// <summary>Total bytes.</summary>
    public long Bytes => _floats * sizeof(float);

    /// <summary>The region at <paramref name="offset"/> of <paramref name="count"/> floats.</summary>
    public Span<float> Span(long offset, long count) =>
        new((float*)(_block ?? throw new InvalidOperationException("Allocate the plan first.")).Pointer + offset, checked((int)count));

    public void Dispose() => _block?.Dispose();
}
