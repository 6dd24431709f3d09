// A minimal reader of the protocol-buffers wire format (https://protobuf.dev/programming-guides/encoding/):
// tags (field number << 3 | wire type), varints, 64-bit, length-delimited and 32-bit values. It is what
// SentencePieceModelFile needs to read sentencepiece's ModelProto and nothing more (no groups, no
// reflection). Every error names the source and the byte offset.
namespace Loom.Tokenizers.SentencePiece;

/// <summary>Reads protobuf wire-format fields from a span.</summary>
internal ref struct ProtoReader
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _data;
    private readonly string _source;
    private readonly int _baseOffset;
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> data, string source, int baseOffset = 0)
    {
        _data = data;
        _source = source;
        _baseOffset = baseOffset;
        _pos = 0;
    }

    /// <summary>Offset of the next byte within the whole file (for error messages and nested readers).</summary>
    public readonly int Offset => _baseOffset + _pos;

    public readonly bool End => _pos >= _data.Length;

    /// <summary>Reads the next tag; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        if (End) { field = 0; wireType = 0; return false; }
        int at = Offset;
        ulong tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field <= 0) throw Error(at, $"field number {field} in a tag; the file is not a sentencepiece model or is damaged");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _data.Length) throw Error(Offset, "a varint runs past the end of the data");
            byte b = _data[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw Error(Offset, "a varint is longer than 10 bytes");
    }

    /// <summary>An int32 field: negative values are sign-extended 10-byte varints.</summary>
    public int ReadInt32() => unchecked((int)(long)ReadVarint());

    public bool ReadBool() => ReadVarint() != 0;

    public float ReadFloat()
    {
        if (_pos + 4 > _data.Length) throw Error(Offset, "a 32-bit value runs past the end of the data");
        float v = BitConverter.Int32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(_data[_pos..]));
        _pos += 4;
        return v;
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        int at = Offset;
        ulong n = ReadVarint();
        if (n > (ulong)(_data.Length - _pos)) throw Error(at, $"a length-delimited field of {n} bytes runs past the end of the data ({_data.Length - _pos} bytes left)");
        var s = _data.Slice(_pos, (int)n);
        _pos += (int)n;
        return s;
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(ReadBytes());

    /// <summary>A reader over a nested message (a length-delimited field).</summary>
    public ProtoReader ReadMessage()
    {
        int start = Offset;
        var bytes = ReadBytes();
        return new ProtoReader(bytes, _source, Offset - bytes.Length);
    }

    /// <summary>Skips a field this reader does not know (proto2 readers must ignore unknown fields).</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(); break;
            case Fixed64: Advance(8); break;
            case LengthDelimited: ReadBytes(); break;
            case Fixed32: Advance(4); break;
            default: throw Error(Offset, $"wire type {wireType} is not supported (groups are not used by sentencepiece)");
        }
    }

    /// <summary>Checks that a known field has the wire type its .proto declares.</summary>
    public readonly void Expect(int field, int wireType, int expected, string name)
    {
        if (wireType != expected) throw Error(Offset, $"field {name} (#{field}) has wire type {wireType}, expected {expected}");
    }

    private void Advance(int n)
    {
        if (_pos + n > _data.Length) throw Error(Offset, $"a {n * 8}-bit value runs past the end of the data");
        _pos += n;
    }

    private readonly FormatException Error(int offset, string what) => new($"{_source}: byte {offset}: {what}.");
}
