// One training conversation and where it came from (file:line), so every later error about it —
// no assistant turn, a final answer longer than max_length — names the line to fix.
namespace Loom.Training.Instructions;

/// <summary>Messages of one example and their source, "file:line".</summary>
public sealed record Conversation(IReadOnlyList<ChatMessage> Messages, string Source)
{
    /// <summary>The index of the last assistant message, or −1.</summary>
    public int LastAssistant
    {
        get
        {
            for (int i = Messages.Count - 1; i >= 0; i--)
                if (Messages[i].Role == "assistant") return i;
            return -1;
        }
    }
}
