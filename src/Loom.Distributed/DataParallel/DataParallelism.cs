// Data parallelism over an ICommunicator: DDP and ZeRO stages 1–3 (Rajbhandari et al., 2020, "ZeRO:
// Memory Optimizations Toward Training Trillion Parameter Models"; Zhao et al., 2023, "PyTorch FSDP").
// The training step (Loom.Training.Loop.TrainingStep) gives each rank its rows of every micro-batch and
// scales its backward so that gradients SUMMED over ranks are the single-process gradient; this class
// decides where the sums and the optimizer state live.
//
// Units. The flat parameter vector (the model's value block; with every tensor trainable it has the
// gradient block's layout) is cut into units: one per transformer block (ILayerHooks.LayerParameters)
// and a root unit with everything else (embeddings, final norm), as FSDP wraps each block and the root.
// Each unit of L floats is sharded FSDP-style: padded to N·c floats (c = ⌈L/N⌉ rounded up to 16), rank r
// owning flat positions [r·c, (r+1)·c) of the unit. A rank's local state (moment slices, gradient
// slices, ZeRO-3 parameter slices) is the concatenation of its chunks of every unit.
//
//   DDP    gradients all-reduced per block as soon as its backward ends (MPI_Iallreduce, overlapped with
//          the next block's backward), the root after the backward; full AdamW everywhere.
//   ZeRO-1 the same all-reduce; AdamW on this rank's chunks only (moments are chunk-sized); then each
//          unit's parameters are all-gathered.
//   ZeRO-2 each block's gradient is reduce-scattered when its backward ends (the root's after the
//          backward), so a rank keeps only its gradient chunks; AdamW on them; parameters all-gathered.
//   ZeRO-3 parameters live only as chunks: a unit is all-gathered just before its forward or backward
//          (the next block's gather started while the current one computes) and released after use
//          (its pages handed back to the OS with madvise(MADV_DONTNEED)); AdamW updates the chunks.
//
// Gradient accumulation: reductions happen only in the step's last micro-batch (DDP's no_sync).
// Every collective is issued in the same order on every rank: the hooks fire in layer order on each,
// and whatever a hook did not reduce is reduced by ReduceClipAndUpdate in that same order.
using System.Runtime.InteropServices;
using Loom.Core.Kernels;
using Loom.Core.Tensors;
using Loom.Core.Threading;
using Loom.Distributed.Communication;
using Loom.Models;
using Loom.Models.Parameters;
using Loom.Training.Loop;
using Loom.Training.Optimizers;

namespace Loom.Distributed.DataParallel;

/// <summary>One rank's side of data-parallel training (DDP or ZeRO-1/2/3).</summary>
public sealed unsafe class DataParallelism : IDataParallel, ILayerObserver, IDisposable
{
    private readonly ICommunicator _comm;
    private readonly ParameterSet _p;
    private readonly ILayerHooks? _hooks;
    private readonly WorkerPool _pool;
    private readonly AdamWOptions _adam;
    private readonly int _n, _r, _layers;
    private readonly long _g;

    // Units: ranges (flat start, length) in block order; root is unit _layers (or unit 0 without hooks).
    private readonly (long Start, long Length)[][] _units;
    private readonly long[] _unitLength, _chunk, _base;   // per unit: L, c, offset of this rank's chunk in the local state
    private readonly long _local;                          // Σ c
    private readonly Segment[] _segments;                  // this rank's chunks, cut at tensor boundaries
    private readonly AdamWOptimizer? _full;                 // DDP
    private readonly NativeBuffer? _m, _v, _gradShard, _paramShard;
    private readonly NativeBuffer? _staging, _send;         // N·max c floats (gathers, prefetch included); max c floats
    private readonly NativeBuffer? _reduceStaging;          // N·max c floats: packed gradients, apart from a prefetch in flight
    private readonly bool[] _reduced, _resident;
    private readonly CommunicationRequest[] _requests;
    private readonly double[] _scalar = new double[1];
    private int _prefetchUnit = -1;
    private CommunicationRequest _prefetch;
    private bool _last;
    private long _gatheredFloats, _peakGatheredFloats;

    private readonly record struct Segment(long Flat, int Length, long Local, bool Decay);

    /// <summary>The strategy.</summary>
    public DataParallelStrategy Strategy { get; }

    /// <summary>Optimizer state marked for host memory (ZeRO-Offload); on a CPU-only build every buffer is host memory already.</summary>
    public bool CpuOffload { get; }

    /// <inheritdoc/>
    public int Rank => _r;
    /// <inheritdoc/>
    public int Size => _n;
    /// <inheritdoc/>
    public int OptimizerStep { get; private set; }

    /// <param name="communicator">The ranks.</param>
    /// <param name="model">The model, built and initialised identically on every rank.</param>
    /// <param name="strategy">DDP or a ZeRO stage.</param>
    /// <param name="learningRate">AdamW's base rate (the schedule passes each step's).</param>
    /// <param name="weightDecay">AdamW's decoupled weight decay on the tensors marked for it.</param>
    /// <param name="cpuOffload">Keep optimizer state in host memory (see <see cref="CpuOffload"/>).</param>
    /// <param name="pool">Worker pool of the optimizer kernels.</param>
    public DataParallelism(ICommunicator communicator, ILanguageModel model, DataParallelStrategy strategy, float learningRate, float weightDecay, bool cpuOffload = false, WorkerPool? pool = null)
    {
        _comm = communicator;
        _p = model.Parameters;
        _n = communicator.Size;
        _r = communicator.Rank;
        _pool = pool ?? WorkerPool.Shared;
        Strategy = strategy;
        CpuOffload = cpuOffload;
        _adam = new AdamWOptions { LearningRate = learningRate, WeightDecay = weightDecay };
        if (!_p.HasGradients) throw new InvalidOperationException("Every parameter is frozen: data-parallel training has nothing to update.");
        _g = _p.GradientFloats;
        bool allTrainable = _p.Specs.All(s => s.IsTrainable);
        if (strategy != DataParallelStrategy.Ddp && !allTrainable)
            throw new ArgumentException($"distributed.strategy {Name(strategy)} shards the whole parameter vector, so it needs every parameter trainable; this model freezes some (LoRA or frozen layers): use distributed.strategy ddp.");
        _hooks = model as ILayerHooks;
        if (strategy == DataParallelStrategy.Zero3 && _hooks == null)
            throw new ArgumentException($"distributed.strategy zero3 gathers parameters block by block through the model's layer hooks, which {model.GetType().Name} does not offer; use zero2 (or ddp).");
        _layers = _hooks?.LayerCount ?? 0;
        _units = BuildUnits();
        int U = _units.Length;
        _unitLength = new long[U];
        _chunk = new long[U];
        _base = new long[U];
        for (int u = 0; u < U; u++)
        {
            _unitLength[u] = _units[u].Sum(x => x.Length);
            _chunk[u] = ((_unitLength[u] + _n - 1) / _n + 15) & ~15L;
            _base[u] = _local;
            _local += _chunk[u];
        }
        _reduced = new bool[U];
        _resident = new bool[U];
        _requests = new CommunicationRequest[U];
        _segments = strategy == DataParallelStrategy.Ddp ? [] : BuildSegments();
        long maxChunk = _chunk.Max();
        if (strategy == DataParallelStrategy.Ddp)
            _full = new AdamWOptimizer(_p, _adam, _pool);
        else
        {
            _m = new NativeBuffer(_local * sizeof(float));
            _v = new NativeBuffer(_local * sizeof(float));
            if (strategy >= DataParallelStrategy.Zero2) _gradShard = new NativeBuffer(_local * sizeof(float));
            if (strategy == DataParallelStrategy.Zero3) _paramShard = new NativeBuffer(_local * sizeof(float));
            _staging = new NativeBuffer(maxChunk * _n * sizeof(float));
            if (strategy >= DataParallelStrategy.Zero2) _reduceStaging = new NativeBuffer(maxChunk * _n * sizeof(float));
            _send = new NativeBuffer(maxChunk * sizeof(float));
        }
        if (_paramShard != null)
        {
            // Take this rank's chunks of the (identically initialised) model, then release the full copy.
            PullParameterShard();
            for (int u = 0; u < U; u++) Release(u);
        }
        else Array.Fill(_resident, true);
        if (_hooks != null) _hooks.LayerObserver = this;
    }

    private static string Name(DataParallelStrategy s) => s.ToString().ToLowerInvariant();

    private int Root => _units.Length - 1;

    // Blocks from the hooks, then the root: every range not in a block, merged where adjacent.
    private (long, long)[][] BuildUnits()
    {
        var specs = _p.Specs;
        var owner = new int[specs.Count];
        Array.Fill(owner, -1);
        var units = new List<(long, long)[]>();
        for (int l = 0; l < _layers; l++)
        {
            foreach (int i in _hooks!.LayerParameters(l)) owner[i] = l;
            units.Add(Ranges(i => owner[i] == l));
        }
        units.Add(Ranges(i => owner[i] < 0));
        return units.ToArray();

        // The gradient-block ranges of the chosen tensors, padding included, merged where contiguous.
        (long, long)[] Ranges(Func<int, bool> chosen)
        {
            var list = new List<(long Start, long Length)>();
            for (int i = 0; i < specs.Count; i++)
            {
                var s = specs[i];
                if (!chosen(i) || s.GradientOffset < 0) continue;
                long start = s.GradientOffset, length = (s.Count + 15) & ~15L;
                if (list.Count > 0 && list[^1].Start + list[^1].Length == start) list[^1] = (list[^1].Start, list[^1].Length + length);
                else list.Add((start, length));
            }
            return list.Select(x => (x.Start, x.Length)).ToArray();
        }
    }

    // This rank's chunk of every unit, cut where tensors begin and end (weight decay is per tensor).
    private Segment[] BuildSegments()
    {
        var result = new List<Segment>();
        var specs = _p.Specs;
        for (int u = 0; u < _units.Length; u++)
        {
            long lo = _r * _chunk[u], hi = lo + _chunk[u], unitPos = 0;
            foreach (var (start, length) in _units[u])
            {
                // tensors inside this range
                foreach (var s in specs)
                {
                    if (s.GradientOffset < start || s.GradientOffset >= start + length) continue;
                    long pos = unitPos + (s.GradientOffset - start);
                    long a = Math.Max(pos, lo), b = Math.Min(pos + s.Count, hi);
                    if (a < b) result.Add(new Segment(s.GradientOffset + (a - pos), checked((int)(b - a)), _base[u] + (a - lo), s.WeightDecay));
                }
                unitPos += length;
            }
        }
        return result.ToArray();
    }

    private Span<float> Local(NativeBuffer b) => new((void*)b.Pointer, checked((int)_local));
    private float* Grad => (float*)_p.Gradients!.Pointer;
    private float* Values => (float*)_p.Values.Pointer;

    // Unit u's flat positions [from, from + count) ↔ a packed buffer, range by range.
    private void Pack(int u, float* block, long from, long count, float* packed)
    {
        long pos = 0, end = from + count;
        foreach (var (start, length) in _units[u])
        {
            long a = Math.Max(pos, from), b = Math.Min(pos + length, end);
            if (a < b) new Span<float>(block + start + (a - pos), checked((int)(b - a))).CopyTo(new Span<float>(packed + (a - from), checked((int)(b - a))));
            pos += length;
        }
        if (end > pos) new Span<float>(packed + Math.Max(0, pos - from), checked((int)(end - Math.Max(pos, from)))).Clear();   // the padding to N·c
    }

    private void Unpack(int u, float* packed, float* block)
    {
        long pos = 0;
        foreach (var (start, length) in _units[u])
        {
            new Span<float>(packed + pos, checked((int)length)).CopyTo(new Span<float>(block + start, checked((int)length)));
            pos += length;
        }
    }

    // ---- the step, as TrainingStep drives it ----

    /// <inheritdoc/>
    public void SumOverRanks(Span<double> values) => _comm.AllReduceSum(values);

    /// <inheritdoc/>
    public void BeginStep()
    {
        Array.Clear(_reduced);
        _last = false;
    }

    /// <inheritdoc/>
    public void BeforeBackward(bool last) => _last = last;

    /// <inheritdoc/>
    public float ReduceClipAndUpdate(float learningRate, float maxNorm)
    {
        // Whatever the hooks did not reduce (a model without hooks, the root), in the hooks' order.
        for (int l = _layers - 1; l >= 0; l--) ReduceUnit(l);
        ReduceUnit(Root);
        if (Strategy <= DataParallelStrategy.Zero1)
            for (int u = 0; u < _units.Length; u++) _comm.Wait(_requests[u]);
        _last = false;
        float norm;
        if (Strategy <= DataParallelStrategy.Zero1) norm = GradientClipping.ClipGlobalNorm(_p, maxNorm, _pool);   // the full sum is on every rank
        else norm = ClipShards(maxNorm);
        OptimizerStep++;
        var decay = new AdamWSettings(learningRate, _adam.Beta1, _adam.Beta2, _adam.Epsilon, _adam.WeightDecay);
        var noDecay = decay with { WeightDecay = 0f };
        switch (Strategy)
        {
            case DataParallelStrategy.Ddp:
                _full!.Update(learningRate);
                break;
            case DataParallelStrategy.Zero1:
            case DataParallelStrategy.Zero2:
            {
                var m = Local(_m!);
                var v = Local(_v!);
                foreach (var s in _segments)
                {
                    var grad = Strategy == DataParallelStrategy.Zero1 ? new ReadOnlySpan<float>(Grad + s.Flat, s.Length) : Local(_gradShard!).Slice((int)s.Local, s.Length);
                    AdamW.Update(new Span<float>(Values + s.Flat, s.Length), grad, m.Slice((int)s.Local, s.Length), v.Slice((int)s.Local, s.Length), s.Decay ? decay : noDecay, OptimizerStep, _pool);
                }
                for (int u = 0; u < _units.Length; u++) AllGatherUnit(u, fromShard: false);
                break;
            }
            case DataParallelStrategy.Zero3:
            {
                DropPrefetch();   // it would bring the old values
                var m = Local(_m!);
                var v = Local(_v!);
                var w = Local(_paramShard!);
                var g = Local(_gradShard!);
                foreach (var s in _segments)
                    AdamW.Update(w.Slice((int)s.Local, s.Length), g.Slice((int)s.Local, s.Length), m.Slice((int)s.Local, s.Length), v.Slice((int)s.Local, s.Length), s.Decay ? decay : noDecay, OptimizerStep, _pool);
                for (int u = 0; u < _units.Length; u++) Release(u);   // every gathered copy is stale now
                break;
            }
        }
        return norm;
    }

    // ZeRO-2/3: ‖g‖ from each rank's slices (Σ of squares in double, summed over ranks), then the slices scaled as clip_grad_norm_ does.
    private float ClipShards(float maxNorm)
    {
        var g = Local(_gradShard!);
        double sum = 0;
        foreach (var s in _segments)
        {
            var t = g.Slice((int)s.Local, s.Length);
            sum += System.Numerics.Tensors.TensorPrimitives.Dot(t, t);
        }
        _scalar[0] = sum;
        _comm.AllReduceSum(_scalar);
        float total = (float)Math.Sqrt(_scalar[0]);
        float coef = Math.Min(1f, maxNorm / (total + 1e-6f));
        if (coef < 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(g, coef, g);
        return total;
    }

    // Reduces unit u's gradient once per step: DDP/ZeRO-1 start an all-reduce in place; ZeRO-2/3 reduce-scatter into this rank's slice.
    private void ReduceUnit(int u)
    {
        if (_reduced[u]) return;
        _reduced[u] = true;
        if (Strategy <= DataParallelStrategy.Zero1)
        {
            // Buckets are the unit's ranges; a unit with several (the root) is reduced range by range, blocking.
            var ranges = _units[u];
            if (ranges.Length == 1) _requests[u] = _comm.StartAllReduceSum((nint)(Grad + ranges[0].Start), checked((int)ranges[0].Length));
            else
            {
                _requests[u] = CommunicationRequest.Completed;
                foreach (var (start, length) in ranges) _comm.AllReduceSum(new Span<float>(Grad + start, checked((int)length)));
            }
            return;
        }
        long c = _chunk[u];
        float* staging = (float*)_reduceStaging!.Pointer;   // not _staging: the next block's prefetch may be landing there
        Pack(u, Grad, 0, c * _n, staging);
        _comm.ReduceScatterSum(new ReadOnlySpan<float>(staging, checked((int)(c * _n))), Local(_gradShard!).Slice((int)_base[u], (int)c));
    }

    // Every rank's chunk of unit u into the model's value block: from the ZeRO-3 shard, or (ZeRO-1/2) from the freshly updated block itself.
    private void AllGatherUnit(int u, bool fromShard)
    {
        long c = _chunk[u];
        float* send = (float*)_send!.Pointer;
        if (fromShard) new Span<float>((float*)_paramShard!.Pointer + _base[u], (int)c).CopyTo(new Span<float>(send, (int)c));
        else Pack(u, Values, _r * c, c, send);
        float* staging = (float*)_staging!.Pointer;
        _comm.AllGather(new ReadOnlySpan<float>(send, (int)c), new Span<float>(staging, checked((int)(c * _n))));
        Unpack(u, staging, Values);
        MarkResident(u);
    }

    // ---- ZeRO-3: gather before use, prefetch the next block, release after ----

    private void MarkResident(int u)
    {
        if (_resident[u]) return;
        _resident[u] = true;
        _gatheredFloats += _unitLength[u];
        _peakGatheredFloats = Math.Max(_peakGatheredFloats, _gatheredFloats + (_prefetchUnit >= 0 ? _unitLength[_prefetchUnit] : 0));
    }

    private void EnsureResident(int u)
    {
        if (_paramShard == null || _resident[u]) return;
        if (_prefetchUnit >= 0)
        {
            int pending = _prefetchUnit;
            _comm.Wait(_prefetch);
            _prefetchUnit = -1;
            Unpack(pending, (float*)_staging!.Pointer, Values);
            MarkResident(pending);
            if (pending == u) return;
        }
        AllGatherUnit(u, fromShard: true);
    }

    private void DropPrefetch()
    {
        if (_prefetchUnit < 0) return;
        _comm.Wait(_prefetch);
        _prefetchUnit = -1;
    }

    private void Prefetch(int u)
    {
        if (_paramShard == null || u < 0 || u >= _layers || _resident[u] || _prefetchUnit >= 0) return;
        long c = _chunk[u];
        // The send side is the shard itself (it stays put); the staging buffer receives.
        _prefetch = _comm.StartAllGather((nint)((float*)_paramShard.Pointer + _base[u]), checked((int)c), (nint)_staging!.Pointer);
        _prefetchUnit = u;
        _peakGatheredFloats = Math.Max(_peakGatheredFloats, _gatheredFloats + _unitLength[u]);
    }

    // Drops unit u's gathered values; with madvise the whole pages inside its ranges go back to the OS (read again as zeros).
    private void Release(int u)
    {
        if (_paramShard == null) return;
        if (_resident[u]) _gatheredFloats -= _unitLength[u];
        _resident[u] = false;
        foreach (var (start, length) in _units[u])
        {
            long from = (long)(Values + start), to = (long)(Values + start + length);
            long page = Environment.SystemPageSize, a = (from + page - 1) / page * page, b = to / page * page;
            if (OperatingSystem.IsLinux() && b > a)
            {
                _ = MAdvise((nint)a, (nuint)(b - a), MadvDontNeed);
                // What madvise could not drop (the partial pages at both ends) is zeroed, so a missed gather reads zeros, never stale values.
                new Span<byte>((void*)from, (int)(a - from)).Clear();
                new Span<byte>((void*)b, (int)(to - b)).Clear();
            }
            else new Span<byte>((void*)from, checked((int)(to - from))).Clear();
        }
    }

    private const int MadvDontNeed = 4;

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int MAdvise(nint address, nuint length, int advice);

    private void PullParameterShard()
    {
        for (int u = 0; u < _units.Length; u++)
            Pack(u, Values, _r * _chunk[u], _chunk[u], (float*)_paramShard!.Pointer + _base[u]);
    }

    // ---- ILayerObserver ----

    /// <inheritdoc/>
    public void BeforeForward() => EnsureResident(Root);

    /// <inheritdoc/>
    public void BeforeLayerForward(int layer)
    {
        EnsureResident(layer);
        Prefetch(layer + 1);
    }

    /// <inheritdoc/>
    public void AfterLayerForward(int layer)
    {
        if (layer < _layers - 1) Release(layer);   // the last block's backward comes next: keep it
    }

    /// <inheritdoc/>
    public void BeforeLayerBackward(int layer)
    {
        EnsureResident(layer);
        Prefetch(layer - 1);
    }

    /// <inheritdoc/>
    public void AfterLayerBackward(int layer)
    {
        if (_last) ReduceUnit(layer);
        Release(layer);
        // Drive the non-blocking reductions already started (OpenMPI progresses them only inside MPI calls).
        if (Strategy <= DataParallelStrategy.Zero1)
            for (int u = layer + 1; u < _layers; u++) _comm.Test(_requests[u]);
    }

    /// <inheritdoc/>
    public void AfterBackward()
    {
        if (_last) ReduceUnit(Root);
    }

    // ---- checkpoints and memory ----

    /// <inheritdoc/>
    public void MaterializeParameters()
    {
        if (_paramShard == null) return;
        if (_prefetchUnit >= 0) EnsureResident(_prefetchUnit);
        for (int u = 0; u < _units.Length; u++)
            if (!_resident[u]) AllGatherUnit(u, fromShard: true);
    }

    /// <inheritdoc/>
    public (float[] First, float[] Second)? GatherOptimizerState()
    {
        if (_full != null) return _r == 0 ? (_full.FirstMoment.ToArray(), _full.SecondMoment.ToArray()) : null;
        if (_prefetchUnit >= 0) EnsureResident(_prefetchUnit);   // its gather is landing in the staging buffer used below
        var first = new float[_g];
        var second = new float[_g];
        GatherLocal(_m!, first);
        GatherLocal(_v!, second);
        return _r == 0 ? (first, second) : null;
    }

    private void GatherLocal(NativeBuffer local, float[] full)
    {
        float* staging = (float*)_staging!.Pointer;
        fixed (float* f = full)
            for (int u = 0; u < _units.Length; u++)
            {
                long c = _chunk[u];
                _comm.AllGather(new ReadOnlySpan<float>((float*)local.Pointer + _base[u], (int)c), new Span<float>(staging, checked((int)(c * _n))));
                Unpack(u, staging, f);
            }
    }

    /// <inheritdoc/>
    public void LoadOptimizerState(ReadOnlySpan<float> first, ReadOnlySpan<float> second, int step)
    {
        if (first.Length != _g || second.Length != _g)
            throw new ArgumentException($"The moments have {first.Length} and {second.Length} floats; the model's gradient block has {_g}.");
        OptimizerStep = step;
        if (_full != null)
        {
            first.CopyTo(_full.FirstMoment);
            second.CopyTo(_full.SecondMoment);
            _full.Restore(step);
            return;
        }
        fixed (float* f = first)
        fixed (float* s = second)
            for (int u = 0; u < _units.Length; u++)
            {
                Pack(u, f, _r * _chunk[u], _chunk[u], (float*)_m!.Pointer + _base[u]);
                Pack(u, s, _r * _chunk[u], _chunk[u], (float*)_v!.Pointer + _base[u]);
            }
        if (_paramShard != null)
        {
            // The checkpoint's weights were just loaded whole into the value block: keep this rank's chunks.
            PullParameterShard();
            for (int u = 0; u < _units.Length; u++) Release(u);
        }
    }

    /// <summary>What this rank holds (see <see cref="DataParallelMemory"/>).</summary>
    public DataParallelMemory Memory
    {
        get
        {
            long f = sizeof(float);
            long paramFloats = Strategy == DataParallelStrategy.Zero3 ? _local : _p.Floats;
            long gradFloats = Strategy >= DataParallelStrategy.Zero2 ? _local : _g;
            long optFloats = Strategy == DataParallelStrategy.Ddp ? 2 * _g : 2 * _local;
            long staging = _staging == null ? 0 : _staging.ByteLength + _send!.ByteLength + (_reduceStaging?.ByteLength ?? 0);
            return new DataParallelMemory(paramFloats * f, gradFloats * f, optFloats * f, _peakGatheredFloats * f,
                Strategy >= DataParallelStrategy.Zero2 ? _g * f : 0, staging);
        }
    }

    public void Dispose()
    {
        if (_hooks != null && ReferenceEquals(_hooks.LayerObserver, this)) _hooks.LayerObserver = null;
        MaterializeParameters();
        _full?.Dispose();
        _m?.Dispose();
        _v?.Dispose();
        _gradShard?.Dispose();
        _paramShard?.Dispose();
        _staging?.Dispose();
        _reduceStaging?.Dispose();
        _send?.Dispose();
    }
}
