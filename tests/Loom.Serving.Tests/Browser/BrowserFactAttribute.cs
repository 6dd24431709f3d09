// A fact that needs Debian's chromium and chromium-driver. xunit 2 has no runtime skip, so the
// attribute decides at discovery: where either binary is missing the test is reported as skipped with
// the reason (never as passed). .ci/run installs both before the tests, so in CI it always runs.
namespace Loom.Serving.Tests.Browser;

[AttributeUsage(AttributeTargets.Method)]
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (Chromium.Missing() is string missing)
            Skip = $"headless Chromium is not installed ({missing} not found): apt-get install chromium chromium-driver (.ci/run does it)";
    }
}
