namespace Loom.Inference.Engine;

/// <summary>A whole request's output: its completions and usage.</summary>
public sealed record GenerationResult(IReadOnlyList<GenerationChoice> Choices, GenerationUsage Usage)
{
    /// <summary>The first completion's text.</summary>
    public string Text => Choices.Count > 0 ? Choices[0].Text : "";
}
