// Where and how an OpenAI-compatible chat endpoint is asked to classify.
namespace Loom.Explain.Classifiers;

/// <summary>Settings of <see cref="EndpointTextClassifier"/>.</summary>
public sealed record EndpointClassifierOptions
{
    /// <summary>Base URL of the API, e.g. http://127.0.0.1:8080/v1 (`loom serve`) or https://api.openai.com/v1.</summary>
    public required Uri BaseUrl { get; init; }

    /// <summary>The model name sent with each request.</summary>
    public string Model { get; init; } = "loom";

    /// <summary>Bearer key (null: none).</summary>
    public string? ApiKey { get; init; }

    /// <summary>The class names the endpoint must answer with.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>The instruction; {labels} is replaced by the comma-separated class names.</summary>
    public string Instruction { get; init; } = "Classify the user's text into exactly one of these classes: {labels}. Answer with the class name only.";

    /// <summary>Requests in flight at once.</summary>
    public int MaxConcurrency { get; init; } = 4;

    /// <summary>Per-request timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public void Validate()
    {
        if (!BaseUrl.IsAbsoluteUri || (BaseUrl.Scheme != "http" && BaseUrl.Scheme != "https"))
            throw new ArgumentException($"BaseUrl {BaseUrl} must be an absolute http(s) URL such as http://127.0.0.1:8080/v1.");
        if (Labels is null || Labels.Count < 2) throw new ArgumentException($"Labels has {Labels?.Count ?? 0} names; an endpoint classifier needs at least 2 classes (e.g. --labels negative,positive).");
        if (Labels.Any(string.IsNullOrWhiteSpace) || Labels.Distinct(StringComparer.OrdinalIgnoreCase).Count() != Labels.Count)
            throw new ArgumentException($"Labels [{string.Join(", ", Labels)}] must be distinct, non-empty names.");
        if (MaxConcurrency < 1) throw new ArgumentException($"MaxConcurrency is {MaxConcurrency}; it must be at least 1.");
    }
}
