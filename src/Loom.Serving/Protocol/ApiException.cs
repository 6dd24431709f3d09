// An error the server answers in OpenAI's shape: {"error": {"message", "type", "param", "code"}}, all
// four keys present (null allowed), with the HTTP status OpenAI uses for it. Thrown by the protocol
// layer (request validation, admission) and turned into a response by the HTTP layer or into a batch
// output line by the batch runner, so both report the same thing.
using System.Text.Json.Nodes;

namespace Loom.Serving.Protocol;

/// <summary>A request the server refuses, with OpenAI's error fields.</summary>
public sealed class ApiException : Exception
{
    /// <summary>HTTP status (400, 401, 404, 413, 429, 503, ...).</summary>
    public int StatusCode { get; }
    /// <summary>OpenAI's error type ("invalid_request_error", "authentication_error", ...).</summary>
    public string Type { get; }
    /// <summary>The request field at fault as the client wrote it, or null.</summary>
    public string? Param { get; }
    /// <summary>A machine-readable code ("context_length_exceeded", "model_not_found", ...), or null.</summary>
    public string? Code { get; }
    /// <summary>Seconds a client should wait before retrying (429, 503), sent as Retry-After.</summary>
    public int? RetryAfterSeconds { get; init; }

    public ApiException(int statusCode, string type, string message, string? param = null, string? code = null) : base(message)
    {
        StatusCode = statusCode;
        Type = type;
        Param = param;
        Code = code;
    }

    /// <summary>400 invalid_request_error naming <paramref name="param"/>.</summary>
    public static ApiException BadRequest(string message, string? param = null, string? code = null) => new(400, "invalid_request_error", message, param, code);

    /// <summary>The body OpenAI sends for this error.</summary>
    public JsonObject ToJson() => Body(Message, Type, Param, Code);

    /// <summary>An OpenAI error body.</summary>
    public static JsonObject Body(string message, string type, string? param, string? code) => new()
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
    };
}
