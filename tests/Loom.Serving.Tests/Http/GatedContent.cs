// A request body sent in two parts, the second only when the test opens the gate: the server has
// admitted the request and is reading its body, so it is "in flight" for exactly as long as the test
// wants — no race with how fast the model generates.
using System.Net;
using System.Text;

namespace Loom.Serving.Tests.Http;

internal sealed class GatedContent(string first, string rest) : HttpContent
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task FirstPartSent => _firstSent.Task;
    public void Open() => _gate.TrySetResult();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(first));
        await stream.FlushAsync();
        _firstSent.TrySetResult();
        await _gate.Task;
        await stream.WriteAsync(Encoding.UTF8.GetBytes(rest));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
