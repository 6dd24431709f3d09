namespace Loom.Distributed.Tests.Harness;

/// <summary>
/// Entry point of this assembly when the tests start it as an MPI program (`mpirun -np 2 dotnet
/// Loom.Distributed.Tests.dll worker ...`); under the test runner xunit never calls it.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => args switch
    {
        ["worker", "tensor-parallel" or "pipeline-parallel", ..] => ParallelismWorker.Run(args[1..]),
        ["worker", .. var rest] => Worker.Run(rest),
        _ => 2,
    };
}
