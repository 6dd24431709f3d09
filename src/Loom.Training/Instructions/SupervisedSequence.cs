// A tokenized conversation: ids and, per token, whether it belongs to an assistant turn (the only
// tokens the SFT loss is taken on). Inputs are ids[..^1]; the target of position t is ids[t + 1]
// when token t + 1 is an assistant token, else −100 (TRL's completion-only / assistant_only_loss).
namespace Loom.Training.Instructions;

/// <summary>Token ids, the assistant mask over them, and the source line.</summary>
public sealed record SupervisedSequence(int[] Ids, bool[] Assistant, string Source)
{
    /// <summary>True when earlier turns were cut from the left to fit max_length (the final assistant turn is always whole).</summary>
    public bool Truncated { get; init; }

    /// <summary>
    /// The token each position is labelled with before masking (HF's labels = input_ids.clone()); null: the ids.
    /// Only the assistant positions' labels reach the loss, which is what the prompt-masking test checks by
    /// changing the others.
    /// </summary>
    public int[]? Labels { get; init; }

    /// <summary>Tokens the loss is taken on.</summary>
    public int AssistantTokens => Assistant.Count(a => a);

    /// <summary>(inputs, targets): targets are the next token on assistant positions and −100 elsewhere.</summary>
    public Loop.LabeledSequence ToLabeled()
    {
        int n = Ids.Length - 1;
        var inputs = Ids.AsSpan(0, n).ToArray();
        var targets = new int[n];
        var labels = Labels ?? Ids;
        if (labels.Length != Ids.Length) throw new InvalidOperationException($"{Source}: {labels.Length} labels for {Ids.Length} tokens.");
        for (int t = 0; t < n; t++) targets[t] = Assistant[t + 1] ? labels[t + 1] : Loom.Models.Losses.CrossEntropyLoss.IgnoreIndex;
        return new Loop.LabeledSequence(inputs, targets);
    }
}
