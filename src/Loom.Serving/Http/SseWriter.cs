// Server-Sent Events as OpenAI streams them (html.spec.whatwg.org/multipage/server-sent-events.html):
// each chunk is one "data: {json}" event, flushed at once so tokens reach the client as they are
// made; the stream ends with "data: [DONE]". An error after the first byte cannot change the status
// any more, so it is sent as a data event holding OpenAI's error object, then [DONE] (as vLLM does).
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Loom.Serving.Http;

internal static class SseWriter
{
    public static void Begin(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";   // proxies (nginx) must not buffer the stream
    }

    public static async Task EventAsync(HttpResponse response, JsonNode data, CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: " + data.ToJsonString() + "\n\n", cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task DoneAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: [DONE]\n\n", cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
