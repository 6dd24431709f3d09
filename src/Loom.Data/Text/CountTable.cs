// Occurrence counts of 64-bit hashes (lines, paragraphs, word n-grams) for the repetition rules:
// open addressing with linear probing over a power-of-two table at most half full. Slots carry the
// number of the Reset that filled them, so starting over costs nothing instead of clearing the
// table; keys are already avalanched (Hashing.Mix), so their top bits pick the slot.
namespace Loom.Data.Text;

internal sealed class CountTable
{
    private ulong[] _keys = [];
    private int[] _counts = [];
    private int[] _epochs = [];
    private int _epoch, _shift = 64, _mask;

    /// <summary>Empties the table, sized for up to <paramref name="distinct"/> keys.</summary>
    public void Reset(int distinct)
    {
        int capacity = 16;
        while (capacity < 2 * distinct) capacity <<= 1;
        if (capacity > _keys.Length)
        {
            _keys = new ulong[capacity];
            _counts = new int[capacity];
            _epochs = new int[capacity];
            _epoch = 0;
        }
        if (++_epoch == int.MaxValue) { Array.Clear(_epochs); _epoch = 1; }
        _mask = _keys.Length - 1;
        _shift = 64 - System.Numerics.BitOperations.Log2((uint)_keys.Length);
    }

    /// <summary>Counts one more occurrence of <paramref name="key"/>; returns its count so far.</summary>
    public int Add(ulong key)
    {
        int i = (int)(key >> _shift);
        while (true)
        {
            if (_epochs[i] != _epoch)
            {
                _epochs[i] = _epoch;
                _keys[i] = key;
                _counts[i] = 1;
                return 1;
            }
            if (_keys[i] == key) return ++_counts[i];
            i = (i + 1) & _mask;
        }
    }
}
