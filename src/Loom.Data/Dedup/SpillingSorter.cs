// Sorts fixed-size records that may not fit the memory a run is allowed: records collect in a
// buffer of at most `capacity` items; a full buffer is sorted and written to a temporary run file;
// reading back merges the runs (k-way, through a priority queue) — the external merge sort of
// Knuth, TAOCP vol. 3, §5.4. With fewer records than the capacity nothing touches the disk.
using System.Runtime.InteropServices;

namespace Loom.Data.Dedup;

internal sealed class SpillingSorter<T> : IDisposable where T : unmanaged
{
    private readonly T[] _buffer;
    private readonly Comparison<T> _compare;
    private readonly string _directory;
    private readonly List<string> _runs = [];
    private int _count;

    /// <summary>Records at most held in memory.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Run files written so far.</summary>
    public int Spills => _runs.Count;

    public SpillingSorter(long expected, long capacity, Comparison<T> compare, string directory)
    {
        _buffer = new T[(int)Math.Clamp(Math.Min(expected, capacity), 1, Array.MaxLength)];
        _compare = compare;
        _directory = directory;
    }

    public void Add(in T item)
    {
        if (_count == _buffer.Length) Spill();
        _buffer[_count++] = item;
    }

    private void Spill()
    {
        _buffer.AsSpan(0, _count).Sort(_compare);
        Directory.CreateDirectory(_directory);
        string path = Path.Combine(_directory, $"run-{Guid.NewGuid():N}.bin");
        using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            f.Write(MemoryMarshal.AsBytes(_buffer.AsSpan(0, _count)));
        _runs.Add(path);
        _count = 0;
    }

    /// <summary>Every record added, in order.</summary>
    public IEnumerable<T> Sorted()
    {
        if (_runs.Count == 0)
        {
            _buffer.AsSpan(0, _count).Sort(_compare);
            for (int i = 0; i < _count; i++) yield return _buffer[i];
            yield break;
        }
        if (_count > 0) Spill();
        var readers = _runs.Select(p => new RunReader(p)).ToList();
        try
        {
            var queue = new PriorityQueue<int, T>(Comparer<T>.Create(_compare));
            for (int r = 0; r < readers.Count; r++)
                if (readers[r].TryRead(out var first)) queue.Enqueue(r, first);
            while (queue.TryDequeue(out int run, out var item))
            {
                yield return item;
                if (readers[run].TryRead(out var next)) queue.Enqueue(run, next);
            }
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var p in _runs) try { File.Delete(p); } catch (IOException) { }
        _runs.Clear();
    }

    private sealed class RunReader(string path) : IDisposable
    {
        private readonly FileStream _file = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        private readonly byte[] _one = new byte[System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];

        public bool TryRead(out T item)
        {
            if (_file.ReadAtLeast(_one, _one.Length, throwOnEndOfStream: false) < _one.Length) { item = default; return false; }
            item = MemoryMarshal.Read<T>(_one);
            return true;
        }

        public void Dispose() => _file.Dispose();
    }
}
