// The pool's tuning knobs (LOOM_THREADS, LOOM_POOL_SPIN_US, LOOM_POOL_PAUSE_US) read from the environment:
// a value that is not a whole number at or above the minimum falls back to the default and is named on
// stderr instead of being dropped silently.
using Loom.Core.Threading;

namespace Loom.Core.Tests.Threading;

[Collection("Console")]
public class WorkerPoolEnvironmentTests
{
    private const string Name = "LOOM_TEST_POOL_KNOB";

    private static (int Value, string Error) Read(string? value, int minimum, int fallback)
    {
        var previous = Console.Error;
        var error = new StringWriter();
        Environment.SetEnvironmentVariable(Name, value);
        try
        {
            Console.SetError(error);
            return (WorkerPool.EnvironmentCount(Name, minimum, fallback), error.ToString());
        }
        finally
        {
            Console.SetError(previous);
            Environment.SetEnvironmentVariable(Name, null);
        }
    }

    [Theory]
    [InlineData(null, 7, "")]
    [InlineData("", 7, "")]
    [InlineData("0", 0, "")]
    [InlineData("250", 250, "")]
    public void AValidOrAbsentValueIsUsedSilently(string? value, int expected, string error)
    {
        var (v, e) = Read(value, 0, 7);
        Assert.Equal(expected, v);
        Assert.Equal(error, e);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("99999999999")]
    public void ABadValueFallsBackAndIsNamed(string value)
    {
        var (v, e) = Read(value, 0, 7);
        Assert.Equal(7, v);
        Assert.Contains(Name, e);
        Assert.Contains(value, e);
        Assert.Contains("using 7", e);
    }

    [Fact]
    public void ThreadsBelowOneAreRefused()
    {
        var (v, e) = Read("0", 1, 2);
        Assert.Equal(2, v);
        Assert.Contains("≥ 1", e);
    }
}
