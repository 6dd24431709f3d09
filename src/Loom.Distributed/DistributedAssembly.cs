namespace Loom.Distributed;

/// <summary>Marker type for the Loom.Distributed assembly (used by tests and reflection-based registration).</summary>
public static class DistributedAssembly
{
}
