// BERT's pre-tokenizer, as Hugging Face's BertPreTokenizer (tokenizers/src/pre_tokenizers/bert.rs):
// split on whitespace (removed), then isolate every punctuation character as a word of its own.
// "Hello,world!" → "Hello" "," "world" "!". Runs on the normalized text; words are ranges of it.
using Loom.Tokenizers.Normalizer;

namespace Loom.Tokenizers.PreTokenizer;

/// <summary>Hugging Face's BertPreTokenizer: whitespace split + isolated punctuation.</summary>
public sealed class BertPreTokenizer
{
    /// <summary>Appends the words of <paramref name="text"/> to <paramref name="words"/> as [Start, End) ranges of UTF-16 units.</summary>
    public void Split(ReadOnlySpan<char> text, List<(int Start, int End)> words)
    {
        int wordStart = -1;
        int i = 0;
        while (i < text.Length)
        {
            int cp = text[i];
            int width = 1;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                width = 2;
            }
            if (BertCharacters.IsSplitWhitespace(cp))
            {
                if (wordStart >= 0) words.Add((wordStart, i));
                wordStart = -1;
            }
            else if (BertCharacters.IsPunctuation(cp))
            {
                if (wordStart >= 0) words.Add((wordStart, i));
                words.Add((i, i + width));
                wordStart = -1;
            }
            else if (wordStart < 0)
            {
                wordStart = i;
            }
            i += width;
        }
        if (wordStart >= 0) words.Add((wordStart, text.Length));
    }

    /// <summary>The words of <paramref name="text"/> as strings (allocates; for tests and tools).</summary>
    public IReadOnlyList<string> Split(string text)
    {
        var ranges = new List<(int Start, int End)>();
        Split(text, ranges);
        return ranges.Select(r => text[r.Start..r.End]).ToArray();
    }
}
