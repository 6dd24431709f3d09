// A map stage of the curation pipeline: looks at one document, may rewrite its text (normalisation,
// redaction) and either keeps it or removes it with a reason. Stages hold no per-document state, so
// one instance serves every worker thread.
using Loom.Data.Documents;

namespace Loom.Data.Stages;

/// <summary>What a stage decided.</summary>
public readonly record struct Verdict(string? Reason, string? Detail = null)
{
    /// <summary>Keep the document.</summary>
    public static Verdict Keep => default;

    /// <summary>True when the stage removes the document.</summary>
    public bool Removed => Reason != null;

    /// <summary>Remove with a machine-readable reason ("gopher_short_doc") and an optional human detail.</summary>
    public static Verdict Remove(string reason, string? detail = null) => new(reason, detail);
}

/// <summary>One map stage.</summary>
public interface IDocumentStage
{
    /// <summary>Stage name in the audit ("gopher_quality", "pii", ...).</summary>
    string Name { get; }

    /// <summary>Processes <paramref name="document"/> (its text may be replaced).</summary>
    Verdict Process(Document document);
}

/// <summary>Word-level helpers shared by the filters.</summary>
internal static class Words
{
    /// <summary>Whitespace-separated tokens of <paramref name="text"/> as ranges.</summary>
    public static void Split(string text, List<Range> into)
    {
        into.Clear();
        int i = 0, n = text.Length;
        while (i < n)
        {
            while (i < n && char.IsWhiteSpace(text[i])) i++;
            int start = i;
            while (i < n && !char.IsWhiteSpace(text[i])) i++;
            if (i > start) into.Add(start..i);
        }
    }

    /// <summary>True when every character is punctuation or a symbol.</summary>
    public static bool IsSymbolOnly(ReadOnlySpan<char> word)
    {
        foreach (char c in word) if (char.IsLetterOrDigit(c)) return false;
        return true;
    }

    /// <summary>Lower-cased word with leading and trailing punctuation removed.</summary>
    public static string Clean(ReadOnlySpan<char> word)
    {
        int a = 0, b = word.Length;
        while (a < b && !char.IsLetterOrDigit(word[a])) a++;
        while (b > a && !char.IsLetterOrDigit(word[b - 1])) b--;
        return word[a..b].ToString().ToLowerInvariant();
    }

    [ThreadStatic] private static List<Range>? t_ranges;

    /// <summary>A per-thread reusable range list.</summary>
    public static List<Range> Scratch => t_ranges ??= new List<Range>(1024);
}
