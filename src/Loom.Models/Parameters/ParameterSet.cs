// A model's parameters as one planned native block (llm.c: "params_memory"), and a second block for
// the gradients of the trainable ones only. Each tensor is a named slice with its shape, whether
// weight decay applies and its role; models keep the slice indexes, so a hot loop never looks a
// name up. A model built for inference freezes everything and so allocates no gradient block at all.
using Loom.Core.Tensors;

namespace Loom.Models.Parameters;

/// <summary>Parameters, and gradients for the trainable ones, each one aligned native block.</summary>
public sealed unsafe class ParameterSet : IDisposable
{
    private readonly List<ParameterSpec> _specs;
    private readonly Dictionary<string, int> _index;
    private NativeBuffer? _gradients;
    private NativeBuffer? _discard;   // destination for the weight gradient of a frozen norm (the kernels always write one)

    /// <summary>Parameter values.</summary>
    public NativeBuffer Values { get; }

    /// <summary>Gradients of the trainable tensors, packed; null when nothing is trainable.</summary>
    public NativeBuffer? Gradients
    {
        get
        {
            ZeroAllPending();   // raw memory: every tensor must hold its real gradient
            return _gradients;
        }
    }

    /// <summary>Total number of parameters.</summary>
    public long Count { get; }

    /// <summary>Number of trainable parameters.</summary>
    public long TrainableCount { get; private set; }

    /// <summary>The tensors in block order.</summary>
    public IReadOnlyList<ParameterSpec> Specs => _specs;

    /// <summary>Floats in the value block, alignment padding included.</summary>
    public long Floats { get; }

    /// <summary>Floats in the gradient block (trainable tensors only, padding included); 0 when nothing is trainable.</summary>
    public long GradientFloats { get; private set; }

    /// <summary>True when at least one tensor is trainable (a gradient block exists).</summary>
    public bool HasGradients => _gradients != null;

    /// <summary>
    /// Lays out <paramref name="tensors"/> (each start 64-byte aligned) and allocates the value block,
    /// zeroed, and a gradient block for the tensors <paramref name="trainable"/> accepts (all when null).
    /// </summary>
    public ParameterSet(IEnumerable<(string Name, long[] Shape, bool WeightDecay)> tensors, Func<string, bool>? trainable = null)
    {
        _specs = new List<ParameterSpec>();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, shape, decay) in tensors)
        {
            var spec = new ParameterSpec(name, shape, offset, decay);
            if (!_index.TryAdd(name, _specs.Count)) throw new ArgumentException($"Two parameters are named \"{name}\".");
            _specs.Add(spec);
            offset += Pad(spec.Count);
        }
        Count = _specs.Sum(s => s.Count);
        Floats = offset;
        Values = new NativeBuffer(offset * sizeof(float));
        SetTrainable(trainable ?? (_ => true));
    }

    /// <summary>The tensor names a model of <paramref name="configuration"/> has, in block order (no allocation).</summary>
    public static IReadOnlyList<string> NamesOf(object configuration) =>
        (Families.ModelFamilies.ForConfiguration(configuration)?.ParameterTensors
            ?? throw new NotSupportedException($"{configuration.GetType().Name}: its family cannot list its tensors."))(configuration).Select(t => t.Name).ToList();

    /// <summary>Floats one block of <paramref name="tensors"/> would hold (padding included), without allocating it.</summary>
    public static long PlanFloats(IEnumerable<(string Name, long[] Shape, bool WeightDecay)> tensors) =>
        tensors.Sum(t => Pad(t.Shape.Aggregate(1L, (a, b) => checked(a * b))));

    // Each tensor starts 64-byte aligned.
    private static long Pad(long n) => (n + 15) & ~15L;

    /// <summary>
    /// Sets each tensor's role (trainable when <paramref name="trainable"/> returns true for its name) and
    /// re-plans the gradient block, zeroed. Call before creating an optimizer or mixed-precision state:
    /// theirs are sized by the trainable tensors.
    /// </summary>
    public void SetTrainable(Func<string, bool> trainable)
    {
        ArgumentNullException.ThrowIfNull(trainable);
        long g = 0, count = 0, discard = 0;
        for (int i = 0; i < _specs.Count; i++)
        {
            var s = _specs[i];
            bool train = trainable(s.Name);
            _specs[i] = s with { Role = train ? ParameterRole.Trainable : ParameterRole.Frozen, GradientOffset = train ? g : -1 };
            if (train) { g += Pad(s.Count); count += s.Count; }
            else if (s.Shape.Length == 1) discard = Math.Max(discard, s.Count);
        }
        _gradients?.Dispose();
        _discard?.Dispose();
        _gradients = null;
        _discard = null;
        CancelPending();   // the new block is allocated zeroed
        GradientFloats = g;
        TrainableCount = count;
        if (g > 0)
        {
            _gradients = new NativeBuffer(g * sizeof(float));
            if (discard > 0) _discard = new NativeBuffer(discard * sizeof(float));
        }
    }

    private readonly HashSet<int> _heldByProjection = [];

    /// <summary>
    /// Marks tensor <paramref name="index"/> as held by its projection in another form (quantized
    /// blocks): loaders skip it and its region of the value block is never written, so (the block
    /// being calloc'd) it takes no memory. It must be frozen.
    /// </summary>
    public void MarkHeldByProjection(int index)
    {
        if (IsTrainable(index))
            throw new InvalidOperationException($"Parameter \"{_specs[index].Name}\" is trainable; only a frozen weight can be held in quantized form (QLoRA trains adapters beside it, not the weight).");
        _heldByProjection.Add(index);
    }

    /// <summary>True when tensor <paramref name="index"/>'s values live in its projection (see <see cref="MarkHeldByProjection"/>).</summary>
    public bool IsHeldByProjection(int index) => _heldByProjection.Contains(index);

    /// <summary>Index of the tensor named <paramref name="name"/>.</summary>
    public int IndexOf(string name) => _index.TryGetValue(name, out int i) ? i
        : throw new KeyNotFoundException($"The model has no parameter \"{name}\".");

    /// <summary>True when tensor <paramref name="index"/> is trainable.</summary>
    public bool IsTrainable(int index) => _specs[index].GradientOffset >= 0;

    /// <summary>Values of tensor <paramref name="index"/>.</summary>
    public Span<float> Value(int index)
    {
        var s = _specs[index];
        return new((float*)Values.Pointer + s.Offset, checked((int)s.Count));
    }

    /// <summary>Gradient of tensor <paramref name="index"/>; throws when it is frozen.</summary>
    public Span<float> Gradient(int index)
    {
        var g = RawGradient(index);
        if (_pendingCount > 0 && _pendingZero[index]) ZeroPending(index, g);
        return g;
    }

    /// <summary>
    /// Gradient of tensor <paramref name="index"/> for a kernel that can either write it or add to it:
    /// <paramref name="overwrite"/> is true when the gradient is still logically zero after
    /// <see cref="ZeroGradientsOnFirstWrite"/> — the caller must then write every element (a GEMM with
    /// β = 0), which saves zeroing the tensor and reading it back. Later calls in the same step get false
    /// (add). Throws when the tensor is frozen.
    /// </summary>
    public Span<float> GradientToWrite(int index, out bool overwrite)
    {
        var g = RawGradient(index);
        overwrite = _pendingCount > 0 && _pendingZero[index];
        if (overwrite)
        {
            _pendingZero[index] = false;
            _pendingCount--;
        }
        return g;
    }

    private Span<float> RawGradient(int index)
    {
        var s = _specs[index];
        if (s.GradientOffset < 0)
            throw new InvalidOperationException(_gradients == null
                ? $"Parameter \"{s.Name}\" has no gradient: the model was built for inference (every parameter frozen); build it for training to run Backward."
                : $"Parameter \"{s.Name}\" is frozen and has no gradient.");
        return new((float*)_gradients!.Pointer + s.GradientOffset, checked((int)s.Count));
    }

    // Deferred zeroing (ZeroGradientsOnFirstWrite): _pendingZero[i] means tensor i's gradient is zero
    // although its memory still holds the last step's values. Every accessor but GradientToWrite zeroes
    // a pending tensor before handing it out, so code that only adds into gradients stays correct.
    private bool[] _pendingZero = [];
    private int _pendingCount;
    private Loom.Core.Threading.WorkerPool? _pendingPool;

    private void ZeroPending(int index, Span<float> g)
    {
        _pendingZero[index] = false;
        _pendingCount--;
        if (g.Length >= 1 << 16) Loom.Core.Kernels.Arithmetic.Clear(g, _pendingPool);
        else g.Clear();
    }

    private void ZeroAllPending()
    {
        if (_pendingCount == 0) return;
        for (int i = 0; i < _pendingZero.Length && _pendingCount > 0; i++)
            if (_pendingZero[i]) ZeroPending(i, RawGradient(i));
    }

    private void CancelPending()
    {
        if (_pendingCount == 0) return;
        Array.Clear(_pendingZero);
        _pendingCount = 0;
    }

    /// <summary>
    /// The gradient of a trainable 1-D tensor, or a scratch region to throw the gradient of a frozen one
    /// into (the norm kernels always produce their weight gradient; its cost is one row sum).
    /// </summary>
    internal Span<float> GradientOrDiscard(int index)
    {
        var s = _specs[index];
        if (s.GradientOffset >= 0) return Gradient(index);
        if (_discard == null || _discard.ByteLength < s.Count * sizeof(float))
            throw new InvalidOperationException("Backward needs trainable parameters: the model was built for inference (every parameter frozen).");
        return new((float*)_discard.Pointer, checked((int)s.Count));
    }

    /// <summary>Throws unless a gradient block exists (Backward on an inference model).</summary>
    public void EnsureGradients()
    {
        if (_gradients == null)
            throw new InvalidOperationException("The model has no trainable parameter (it was built for inference, or everything is frozen); Backward has nothing to compute.");
    }

    /// <summary>The whole gradient block (trainable tensors only, padding included and always zero); empty when none.</summary>
    public Span<float> AllGradients
    {
        get
        {
            if (_gradients == null) return default;
            ZeroAllPending();
            return new((float*)_gradients.Pointer, checked((int)GradientFloats));
        }
    }

    /// <summary>The whole value block.</summary>
    public Span<float> AllValues => new((float*)Values.Pointer, checked((int)Floats));

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients()
    {
        CancelPending();
        AllGradients.Clear();
    }

    /// <summary>Sets every gradient to zero, split across <paramref name="pool"/> (the block is 0.5 GB for GPT-2 124M).</summary>
    public void ZeroGradients(Loom.Core.Threading.WorkerPool? pool)
    {
        CancelPending();
        Loom.Core.Kernels.Arithmetic.Clear(AllGradients, pool);
    }

    /// <summary>
    /// Sets every gradient to zero without a pass over the block: each tensor is marked zero, the first
    /// backward kernel that asks for it through <see cref="GradientToWrite"/> writes it instead of adding
    /// to it (the weight-gradient GEMMs, β = 0), and any other access zeroes it first (across
    /// <paramref name="pool"/> when large). For GPT-2 124M this saves writing 0.5 GB of zeros per step and
    /// the GEMMs' read of the old gradients; the numbers are those of eager <see cref="ZeroGradients()"/>
    /// (x + 0 = x). Single-threaded use only, as the backward that follows.
    /// </summary>
    public void ZeroGradientsOnFirstWrite(Loom.Core.Threading.WorkerPool? pool = null)
    {
        if (_gradients == null) return;
        if (_pendingZero.Length != _specs.Count) _pendingZero = new bool[_specs.Count];
        int n = 0;
        for (int i = 0; i < _specs.Count; i++)
        {
            bool trainable = _specs[i].GradientOffset >= 0;
            _pendingZero[i] = trainable;
            if (trainable) n++;
        }
        _pendingCount = n;
        _pendingPool = pool;
    }

    /// <summary>Tensors whose gradient is still marked zero by <see cref="ZeroGradientsOnFirstWrite"/> (not yet written or read).</summary>
    public int PendingZeroGradients => _pendingCount;

    public void Dispose()
    {
        Values.Dispose();
        _gradients?.Dispose();
        _discard?.Dispose();
    }
}
