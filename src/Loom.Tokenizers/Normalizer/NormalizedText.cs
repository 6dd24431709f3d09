// Text after normalization, with the range of the original input each UTF-16 unit came from, so that
// a token found in the normalized text maps back to a slice of what the user wrote (HF's
// NormalizedString alignments, at UTF-16 rather than byte granularity). A reusable buffer: Clear()
// keeps the arrays, so encoding many texts on one thread allocates only when a text is longer than
// any before it.
namespace Loom.Tokenizers.Normalizer;

/// <summary>Normalized text plus, for each UTF-16 unit, the original range [start, end) it came from.</summary>
public sealed class NormalizedText
{
    private char[] _chars;
    private int[] _start;
    private int[] _end;

    /// <summary>Creates an empty buffer.</summary>
    public NormalizedText(int capacity = 256)
    {
        capacity = Math.Max(capacity, 16);
        _chars = new char[capacity];
        _start = new int[capacity];
        _end = new int[capacity];
    }

    /// <summary>Number of UTF-16 units.</summary>
    public int Length { get; private set; }

    /// <summary>The normalized text.</summary>
    public ReadOnlySpan<char> Chars => _chars.AsSpan(0, Length);

    /// <summary>Original start offset of each normalized unit.</summary>
    public ReadOnlySpan<int> OriginalStart => _start.AsSpan(0, Length);

    /// <summary>Original end offset (exclusive) of each normalized unit.</summary>
    public ReadOnlySpan<int> OriginalEnd => _end.AsSpan(0, Length);

    /// <summary>Empties the buffer, keeping its memory.</summary>
    public void Clear() => Length = 0;

    /// <summary>Appends <paramref name="c"/>, aligned to the original range [start, end).</summary>
    public void Append(char c, int start, int end)
    {
        if (Length == _chars.Length) Grow();
        _chars[Length] = c;
        _start[Length] = start;
        _end[Length] = end;
        Length++;
    }

    /// <summary>Appends a code point (one or two UTF-16 units), aligned to [start, end).</summary>
    public void Append(int codePoint, int start, int end)
    {
        if (codePoint < 0x10000)
        {
            Append((char)codePoint, start, end);
            return;
        }
        int v = codePoint - 0x10000;
        Append((char)(0xD800 + (v >> 10)), start, end);
        Append((char)(0xDC00 + (v & 0x3FF)), start, end);
    }

    /// <summary>The original range covered by normalized units [start, end): from the first unit's start to the last unit's end.</summary>
    public (int Start, int End) OriginalRange(int start, int end)
    {
        if (end <= start) return (0, 0);
        return (_start[start], _end[end - 1]);
    }

    /// <inheritdoc />
    public override string ToString() => new(Chars);

    private void Grow()
    {
        int size = _chars.Length * 2;
        Array.Resize(ref _chars, size);
        Array.Resize(ref _start, size);
        Array.Resize(ref _end, size);
    }
}
