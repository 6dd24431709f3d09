// One turn of a conversation as chat templates read it: {"role": ..., "content": ...} (OpenAI/HF).
namespace Loom.Training.Instructions;

/// <summary>A message: role (system, user, assistant, ...) and its text.</summary>
public readonly record struct ChatMessage(string Role, string Content);
