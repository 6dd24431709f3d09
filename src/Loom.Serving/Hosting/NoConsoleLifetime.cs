// The host lifetime of an embedded server: it does not listen to Ctrl+C or SIGTERM itself, so the
// owner (the `loom serve` command, a test) decides when LoomServer.StopAsync drains and stops.
using Microsoft.Extensions.Hosting;

namespace Loom.Serving.Hosting;

internal sealed class NoConsoleLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
