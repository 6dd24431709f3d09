// The HTTP layer, kept thin (vLLM's api_server): read the body within the limit, parse it (400/404),
// admit it (429 when the queue is full), then hand it to OpenAIService and write JSON or SSE. Every
// way a request can end — answered, refused, timed out, cancelled by a client that left, cut by a
// shutdown — closes its RequestTrace with the status, so metrics and the request log see them all.
using System.Text.Json;
using Loom.Serving.Hosting;
using Loom.Serving.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Loom.Serving.Http;

internal static class OpenAIEndpoints
{
    /// <summary>Status logged for a client that closed the connection before the answer (nginx's 499).</summary>
    public const int ClientClosedRequest = 499;

    public static void Map(IEndpointRouteBuilder app, LoomServer server)
    {
        app.MapGet("/health", (HttpContext ctx) => server.Stopping
            ? HttpResponses.JsonAsync(ctx.Response, 503, new System.Text.Json.Nodes.JsonObject { ["status"] = "shutting_down" })
            : HttpResponses.JsonAsync(ctx.Response, 200, new System.Text.Json.Nodes.JsonObject { ["status"] = "ok" }));
        app.MapGet("/", (HttpContext ctx) =>
        {
            ctx.Response.ContentType = "text/html; charset=utf-8";
            return ctx.Response.WriteAsync(Playground.PlaygroundPage.Html);
        });
        app.MapGet("/v1/models", (HttpContext ctx) => HttpResponses.JsonAsync(ctx.Response, 200, server.Completions.Models()));
        app.MapGet("/metrics", async (HttpContext ctx) =>
        {
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await ctx.Response.WriteAsync(server.Completions.RenderMetrics()).ConfigureAwait(false);
        });
        app.MapPost(ApiEndpoints.ChatPath, (HttpContext ctx) => HandleAsync(ctx, server, ApiEndpoint.ChatCompletions));
        app.MapPost(ApiEndpoints.CompletionsPath, (HttpContext ctx) => HandleAsync(ctx, server, ApiEndpoint.Completions));
        app.MapPost(ApiEndpoints.EmbeddingsPath, (HttpContext ctx) => HandleAsync(ctx, server, ApiEndpoint.Embeddings));
        app.MapPost(ModerationProtocol.Path, (HttpContext ctx) => ModerateAsync(ctx, server));
    }

    // POST /v1/moderations: the moderation model's verdict on each input, in OpenAI's shape.
    private static async Task ModerateAsync(HttpContext ctx, LoomServer server)
    {
        var trace = new RequestTrace(ModerationProtocol.Path, ctx.Items[ApiGate.KeyIdItem] as string);
        int status = 200;
        server.Metrics.Enter();
        using var timeout = new CancellationTokenSource(server.Options.RequestTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, timeout.Token, server.ShutdownToken);
        try
        {
            var moderator = server.Moderation.Moderator ?? throw new ApiException(404, "invalid_request_error",
                "This server has no moderation model; start it with loom serve --moderation-model DIR (a classifier trained with loom finetune, see examples/moderation/finetune.yaml).", null, "moderation_not_configured");
            using var body = await ReadBodyAsync(ctx, server.Options.MaxRequestBodyBytes).ConfigureAwait(false);
            var texts = ModerationProtocol.ParseInputs(body.RootElement);
            trace.Model = moderator.ModelName;
            var verdicts = await moderator.ModerateAsync(texts, linked.Token).ConfigureAwait(false);
            await HttpResponses.JsonAsync(ctx.Response, 200, ModerationProtocol.Response(moderator.ModelName, verdicts), linked.Token).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            status = e.StatusCode;
            await ReportAsync(ctx, e).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && linked.IsCancellationRequested)
        {
            status = ctx.RequestAborted.IsCancellationRequested ? ClientClosedRequest : timeout.IsCancellationRequested ? 408 : 503;
            if (status != ClientClosedRequest)
                await ReportAsync(ctx, status == 408 ? new ApiException(408, "timeout", "The moderation request ran longer than --request-timeout and was cancelled; send fewer texts.", null, "timeout") : OpenAIService.ShuttingDown()).ConfigureAwait(false);
        }
        finally
        {
            server.Metrics.Leave();
            server.Completions.Finish(trace, status);
        }
    }

    private static async Task HandleAsync(HttpContext ctx, LoomServer server, ApiEndpoint endpoint)
    {
        var service = server.Completions;
        var trace = new RequestTrace(endpoint.Path(), ctx.Items[ApiGate.KeyIdItem] as string);
        int status = 200;
        if (server.Metrics.InFlight >= server.Options.MaxQueuedRequests)
        {
            var full = new ApiException(429, "server_error", $"The server's queue is full ({server.Options.MaxQueuedRequests} requests, --max-queue). Retry shortly.", null, "queue_full") { RetryAfterSeconds = 1 };
            service.Finish(trace, full.StatusCode);
            await HttpResponses.ErrorAsync(ctx.Response, full).ConfigureAwait(false);
            return;
        }
        server.Metrics.Enter();
        using var timeout = new CancellationTokenSource(server.Options.RequestTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, timeout.Token, server.ShutdownToken);
        try
        {
            var screened = server.Guard.Screen(await ReadBodyAsync(ctx, server.Options.MaxRequestBodyBytes).ConfigureAwait(false), endpoint);
            using var body = screened.Body;
            if (screened.FlagHeader is { } flag) ctx.Response.Headers[Guards.RequestGuard.Header] = flag;
            var prepared = service.Parse(endpoint, body.RootElement);
            if (await server.Moderation.ScreenInputAsync(body.RootElement, endpoint, linked.Token).ConfigureAwait(false) is { } inputFlag)
                ctx.Response.Headers[Guards.ModerationGuard.Header] = inputFlag;
            if (!prepared.Stream)
            {
                var answer = await service.RunAsync(prepared, trace, linked.Token).ConfigureAwait(false);
                if (await server.Moderation.ScreenOutputAsync(answer, endpoint, linked.Token).ConfigureAwait(false) is { } outputFlag)
                    ctx.Response.Headers.Append(Guards.ModerationGuard.Header, outputFlag);
                await HttpResponses.JsonAsync(ctx.Response, 200, answer, linked.Token).ConfigureAwait(false);
                return;
            }
            server.Moderation.RequireUnstreamedWhenScreening(endpoint);
            var chunks = service.StreamAsync(prepared, trace, linked.Token);
            SseWriter.Begin(ctx.Response);
            await foreach (var chunk in chunks.ConfigureAwait(false)) await SseWriter.EventAsync(ctx.Response, chunk, linked.Token).ConfigureAwait(false);
            await SseWriter.DoneAsync(ctx.Response, linked.Token).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            status = e.StatusCode;
            await ReportAsync(ctx, e).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && linked.IsCancellationRequested)
        {
            if (ctx.RequestAborted.IsCancellationRequested) status = ClientClosedRequest;   // nobody left to answer
            else
            {
                var error = timeout.IsCancellationRequested
                    ? new ApiException(408, "timeout", $"The request ran longer than the server's --request-timeout of {server.Options.RequestTimeout.TotalSeconds:0.#} s and was cancelled; ask for fewer tokens.", null, "timeout")
                    : OpenAIService.ShuttingDown();
                status = error.StatusCode;
                await ReportAsync(ctx, error).ConfigureAwait(false);
            }
        }
        finally
        {
            server.Metrics.Leave();
            service.Finish(trace, status);
        }
    }

    // Before the first byte the status says it; after it (a stream), an error event and [DONE] do.
    private static async Task ReportAsync(HttpContext ctx, ApiException e)
    {
        try
        {
            if (!ctx.Response.HasStarted) await HttpResponses.ErrorAsync(ctx.Response, e).ConfigureAwait(false);
            else
            {
                await SseWriter.EventAsync(ctx.Response, e.ToJson(), CancellationToken.None).ConfigureAwait(false);
                await SseWriter.DoneAsync(ctx.Response, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception io) when (io is IOException or OperationCanceledException or ObjectDisposedException) { }   // the client is gone
    }

    // Reads the body up to the limit. Past it the rest is read and dropped (up to a bounded amount)
    // before the 413 is sent: a client that does not wait for "100 Continue" is still sending, and
    // closing on it would break its pipe before it ever reads the answer.
    private static async Task<JsonDocument> ReadBodyAsync(HttpContext ctx, long limit)
    {
        var buffer = new MemoryStream();
        byte[] chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            bool tooLarge = ctx.Request.ContentLength > limit;
            long drained = 0, drainCap = Math.Max(64L << 20, 4 * limit);
            int n;
            while ((n = await ctx.Request.Body.ReadAsync(chunk, ctx.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (!tooLarge && buffer.Length + n > limit) tooLarge = true;
                if (tooLarge)
                {
                    if ((drained += n) > drainCap) { ctx.Abort(); throw TooLarge(limit); }
                    continue;
                }
                buffer.Write(chunk, 0, n);
            }
            if (tooLarge) throw TooLarge(limit);
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(chunk); }
        try
        {
            return JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest(
                $"We could not parse the JSON body of your request (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message.Split(" LineNumber:")[0]}). Send a valid JSON object.",
                null, "invalid_json");
        }
    }

    private static ApiException TooLarge(long limit) =>
        new(413, "invalid_request_error", $"The request body is larger than the server's limit of {limit} bytes (--max-body-mb). Send a smaller request.", null, "request_too_large");
}
