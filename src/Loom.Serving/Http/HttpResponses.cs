// Writing JSON bodies and OpenAI errors (with Retry-After on 429/503) to an HttpResponse.
using System.Text.Json.Nodes;
using Loom.Serving.Protocol;
using Microsoft.AspNetCore.Http;

namespace Loom.Serving.Http;

internal static class HttpResponses
{
    public static async Task JsonAsync(HttpResponse response, int status, JsonNode body, CancellationToken cancellationToken = default)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsync(body.ToJsonString(), cancellationToken).ConfigureAwait(false);
    }

    public static Task ErrorAsync(HttpResponse response, ApiException e)
    {
        if (e.RetryAfterSeconds is int s) response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return JsonAsync(response, e.StatusCode, e.ToJson());
    }
}
