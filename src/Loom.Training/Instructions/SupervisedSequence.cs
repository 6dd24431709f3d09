// A tokenized conversation: ids and, per token, whether it belongs to an assistant turn (the only
// tokens the SFT loss is taken on). Inputs are ids[..^1]; the target of position t is ids[t + 1]
// when token t + 1 is an assistant token, else −100 (TRL's completion-only / assistant_only_loss).
namespace Loom.Training.Instructions;

/// <summary>Token ids, the assistant mask over them, and the source line.</summary>
public sealed record SupervisedSequence(int[] Ids, bool[] Assistant, string Source)
{
    /// <summary>True when earlier turns were cut from the left to fit max_length (the final assistant turn is always whole).</summary>
    public bool Truncated { get; init; }

    /// <summary>Tokens the loss is taken on.</summary>
    public int AssistantTokens => Assistant.Count(a => a);

    /// <summary>(inputs, targets): targets are the next token on assistant positions and −100 elsewhere.</summary>
    public Loop.LabeledSequence ToLabeled()
    {
        int n = Ids.Length - 1;
        var inputs = Ids.AsSpan(0, n).ToArray();
        var targets = new int[n];
        for (int t = 0; t < n; t++) targets[t] = Assistant[t + 1] ? Ids[t + 1] : Loom.Models.Losses.CrossEntropyLoss.IgnoreIndex;
        return new Loop.LabeledSequence(inputs, targets);
    }
}
