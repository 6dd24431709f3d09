// A text split into words and separators as lime_text.IndexedString does (Ribeiro et al. 2016,
// github.com/marcotcr/lime lime/lime_text.py): pieces are re.split(r'(\W+)|$', text) without empty
// strings; a piece that matches the separator is kept as is, every other piece is a word. With
// bow=True (lime's default) a feature is a distinct word, and removing it removes every occurrence;
// the separators around it stay (mask_string=None: the word becomes the empty string).
using System.Text;
using System.Text.RegularExpressions;

namespace Loom.Explain.Lime;

/// <summary>Words of a text (distinct words are LIME's features) and the text with some removed.</summary>
public sealed partial class IndexedText
{
    // lime's split_expression r'\W+'. .NET's \W matches what Python 3's does for str (Unicode word characters).
    [GeneratedRegex(@"(\W+)", RegexOptions.CultureInvariant)]
    private static partial Regex Separator();

    private readonly string[] _pieces;       // words and separators in order
    private readonly int[] _featureOf;       // piece → feature index, −1 for a separator

    /// <summary>The original text.</summary>
    public string Text { get; }

    /// <summary>The distinct words in order of first appearance: feature i is Vocabulary[i].</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Character start of each word occurrence (for highlighting), with its feature index.</summary>
    public IReadOnlyList<(int Start, int Length, int Feature)> Occurrences { get; }

    public IndexedText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Text = text;
        _pieces = Separator().Split(text).Where(p => p.Length > 0).ToArray();
        _featureOf = new int[_pieces.Length];
        var vocab = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var occ = new List<(int, int, int)>();
        int at = 0;
        for (int i = 0; i < _pieces.Length; i++)
        {
            string p = _pieces[i];
            if (Separator().Match(p) is { Success: true } m && m.Length == p.Length) _featureOf[i] = -1;
            else
            {
                if (!index.TryGetValue(p, out int f)) { f = vocab.Count; index[p] = f; vocab.Add(p); }
                _featureOf[i] = f;
                occ.Add((at, p.Length, f));
            }
            at += p.Length;
        }
        Vocabulary = vocab;
        Occurrences = occ;
    }

    /// <summary>The text with every occurrence of the features where <paramref name="keep"/> is false removed.</summary>
    public string Without(ReadOnlySpan<bool> keep)
    {
        if (keep.Length != Vocabulary.Count) throw new ArgumentException($"keep has {keep.Length} entries; the text has {Vocabulary.Count} distinct words.");
        var sb = new StringBuilder(Text.Length);
        for (int i = 0; i < _pieces.Length; i++)
            if (_featureOf[i] < 0 || keep[_featureOf[i]]) sb.Append(_pieces[i]);
        return sb.ToString();
    }
}
