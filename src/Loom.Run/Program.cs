namespace Loom.Run;

/// <summary>Entry point of <c>loom-run</c>; the commands are being built (issue 15 §7).</summary>
public static class Program
{
    /// <summary>Runs the edge runner.</summary>
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("error: loom-run is not built yet");
        return 1;
    }
}
