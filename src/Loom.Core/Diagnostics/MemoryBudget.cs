// The memory check that runs before a model, its optimizer or its activations are allocated: the
// planned bytes are compared with what the machine offers this process (GC's
// TotalAvailableMemoryBytes, which honours cgroup limits in containers), so an absurd vocab_size or
// batch_size is refused with figures and the setting to reduce, instead of an OutOfMemoryException
// or the kernel's OOM killer halfway through an allocation.
using System.Globalization;

namespace Loom.Core.Diagnostics;

/// <summary>Refuses plans that cannot fit in this machine's memory.</summary>
public static class MemoryBudget
{
    /// <summary>Bytes this process may use (physical memory or the container's limit); 0 when unknown.</summary>
    public static long AvailableBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> when <paramref name="plannedBytes"/> exceed
    /// <see cref="AvailableBytes"/>, saying what needs them (<paramref name="what"/>), the figures, and
    /// which settings to reduce (<paramref name="reduce"/>).
    /// </summary>
    public static void EnsureFits(double plannedBytes, string what, string reduce)
    {
        long available = AvailableBytes;
        if (available <= 0 || !(plannedBytes > available)) return;
        throw new InvalidOperationException(
            $"{what} need about {Gigabytes(plannedBytes)} of memory, but this machine has {Gigabytes(available)}; reduce {reduce}.");
    }

    /// <summary>Bytes as "12.3 GB" (decimal gigabytes, as memory is sold).</summary>
    public static string Gigabytes(double bytes) =>
        double.IsFinite(bytes) && bytes < 1e21 ? (bytes / 1e9).ToString(bytes < 1e8 ? "N2" : "N1", CultureInfo.InvariantCulture) + " GB" : "more than 10¹² GB";
}
