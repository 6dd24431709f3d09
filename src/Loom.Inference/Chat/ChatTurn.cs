namespace Loom.Inference.Chat;

/// <summary>One message of a conversation as a chat template sees it.</summary>
/// <param name="Role">"system", "user", "assistant", ...</param>
/// <param name="Content">The message text.</param>
public sealed record ChatTurn(string Role, string Content);
