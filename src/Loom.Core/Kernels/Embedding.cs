// Embedding lookup (gather) and its backward (scatter-add into the table's gradient).
// The backward is split by columns of the table: each thread owns a column range and walks the
// tokens in order, so repeated ids accumulate in a fixed order without atomics (deterministic).
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>Token-id → row lookup and its gradient.</summary>
public static unsafe class Embedding
{
    /// <summary>output[i, :] = table[ids[i], :]; table has <paramref name="dim"/> columns.</summary>
    public static void Forward(ReadOnlySpan<int> ids, ReadOnlySpan<float> table, int dim, Span<float> output, WorkerPool? pool = null)
    {
        int vocab = Softmax.CheckRows(table.Length, dim, "table");
        CheckIds(ids, vocab);
        Elementwise.CheckLengths((int)Math.Min(int.MaxValue, (long)ids.Length * dim), output.Length, "ids × dim", "output");
        fixed (int* pi = ids)
        fixed (float* pt = table, po = output)
            Ranges.Run(pool, ids.Length, dim * 2L, new GatherKernel { Ids = pi, Table = pt, Out = po, Dim = dim });
    }

    /// <summary>dtable[ids[i], :] += doutput[i, :].</summary>
    public static void Backward(ReadOnlySpan<int> ids, ReadOnlySpan<float> doutput, Span<float> dtable, int dim, WorkerPool? pool = null)
    {
        int vocab = Softmax.CheckRows(dtable.Length, dim, "dtable");
        CheckIds(ids, vocab);
        Elementwise.CheckLengths((int)Math.Min(int.MaxValue, (long)ids.Length * dim), doutput.Length, "ids × dim", "doutput");
        fixed (int* pi = ids)
        fixed (float* pd = doutput, pt = dtable)
            Ranges.Run(pool, dim, ids.Length * 2L, new ScatterKernel { Ids = pi, DOut = pd, DTable = pt, Dim = dim, Count = ids.Length }, granule: 16);
    }

    private static void CheckIds(ReadOnlySpan<int> ids, int vocab)
    {
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"Token id at position {i} is {ids[i]}, outside the table's {vocab} rows; check the tokenizer matches the model's vocabulary.");
    }

    private struct GatherKernel : IRangeKernel
    {
        public int* Ids;
        public float* Table, Out;
        public int Dim;
        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
                new ReadOnlySpan<float>(Table + (long)Ids[i] * Dim, Dim).CopyTo(new Span<float>(Out + (long)i * Dim, Dim));
        }
    }

    private struct ScatterKernel : IRangeKernel
    {
        public int* Ids;
        public float* DOut, DTable;
        public int Dim, Count;
        public readonly void Run(int start, int end)
        {
            for (int i = 0; i < Count; i++)
                VectorOps.AddInPlace(DTable + (long)Ids[i] * Dim + start, DOut + (long)i * Dim + start, end - start);
        }
    }
}
