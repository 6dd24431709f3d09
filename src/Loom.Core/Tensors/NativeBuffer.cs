// The one kind of owner of native memory in Loom. Parameters, gradients, optimizer moments and
// activations are each one NativeBuffer planned before the first step (llm.c style); tensors
// are TensorView structs pointing into it and own nothing. The finalizer is a safety net only:
// code should dispose, and tests assert LiveBytes returns to its starting value.
// Huge pages (Linux, opt-in with LOOM_HUGE_PAGES=1): blocks of at least HugePageMinBytes come from an
// anonymous mmap aligned to 2 MiB and advised MADV_HUGEPAGE (with transparent_hugepage=madvise, the
// usual setting, only advised ranges get 2 MiB pages), so a decode step that streams every weight once
// per token walks 2 MiB pages instead of 4 KiB ones (fewer TLB misses and page-table walks).
using System.Runtime.InteropServices;

namespace Loom.Core.Tensors;

/// <summary>A 64-byte-aligned block of native memory with a single owner.</summary>
public sealed unsafe class NativeBuffer : IDisposable
{
    /// <summary>Alignment of every block: one cache line, and a multiple of any SIMD width we use.</summary>
    public const int Alignment = 64;

    private static long s_liveBytes;
    private static long s_liveCount;

    private void* _pointer;
    private void* _base;          // calloc'd start when the block was over-allocated and aligned by hand; else null
    private void* _mapped;        // mmap'd start of a huge-page block (munmap'd with _mappedLength); else null
    private nuint _mappedLength;
    private readonly long _byteLength;
    private readonly bool _tracked;
    private int _disposed;

    /// <summary>Bytes held by all undisposed tracked buffers in the process.</summary>
    public static long LiveBytes => Interlocked.Read(ref s_liveBytes);

    /// <summary>Number of undisposed tracked buffers in the process.</summary>
    public static long LiveCount => Interlocked.Read(ref s_liveCount);

    /// <summary>Allocates <paramref name="byteLength"/> bytes, zeroed unless <paramref name="zero"/> is false.</summary>
    public NativeBuffer(long byteLength, bool zero = true) : this(byteLength, zero, tracked: true) { }

    /// <summary>
    /// Untracked buffers are process-lifetime scratch (per-thread GEMM packing space) that would
    /// otherwise make every "nothing left alive" assertion depend on which threads ran a GEMM.
    /// </summary>
    internal NativeBuffer(long byteLength, bool zero, bool tracked)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        _byteLength = byteLength;
        _tracked = tracked;
        // AlignedAlloc(0) may return null; always ask for at least one line so Pointer is valid.
        nuint size = (nuint)Math.Max(byteLength, Alignment);
        if (HugePages && byteLength >= HugePageMinBytes && TryMapHuge(size))
        {
            // mmap'd pages are zero: nothing to clear.
        }
        else if (zero && byteLength >= LazyZeroBytes)
        {
            // calloc hands out fresh (already zero) pages for large blocks without writing them, so a
            // region that is never written (a parameter held by a quantized projection) costs address
            // space, not memory. Over-allocate one line and align by hand.
            _base = NativeMemory.AllocZeroed(size + Alignment);
            if (_base == null)
                throw new OutOfMemoryException($"Could not allocate {byteLength:N0} bytes of native memory; reduce the batch size or model size.");
            _pointer = (void*)(((nuint)_base + Alignment) & ~(nuint)(Alignment - 1));
        }
        else
        {
            _pointer = NativeMemory.AlignedAlloc(size, Alignment);
            if (_pointer == null)
                throw new OutOfMemoryException($"Could not allocate {byteLength:N0} bytes of native memory; reduce the batch size or model size.");
            if (zero) NativeMemory.Clear(_pointer, size);
        }
        if (_tracked)
        {
            Interlocked.Add(ref s_liveBytes, byteLength);
            Interlocked.Increment(ref s_liveCount);
        }
    }

    // Zeroed blocks from this size up come from calloc (see the constructor).
    private const long LazyZeroBytes = 1 << 20;

    /// <summary>Blocks from this size up are backed by 2 MiB pages when <see cref="HugePages"/> is on.</summary>
    public const long HugePageMinBytes = 8L << 20;

    private const long HugePageBytes = 2L << 20;

    /// <summary>Whether large blocks are mapped on huge pages (Linux; <c>LOOM_HUGE_PAGES=1</c> turns it on for the process).</summary>
    public static bool HugePages { get; set; } = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("LOOM_HUGE_PAGES") == "1";

    private bool TryMapHuge(nuint size)
    {
        nuint length = size + (nuint)HugePageBytes;
        void* m = Mmap(null, length, 3 /* PROT_READ | PROT_WRITE */, 0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0);
        if (m == (void*)-1 || m == null) return false;
        nuint aligned = ((nuint)m + (nuint)(HugePageBytes - 1)) & ~(nuint)(HugePageBytes - 1);
        Madvise((void*)aligned, size, 14 /* MADV_HUGEPAGE; a refusal only leaves 4 KiB pages */);
        _mapped = m;
        _mappedLength = length;
        _pointer = (void*)aligned;
        return true;
    }

    [DllImport("libc", EntryPoint = "mmap")]
    private static extern void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap")]
    private static extern int Munmap(void* address, nuint length);

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(void* address, nuint length, int advice);

    /// <summary>Whether this block was mapped on huge pages (see <see cref="HugePages"/>).</summary>
    public bool IsHugePageBacked => _mapped != null;

    /// <summary>Size of the block in bytes.</summary>
    public long ByteLength => _byteLength;

    /// <summary>True once <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Start of the block. Throws <see cref="ObjectDisposedException"/> after dispose.</summary>
    public void* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _pointer;
        }
    }

    /// <summary>A span over <paramref name="count"/> elements of <typeparamref name="T"/> starting at <paramref name="byteOffset"/>.</summary>
    public Span<T> AsSpan<T>(long byteOffset, int count) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        long bytes = (long)count * sizeof(T);
        if (byteOffset < 0 || count < 0 || byteOffset + bytes > _byteLength)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"Range [{byteOffset}, {byteOffset + bytes}) lies outside the buffer of {_byteLength} bytes.");
        return new Span<T>((byte*)_pointer + byteOffset, count);
    }

    /// <summary>The whole block as a span of <typeparamref name="T"/>.</summary>
    public Span<T> AsSpan<T>() where T : unmanaged => AsSpan<T>(0, checked((int)(_byteLength / sizeof(T))));

    /// <summary>Frees the memory. Safe to call more than once.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~NativeBuffer() => Free();

    private void Free()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_mapped != null) Munmap(_mapped, _mappedLength);
        else if (_base != null) NativeMemory.Free(_base);
        else NativeMemory.AlignedFree(_pointer);
        _pointer = null;
        _base = null;
        _mapped = null;
        if (_tracked)
        {
            Interlocked.Add(ref s_liveBytes, -_byteLength);
            Interlocked.Decrement(ref s_liveCount);
        }
    }
}
