// One DPO example (Rafailov et al. 2023): a prompt and two answers, the preferred (chosen, y_w) and the
// dispreferred (rejected, y_l), with the file:line it came from.
namespace Loom.Training.Instructions;

/// <summary>A prompt, its chosen and rejected answers, and the source line.</summary>
public sealed record PreferencePair(IReadOnlyList<ChatMessage> Prompt, string Chosen, string Rejected, string Source)
{
    /// <summary>The prompt followed by the chosen answer as the assistant's turn.</summary>
    public Conversation ChosenConversation => new([.. Prompt, new ChatMessage("assistant", Chosen)], Source);

    /// <summary>The prompt followed by the rejected answer as the assistant's turn.</summary>
    public Conversation RejectedConversation => new([.. Prompt, new ChatMessage("assistant", Rejected)], Source);
}
