// The part of the MPI C API Loom uses, bound to OpenMPI's libmpi.so.40 by function pointers
// (NativeLibrary.GetExport) rather than [DllImport], so the library is opened once, RTLD_GLOBAL (its
// MCA plug-ins resolve symbols against it), and a missing MPI is one clear error, not a
// DllNotFoundException at the first call.
//
// ABI: MPI's handles are implementation-defined. OpenMPI (all versions since 1.x, libmpi.so.40 in 3.x–5.x)
// makes them pointers to global objects: MPI_COMM_WORLD is &ompi_mpi_comm_world, MPI_FLOAT is
// &ompi_mpi_float, MPI_SUM is &ompi_mpi_op_sum, MPI_IN_PLACE is (void*)1, and MPI_Status is
// { int source, tag, error, _cancelled; size_t _ucount } (mpi.h, struct ompi_status_public_t).
// MPICH and its ABI family (Intel MPI, MVAPICH, Cray MPICH) use integer handles (MPI_COMM_WORLD ==
// 0x44000000) and MPI_IN_PLACE == (void*)-1: binding them needs a second handle table, which is not
// written; Load() detects them (no ompi_mpi_comm_world export) and says so.
using System.Runtime.InteropServices;

namespace Loom.Distributed.Communication;

/// <summary>OpenMPI's C entry points and predefined handles, resolved once per process.</summary>
internal static unsafe class MpiNative
{
    public const int Success = 0;
    public const int ThreadFunneled = 1;   // enum { MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED, ... } in mpi.h
    public const int CommTypeShared = 0;   // MPI_COMM_TYPE_SHARED
    public static readonly nint InPlace = 1; // #define MPI_IN_PLACE ((void *) 1)

    /// <summary>MPI_Status as OpenMPI lays it out (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Status
    {
        public int Source, Tag, Error, Cancelled;
        public nuint Count;
    }

    private static nint _library;
    public static nint CommWorld, Float, Double, Byte, OpSum, RequestNull, InfoNull;

    public static delegate* unmanaged<int*, byte***, int, int*, int> InitThread;
    public static delegate* unmanaged<int*, int> Initialized;
    public static delegate* unmanaged<int*, int> Finalized;
    public static delegate* unmanaged<int> Finalize;
    public static delegate* unmanaged<nint, int*, int> CommRank;
    public static delegate* unmanaged<nint, int*, int> CommSize;
    public static delegate* unmanaged<nint, int, int, nint, nint*, int> CommSplitType;
    public static delegate* unmanaged<nint*, int> CommFree;
    public static delegate* unmanaged<nint, nint, int, nint, nint, nint, int> Allreduce;
    public static delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int> Iallreduce;
    public static delegate* unmanaged<nint, nint, int, nint, nint, nint, int> ReduceScatterBlock;
    public static delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int> Allgather;
    public static delegate* unmanaged<nint, int, nint, nint, int, nint, nint, nint*, int> Iallgather;
    public static delegate* unmanaged<nint, int, nint, int, nint, int> Bcast;
    public static delegate* unmanaged<nint, int> BarrierFn;
    public static delegate* unmanaged<nint, int, nint, int, int, nint, int> SendFn;
    public static delegate* unmanaged<nint, int, nint, int, int, nint, Status*, int> Recv;
    public static delegate* unmanaged<nint*, Status*, int> Wait;
    public static delegate* unmanaged<nint*, int*, Status*, int> Test;
    public static delegate* unmanaged<nint, int, int> AbortFn;
    public static delegate* unmanaged<int, byte*, int*, int> ErrorString;

    private const int RtldNow = 2, RtldGlobal = 0x100;

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern nint DlOpen(string file, int mode);

    /// <summary>Opens libmpi and resolves every entry point; throws naming the library and what to install.</summary>
    public static void Load()
    {
        if (_library != 0) return;
        string[] candidates = Environment.GetEnvironmentVariable("LOOM_MPI_LIBRARY") is { Length: > 0 } own
            ? [own] : ["libmpi.so.40", "libmpi.so", "libmpi.so.12"];
        nint lib = 0;
        string? opened = null;
        foreach (string c in candidates)
        {
            // RTLD_GLOBAL first: OpenMPI's plug-ins (mca_*.so) expect libmpi's symbols to be global.
            if (OperatingSystem.IsLinux()) DlOpen(c, RtldNow | RtldGlobal);
            if (NativeLibrary.TryLoad(c, out lib)) { opened = c; break; }
        }
        if (lib == 0)
            throw new DllNotFoundException($"No MPI library found (tried {string.Join(", ", candidates)}; LOOM_MPI_LIBRARY names another). " +
                                           "Install OpenMPI: apt-get install openmpi-bin libopenmpi-dev.");
        if (!NativeLibrary.TryGetExport(lib, "ompi_mpi_comm_world", out CommWorld))
            throw new NotSupportedException($"{opened} is not OpenMPI (it has no ompi_mpi_comm_world symbol): MPICH, Intel MPI and MVAPICH use integer handles, " +
                                            "which Loom's binding does not implement. Use OpenMPI 3.x–5.x (apt-get install openmpi-bin libopenmpi-dev), or set LOOM_MPI_LIBRARY to its libmpi.so.");
        nint Sym(string name) => NativeLibrary.TryGetExport(lib, name, out nint p) ? p
            : throw new EntryPointNotFoundException($"{opened} has no {name}; Loom needs MPI 3.0 or later (OpenMPI 1.8+).");
        Float = Sym("ompi_mpi_float");
        Double = Sym("ompi_mpi_double");
        Byte = Sym("ompi_mpi_byte");
        OpSum = Sym("ompi_mpi_op_sum");
        RequestNull = Sym("ompi_request_null");
        InfoNull = Sym("ompi_mpi_info_null");
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Sym("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Sym("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Sym("MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)Sym("MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Sym("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Sym("MPI_Comm_size");
        CommSplitType = (delegate* unmanaged<nint, int, int, nint, nint*, int>)Sym("MPI_Comm_split_type");
        CommFree = (delegate* unmanaged<nint*, int>)Sym("MPI_Comm_free");
        Allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Sym("MPI_Allreduce");
        Iallreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int>)Sym("MPI_Iallreduce");
        ReduceScatterBlock = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Sym("MPI_Reduce_scatter_block");
        Allgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int>)Sym("MPI_Allgather");
        Iallgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, nint*, int>)Sym("MPI_Iallgather");
        Bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Sym("MPI_Bcast");
        BarrierFn = (delegate* unmanaged<nint, int>)Sym("MPI_Barrier");
        SendFn = (delegate* unmanaged<nint, int, nint, int, int, nint, int>)Sym("MPI_Send");
        Recv = (delegate* unmanaged<nint, int, nint, int, int, nint, Status*, int>)Sym("MPI_Recv");
        Wait = (delegate* unmanaged<nint*, Status*, int>)Sym("MPI_Wait");
        Test = (delegate* unmanaged<nint*, int*, Status*, int>)Sym("MPI_Test");
        AbortFn = (delegate* unmanaged<nint, int, int>)Sym("MPI_Abort");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Sym("MPI_Error_string");
        _library = lib;
    }

    /// <summary>Throws when an MPI call returned an error code (with MPI_ERRORS_ARE_FATAL, the default, it never does).</summary>
    public static void Check(int code, string call)
    {
        if (code == Success) return;
        byte* text = stackalloc byte[512];
        int length = 0;
        string message = ErrorString(code, text, &length) == Success ? System.Text.Encoding.ASCII.GetString(text, length) : $"code {code}";
        throw new InvalidOperationException($"{call} failed: {message}");
    }
}
