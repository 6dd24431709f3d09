// One pass over a document's text that every word-level stage shares: the Gopher quality rules,
// the repetition rules, the toxicity word list and the de-duplication signatures all look at the
// same whitespace-separated words, so the words and their hashes are computed once per version of
// the text (a stage that rewrites the text, such as C4 line dropping or PII redaction, makes the
// next stage analyse again). Per word it keeps:
//  - Raw:   hash of the word as written (the repetition rules compare words verbatim);
//  - Clean: hash of the word lower-cased with leading and trailing punctuation cut ("Don't!" →
//           "don't"), 0 when nothing is left (stop words and word lists match on this);
//  - Norm:  FNV-1a of the word's letters and digits only, lower-cased ("Don't!" → "dont"), the
//           unit of exact and near de-duplication; words without letters or digits have none.
// ASCII takes a table lookup per character; other characters go through char's Unicode queries.
using System.Runtime.CompilerServices;

namespace Loom.Data.Text;

/// <summary>A word of an analysed text.</summary>
internal struct WordInfo
{
    public int Start;
    public int Length;
    public ulong Raw;
    public ulong Clean;
    public ulong Norm;
    public bool HasLetterOrDigit;
    public bool HasLetter;
}

/// <summary>The words of one text; one instance per thread, reused.</summary>
internal sealed class TextAnalysis
{
    private const byte Space = 1, Letter = 2, Digit = 4, Upper = 8;
    private static readonly byte[] Ascii = BuildAscii();

    [ThreadStatic] private static TextAnalysis? t_current;

    private WordInfo[] _words = new WordInfo[512];
    private ulong[] _normalized = new ulong[512];

    /// <summary>The text analysed.</summary>
    public string Text { get; private set; } = "";

    /// <summary>Whitespace-separated words, in order.</summary>
    public int Count { get; private set; }

    /// <summary>Words holding a letter or digit.</summary>
    public int NormalizedCount { get; private set; }

    public ReadOnlySpan<WordInfo> Words => _words.AsSpan(0, Count);

    /// <summary>Norm hashes of the words holding a letter or digit, in order (the de-duplication words).</summary>
    public ReadOnlySpan<ulong> Normalized => _normalized.AsSpan(0, NormalizedCount);

    /// <summary>This thread's analysis of <paramref name="text"/>, computed unless it is the text analysed last.</summary>
    public static TextAnalysis Of(string text)
    {
        var a = t_current ??= new TextAnalysis();
        if (!ReferenceEquals(a.Text, text)) a.Analyse(text);
        return a;
    }

    private static byte[] BuildAscii()
    {
        var t = new byte[128];
        for (int c = 0; c < 128; c++)
        {
            if (char.IsWhiteSpace((char)c)) t[c] |= Space;
            if (char.IsAsciiLetter((char)c)) t[c] |= Letter;
            if (char.IsAsciiDigit((char)c)) t[c] |= Digit;
            if (char.IsAsciiLetterUpper((char)c)) t[c] |= Upper;
        }
        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Classify(char c, out char lower)
    {
        if (c < 128)
        {
            byte k = Ascii[c];
            lower = (k & Upper) != 0 ? (char)(c | 0x20) : c;
            return k;
        }
        lower = char.ToLowerInvariant(c);
        if (char.IsWhiteSpace(c)) return Space;
        if (char.IsLetter(c)) return Letter;
        return char.IsDigit(c) ? Digit : (byte)0;
    }

    private void Analyse(string text)
    {
        int count = 0, normalized = 0, i = 0, n = text.Length;
        while (i < n)
        {
            char lower;
            while (i < n && (Classify(text[i], out _) & Space) != 0) i++;
            if (i == n) break;
            int start = i;
            ulong raw = Hashing.FnvOffset, clean = Hashing.FnvOffset, cleanEnd = 0, norm = Hashing.FnvOffset;
            bool alnum = false, letter = false;
            for (; i < n; i++)
            {
                char c = text[i];
                byte k = Classify(c, out lower);
                if ((k & Space) != 0) break;
                raw = Hashing.Fnv(raw, c);
                if ((k & (Letter | Digit)) != 0)
                {
                    alnum = true;
                    letter |= (k & Letter) != 0;
                    clean = Hashing.Fnv(clean, lower);
                    cleanEnd = clean;
                    norm = Hashing.Fnv(norm, lower);
                }
                else if (alnum) clean = Hashing.Fnv(clean, lower);
            }
            if (count == _words.Length)
            {
                // Grown as words come (not sized for the worst case of one-letter words: 40 bytes a character).
                Array.Resize(ref _words, 2 * _words.Length);
                Array.Resize(ref _normalized, 2 * _normalized.Length);
            }
            ref var w = ref _words[count++];
            w.Start = start;
            w.Length = i - start;
            w.Raw = Hashing.Mix(raw);
            w.Clean = alnum ? Hashing.Mix(cleanEnd) : 0;
            w.Norm = norm;
            w.HasLetterOrDigit = alnum;
            w.HasLetter = letter;
            if (alnum) _normalized[normalized++] = norm;
        }
        Count = count;
        NormalizedCount = normalized;
        Text = text;
    }

    /// <summary>Hash of a word or phrase as <see cref="WordInfo.Clean"/> computes it (list entries, stop words).</summary>
    public static ulong CleanHash(string word)
    {
        var a = new TextAnalysis();
        a.Analyse(word);
        return a.Count == 1 ? a._words[0].Clean : 0;
    }

    /// <summary>
    /// The de-duplication text: the words holding a letter or digit, reduced to their lower-cased letters
    /// and digits, joined by single spaces. Returns the characters written to <paramref name="buffer"/>
    /// (grown as needed).
    /// </summary>
    public int Canonical(ref char[] buffer)
    {
        if (buffer.Length < Text.Length + 1) buffer = new char[Text.Length + 1];
        int at = 0;
        foreach (ref readonly var w in Words)
        {
            if (!w.HasLetterOrDigit) continue;
            if (at > 0) buffer[at++] = ' ';
            foreach (char c in Text.AsSpan(w.Start, w.Length))
                if ((Classify(c, out char lower) & (Letter | Digit)) != 0) buffer[at++] = lower;
        }
        return at;
    }
}
