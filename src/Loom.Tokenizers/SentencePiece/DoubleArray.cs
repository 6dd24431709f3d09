// Reads a Darts-clone double-array trie (https://github.com/s-yata/darts-clone, the format sentencepiece
// stores in NormalizerSpec.precompiled_charsmap). Each 32-bit unit packs:
//   has_leaf = bit 8; value = bits 0..30 (on a leaf unit); label = bits 0..7 | bit 31;
//   offset = (unit >> 10) << ((unit & (1 << 9)) >> 6)   (bit 9 selects an 8-bit shift of the offset).
// A key byte k moves from node id to id ^ offset ^ k when that unit's label is k.
using System.Buffers.Binary;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>A read-only Darts-clone double-array trie over bytes.</summary>
internal sealed class DoubleArray
{
    private readonly uint[] _units;

    public DoubleArray(ReadOnlySpan<byte> blob)
    {
        _units = new uint[blob.Length / 4];
        for (int i = 0; i < _units.Length; i++) _units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob[(4 * i)..]);
    }

    private static bool HasLeaf(uint u) => ((u >> 8) & 1) == 1;
    private static int Value(uint u) => (int)(u & ((1u << 31) - 1));
    private static uint Label(uint u) => u & ((1u << 31) | 0xFF);
    private static uint Offset(uint u) => (u >> 10) << (int)((u & (1u << 9)) >> 6);

    /// <summary>
    /// The longest key that is a prefix of <paramref name="key"/>: its length in bytes and value, or length 0.
    /// (sentencepiece's Normalizer::NormalizePrefix takes the longest of commonPrefixSearch's results.)
    /// </summary>
    public (int Length, int Value) LongestPrefix(ReadOnlySpan<byte> key)
    {
        if (_units.Length == 0) return (0, 0);
        int bestLength = 0, bestValue = 0;
        uint id = Offset(_units[0]);
        for (int i = 0; i < key.Length; i++)
        {
            id ^= key[i];
            if (id >= (uint)_units.Length) break;
            uint unit = _units[id];
            if (Label(unit) != key[i]) break;
            id ^= Offset(unit);
            if (HasLeaf(unit))
            {
                if (id >= (uint)_units.Length) break;
                bestLength = i + 1;
                bestValue = Value(_units[id]);
            }
        }
        return (bestLength, bestValue);
    }

    /// <summary>The shortest key that is a prefix of <paramref name="key"/> (HF's spm_precompiled takes the first result).</summary>
    public (int Length, int Value) ShortestPrefix(ReadOnlySpan<byte> key)
    {
        if (_units.Length == 0) return (0, 0);
        uint id = Offset(_units[0]);
        for (int i = 0; i < key.Length; i++)
        {
            id ^= key[i];
            if (id >= (uint)_units.Length) break;
            uint unit = _units[id];
            if (Label(unit) != key[i]) break;
            id ^= Offset(unit);
            if (HasLeaf(unit))
            {
                if (id >= (uint)_units.Length) break;
                return (i + 1, Value(_units[id]));
            }
        }
        return (0, 0);
    }
}
