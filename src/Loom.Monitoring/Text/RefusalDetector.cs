// Flags outputs that refuse or deflect, for the refusal-rate part of prediction drift: an output is a refusal when
// its first 200 characters hold one of the phrases below (the openers instruction-tuned models use; the list is
// data, edit it with care and keep the test in step). It is a proxy, not a classifier: it counts the rate's change.
namespace Loom.Monitoring.Text;

/// <summary>Phrase-based refusal detection.</summary>
public static class RefusalDetector
{
    /// <summary>Lower-case phrases that mark a refusal.</summary>
    public static readonly string[] Phrases =
    [
        "i can't help", "i cannot help", "i can't assist", "i cannot assist", "i'm sorry, but", "i am sorry, but",
        "i'm unable to", "i am unable to", "i won't be able to", "i can't provide", "i cannot provide", "as an ai",
        "i must decline", "i can't comply", "i cannot comply", "i'm not able to", "i am not able to",
    ];

    /// <summary>True when <paramref name="output"/> opens with a refusal phrase.</summary>
    public static bool IsRefusal(string output)
    {
        var head = (output.Length > 200 ? output[..200] : output).ToLowerInvariant().Replace('’', '\'');
        foreach (var p in Phrases) if (head.Contains(p, StringComparison.Ordinal)) return true;
        return false;
    }
}
