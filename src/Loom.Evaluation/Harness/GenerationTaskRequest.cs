namespace Loom.Evaluation.Harness;

/// <summary>One generation: temperature 0 is greedy; the text stops before the first of <see cref="Stop"/>.</summary>
public sealed record GenerationTaskRequest
{
    public required string Prompt { get; init; }
    public int MaxNewTokens { get; init; } = 256;
    public float Temperature { get; init; }
    public float TopP { get; init; } = 1f;
    public int Seed { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
}
