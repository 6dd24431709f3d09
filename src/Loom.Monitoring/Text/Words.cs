// The word splitter every text feature shares: maximal runs of letters, digits and inner apostrophes,
// lower-cased (invariant culture). Simple on purpose: it must mean the same on reference and current text.
namespace Loom.Monitoring.Text;

/// <summary>Splits text into lower-case words.</summary>
public static class Words
{
    /// <summary>The words of <paramref name="text"/>, in order.</summary>
    public static List<string> Split(string text)
    {
        var words = new List<string>();
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool inWord = i < text.Length && (char.IsLetterOrDigit(text[i])
                || (text[i] == '\'' && start >= 0 && i + 1 < text.Length && char.IsLetter(text[i + 1])));
            if (inWord) { if (start < 0) start = i; continue; }
            if (start >= 0) { words.Add(text[start..i].ToLowerInvariant()); start = -1; }
        }
        return words;
    }
}
