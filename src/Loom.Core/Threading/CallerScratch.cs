// Scratch memory for a kernel's per-thread partial results, owned by the *calling* thread: the
// workers write their slices, the caller reduces them after Run returns. Keyed on the caller,
// so concurrent callers on different pools never share it. It grows on demand (a warm-up cost)
// and is then reused, so kernels stay allocation-free. Untracked: process-lifetime scratch.
using Loom.Core.Tensors;

namespace Loom.Core.Threading;

internal static unsafe class CallerScratch
{
    [ThreadStatic] private static NativeBuffer? t_buffer;

    /// <summary>At least <paramref name="floats"/> floats, valid until this thread's next call.</summary>
    public static float* Floats(long floats)
    {
        long bytes = Math.Max(floats, 16) * sizeof(float);
        if (t_buffer == null || t_buffer.ByteLength < bytes)
        {
            t_buffer?.Dispose();
            t_buffer = new NativeBuffer(bytes, zero: false, tracked: false);
        }
        return (float*)t_buffer.Pointer;
    }
}
