namespace Loom.Distributed.Tests.Harness;

/// <summary>Tests that start mpirun run one at a time: each job already oversubscribes the machine's cores.</summary>
[CollectionDefinition(nameof(MpiCollection), DisableParallelization = true)]
public sealed class MpiCollection;
