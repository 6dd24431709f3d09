// Which texts the server screens with its moderation model (`loom serve --moderate input|output|both`).
namespace Loom.Serving.Guards;

/// <summary>What the server moderates.</summary>
[Flags]
public enum ModerationScope
{
    /// <summary>Nothing is screened (POST /v1/moderations still answers when a model is loaded).</summary>
    None = 0,
    /// <summary>User turns (chat) and prompts (completions), before generation.</summary>
    Input = 1,
    /// <summary>Generated answers of non-streamed requests, before they are sent.</summary>
    Output = 2,
    /// <summary>Both.</summary>
    Both = Input | Output,
}
