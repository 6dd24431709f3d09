// sentencepiece's normalizer (normalizer.cc, Normalizer::Normalize and NormalizePrefix), applied to UTF-8:
//   1. user-defined symbols are matched first, longest first, and copied unnormalized;
//   2. otherwise the longest prefix in the precompiled charsmap's double-array trie is replaced by its
//      NUL-terminated replacement string (nmt_nfkc: NFKC plus NMT clean-ups such as tabs/newlines → space);
//      with no match one UTF-8 character is copied (a malformed byte becomes U+FFFD, consuming one byte);
//   3. with remove_extra_whitespaces: leading spaces are dropped, a run of spaces (after normalization)
//      becomes one, and trailing spaces are dropped;
//   4. with add_dummy_prefix a space is put in front, and with escape_whitespaces every space is ▁ (U+2581).
// The charsmap blob is: uint32 little-endian trie size in bytes, the trie units, the replacement strings.
using System.Buffers.Binary;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>Normalizes text exactly as a SentencePiece model's NormalizerSpec says.</summary>
internal sealed class SentencePieceNormalizer
{
    internal static ReadOnlySpan<byte> SpaceSymbol => "\u2581"u8;
    private static ReadOnlySpan<byte> ReplacementChar => "\uFFFD"u8;

    private readonly SentencePieceNormalizerSpec _spec;
    private readonly DoubleArray? _trie;
    private readonly byte[] _replacements = [];
    private readonly ByteTrie? _userDefined;

    public SentencePieceNormalizer(SentencePieceNormalizerSpec spec, ByteTrie? userDefined, string source)
    {
        _spec = spec;
        _userDefined = userDefined is { Count: > 0 } ? userDefined : null;
        var blob = spec.PrecompiledCharsmap;
        if (blob.Length == 0) return;
        if (blob.Length <= 4) throw new FormatException($"{source}: normalizer_spec.precompiled_charsmap is {blob.Length} bytes; it must hold a 4-byte trie size, the trie and its strings.");
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieSize > (uint)(blob.Length - 4) || trieSize % 4 != 0)
            throw new FormatException($"{source}: normalizer_spec.precompiled_charsmap says its trie is {trieSize} bytes, but {blob.Length - 4} bytes follow (or the size is not a multiple of 4); the model is damaged.");
        _trie = new DoubleArray(blob.AsSpan(4, (int)trieSize));
        _replacements = blob[(4 + (int)trieSize)..];
    }

    /// <summary>
    /// Normalizes one prefix of <paramref name="input"/>: returns the normalized bytes and how many input bytes
    /// they replace (normalizer.cc NormalizePrefix).
    /// </summary>
    public ReadOnlySpan<byte> NormalizePrefix(ReadOnlySpan<byte> input, out int consumed)
    {
        if (_userDefined is not null)
        {
            int n = _userDefined.LongestPrefix(input);
            if (n > 0) { consumed = n; return input[..n]; }
        }
        if (_trie is not null)
        {
            var (length, value) = _trie.LongestPrefix(input);
            if (length > 0)
            {
                consumed = length;
                var rest = _replacements.AsSpan(Math.Min(value, _replacements.Length));
                int end = rest.IndexOf((byte)0);
                return end < 0 ? rest : rest[..end];
            }
        }
        if (!Utf8Chars.TryDecodeLength(input, out int len))
        {
            consumed = 1;
            return ReplacementChar;
        }
        consumed = len;
        return input[..len];
    }

    /// <summary>Appends the normalized form of <paramref name="input"/> (UTF-8) to <paramref name="output"/>.</summary>
    public void Normalize(ReadOnlySpan<byte> input, List<byte> output)
    {
        output.Clear();
        if (input.IsEmpty) return;
        if (_spec.RemoveExtraWhitespaces)
        {
            while (!input.IsEmpty)
            {
                var p = NormalizePrefix(input, out int consumed);
                if (!p.SequenceEqual(" "u8)) break;
                input = input[consumed..];
            }
        }
        if (input.IsEmpty) return;
        if (_spec.AddDummyPrefix) AppendSpace(output);
        bool isPrevSpace = _spec.RemoveExtraWhitespaces;
        while (!input.IsEmpty)
        {
            var sp = NormalizePrefix(input, out int consumed);
            while (isPrevSpace && !sp.IsEmpty && sp[0] == (byte)' ') sp = sp[1..];
            if (!sp.IsEmpty)
            {
                foreach (byte b in sp)
                {
                    if (_spec.EscapeWhitespaces && b == (byte)' ') AppendSpace(output);
                    else output.Add(b);
                }
                isPrevSpace = sp[^1] == (byte)' ';
            }
            input = input[consumed..];
            if (!_spec.RemoveExtraWhitespaces) isPrevSpace = false;
        }
        if (_spec.RemoveExtraWhitespaces)
        {
            ReadOnlySpan<byte> space = _spec.EscapeWhitespaces ? SpaceSymbol : " "u8;
            while (output.Count >= space.Length && EndsWith(output, space)) output.RemoveRange(output.Count - space.Length, space.Length);
        }
    }

    private void AppendSpace(List<byte> output)
    {
        if (_spec.EscapeWhitespaces) output.AddRange(SpaceSymbol);
        else output.Add((byte)' ');
    }

    private static bool EndsWith(List<byte> output, ReadOnlySpan<byte> suffix)
    {
        for (int i = 0; i < suffix.Length; i++)
            if (output[output.Count - suffix.Length + i] != suffix[i]) return false;
        return true;
    }
}
