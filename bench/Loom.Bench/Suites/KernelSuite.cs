namespace Loom.Bench.Suites;

internal static class KernelSuite
{
    public static void Run(BenchContext ctx) => throw new NotImplementedException();
}
