namespace Loom.Distributed.Tests;

/// <summary>Placeholder so the new test project has a test until the communicator lands.</summary>
public sealed class ProjectSmokeTests
{
    [Fact]
    public void TheDistributedAssemblyLoads() =>
        Assert.Equal("Loom.Distributed", typeof(DistributedAssembly).Assembly.GetName().Name);
}
