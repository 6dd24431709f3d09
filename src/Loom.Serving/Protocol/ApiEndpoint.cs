namespace Loom.Serving.Protocol;

/// <summary>The OpenAI endpoints that run the model (the paths the server and batch files use).</summary>
public enum ApiEndpoint
{
    /// <summary>POST /v1/chat/completions</summary>
    ChatCompletions,
    /// <summary>POST /v1/completions</summary>
    Completions,
    /// <summary>POST /v1/embeddings</summary>
    Embeddings,
}

/// <summary>Paths of <see cref="ApiEndpoint"/>.</summary>
public static class ApiEndpoints
{
    public const string ChatPath = "/v1/chat/completions";
    public const string CompletionsPath = "/v1/completions";
    public const string EmbeddingsPath = "/v1/embeddings";

    public static string Path(this ApiEndpoint e) => e switch
    {
        ApiEndpoint.ChatCompletions => ChatPath,
        ApiEndpoint.Completions => CompletionsPath,
        _ => EmbeddingsPath,
    };

    /// <summary>The endpoint of <paramref name="path"/>, or null.</summary>
    public static ApiEndpoint? FromPath(string path) => path switch
    {
        ChatPath => ApiEndpoint.ChatCompletions,
        CompletionsPath => ApiEndpoint.Completions,
        EmbeddingsPath => ApiEndpoint.Embeddings,
        _ => null,
    };
}
