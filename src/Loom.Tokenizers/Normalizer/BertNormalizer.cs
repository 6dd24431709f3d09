// BERT's normalizer, as Hugging Face's BertNormalizer (tokenizers/src/normalizers/bert.rs), in its order:
//   1. clean_text: drop NUL, U+FFFD and control/format/unassigned characters; whitespace → ' ';
//   2. handle_chinese_chars: put a space on each side of every CJK ideograph;
//   3. strip_accents (null = follow lowercase, as HF): NFD, then drop nonspacing marks (Mn);
//   4. lowercase: Rust's char::to_lowercase (full mapping: 'İ' → "i̇").
// Character classes and the lowercase table are HF's own (BertCharacters, BertUnicodeTables).
// One pass over the input code points; every output unit keeps the original range of the code point
// it came from, so tokens map back to slices of the input. Not done: NFD's canonical reordering of
// combining marks across code points (marks are dropped by strip_accents anyway).

namespace Loom.Tokenizers.Normalizer;

/// <summary>Hugging Face's BertNormalizer.</summary>
public sealed class BertNormalizer
{
    private readonly bool _clean, _chinese, _strip, _lower;

    /// <summary>Creates the normalizer.</summary>
    public BertNormalizer(BertNormalizerOptions? options = null)
    {
        Options = options ?? new BertNormalizerOptions();
        _clean = Options.CleanText;
        _chinese = Options.HandleChineseChars;
        _strip = Options.StripAccents ?? Options.Lowercase;
        _lower = Options.Lowercase;
    }

    /// <summary>The options.</summary>
    public BertNormalizerOptions Options { get; }

    /// <summary>Normalizes <paramref name="input"/> into <paramref name="output"/> (cleared first), keeping alignments.</summary>
    public void Normalize(ReadOnlySpan<char> input, NormalizedText output)
    {
        output.Clear();
        int i = 0;
        while (i < input.Length)
        {
            int start = i;
            int cp = input[i];
            if (char.IsHighSurrogate((char)cp) && i + 1 < input.Length && char.IsLowSurrogate(input[i + 1]))
            {
                cp = char.ConvertToUtf32((char)cp, input[i + 1]);
                i += 2;
            }
            else
            {
                i++;
                // A lone surrogate cannot exist in Rust's UTF-8 strings; it reaches HF as U+FFFD.
                if (char.IsSurrogate((char)cp)) cp = 0xFFFD;
            }

            if (cp < 0x80)
            {
                // ASCII fast path: no CJK, no accents; lowercase is A-Z only.
                if (_clean)
                {
                    if (cp is '\t' or '\n' or '\r') cp = ' ';
                    else if (cp < 0x20 || cp == 0x7F) continue;
                }
                if (_lower && cp is >= 'A' and <= 'Z') cp += 32;
                output.Append((char)cp, start, i);
                continue;
            }

            if (_clean)
            {
                if (BertCharacters.IsRemovedByCleanText(cp)) continue;
                if (BertCharacters.IsWhitespace(cp)) cp = ' ';
            }
            if (_chinese && BertCharacters.IsChinese(cp))
            {
                output.Append(' ', start, i);
                output.Append(cp, start, i);
                output.Append(' ', start, i);
                continue;
            }
            if (_strip)
            {
                if (cp is >= 0xAC00 and <= 0xD7A3)
                {
                    // Hangul syllable → leading, vowel and optional trailing jamo (Unicode 3.12); none is a mark.
                    int h = cp - 0xAC00;
                    AppendCased(output, 0x1100 + h / 588, start, i);
                    AppendCased(output, 0x1161 + h % 588 / 28, start, i);
                    if (h % 28 != 0) AppendCased(output, 0x11A7 + h % 28, start, i);
                    continue;
                }
                int k = BertUnicodeTables.StripKeys.BinarySearch(cp);
                if (k >= 0)
                {
                    // HF's NFD with nonspacing marks dropped, from HF's own tables (.NET's string.Normalize
                    // is unavailable under invariant globalization, and its Unicode version differs).
                    var offsets = BertUnicodeTables.StripOffsets;
                    var stripped = BertUnicodeTables.StripText.AsSpan(offsets[k], offsets[k + 1] - offsets[k]);
                    for (int j = 0; j < stripped.Length; j++)
                    {
                        int part = stripped[j];
                        if (char.IsHighSurrogate(stripped[j]) && j + 1 < stripped.Length)
                            part = char.ConvertToUtf32(stripped[j], stripped[++j]);
                        AppendCased(output, part, start, i);
                    }
                    continue;
                }
            }
            AppendCased(output, cp, start, i);
        }
    }

    /// <summary>Normalizes a string (allocates; for tests and tools).</summary>
    public string Normalize(string input)
    {
        var buffer = new NormalizedText(input.Length + 16);
        Normalize(input, buffer);
        return buffer.ToString();
    }

    private void AppendCased(NormalizedText output, int cp, int start, int end)
    {
        if (_lower)
        {
            if (cp == 0x130)
            {
                // The one unconditional multi-character lowercase mapping (SpecialCasing.txt).
                output.Append('i', start, end);
                output.Append('\u0307', start, end);
                return;
            }
            cp = BertCharacters.ToLower(cp);
        }
        output.Append(cp, start, end);
    }
}
