// The writing half of the protobuf wire format (https://protobuf.dev/programming-guides/encoding/), for
// SentencePieceModelFile.Write: fields are written in the order the caller gives (sentencepiece writes
// them by field number, and so does SentencePieceModelFile).
using System.Buffers.Binary;
using System.Text;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>Appends protobuf wire-format fields to a growing buffer.</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    public void WriteVarintField(int field, ulong value)
    {
        WriteTag(field, ProtoReader.Varint);
        WriteVarint(value);
    }

    /// <summary>An int32 field: negative values are written as 10-byte sign-extended varints, as protobuf does.</summary>
    public void WriteInt32Field(int field, int value) => WriteVarintField(field, unchecked((ulong)(long)value));

    public void WriteBoolField(int field, bool value) => WriteVarintField(field, value ? 1UL : 0UL);

    public void WriteFloatField(int field, float value)
    {
        WriteTag(field, ProtoReader.Fixed32);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, BitConverter.SingleToInt32Bits(value));
        _buffer.Write(b);
    }

    public void WriteBytesField(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, ProtoReader.LengthDelimited);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
    }

    public void WriteStringField(int field, string value) => WriteBytesField(field, Encoding.UTF8.GetBytes(value));

    public void WriteMessageField(int field, ProtoWriter message) => WriteBytesField(field, message.ToArray());

    public byte[] ToArray() => _buffer.ToArray();

    private void WriteTag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong v)
    {
        while (v >= 0x80)
        {
            _buffer.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _buffer.WriteByte((byte)v);
    }
}
