// sentencepiece's .model file: a serialized ModelProto (sentencepiece_model.proto):
//   1 pieces (repeated SentencePiece { 1 piece, 2 score (float), 3 type }), 2 trainer_spec,
//   3 normalizer_spec, 4 self_test_data (skipped), 5 denormalizer_spec.
// Read with Loom's own wire-format reader (ProtoReader); written back with ProtoWriter so that a model
// trained by Loom loads in spm_encode and python's sentencepiece.
using System.IO.Compression;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>A SentencePiece model file (ModelProto): the vocabulary, trainer spec and normalizer spec.</summary>
public sealed record SentencePieceModelFile
{
    /// <summary>#1 pieces, in id order.</summary>
    public required IReadOnlyList<SentencePieceEntry> Pieces { get; init; }
    /// <summary>#2 trainer_spec.</summary>
    public SentencePieceTrainerSpec TrainerSpec { get; init; } = new();
    /// <summary>#3 normalizer_spec.</summary>
    public SentencePieceNormalizerSpec NormalizerSpec { get; init; } = new();
    /// <summary>#5 denormalizer_spec, or null (Loom reads it but does not apply it to decoded text).</summary>
    public SentencePieceNormalizerSpec? DenormalizerSpec { get; init; }

    /// <summary>The most a .model.gz may decompress to (256 MiB; the largest real models are under 10 MB).</summary>
    internal const long MaxDecompressedBytes = 256L << 20;

    /// <summary>Reads a .model file (a gzip-compressed one, .model.gz, too).</summary>
    public static SentencePieceModelFile Read(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
            if (data.Length > 2 && data[0] == 0x1F && data[1] == 0x8B)
            {
                using var z = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
                using var m = new MemoryStream();
                // Bounded: a crafted .model.gz (a gzip bomb) must not exhaust memory; real models are a few MB.
                var buffer = new byte[81920];
                for (int n; (n = z.Read(buffer)) > 0;)
                {
                    if (m.Length + n > MaxDecompressedBytes)
                        throw new FormatException($"{path}: decompresses to more than {MaxDecompressedBytes >> 20} MiB; a SentencePiece model is a few MB, so this is not one.");
                    m.Write(buffer, 0, n);
                }
                data = m.ToArray();
            }
        }
        catch (InvalidDataException e) { throw new FormatException($"{path}: the gzip data is damaged: {e.Message}", e); }
        return Parse(data, path);
    }

    /// <summary>Parses a serialized ModelProto; <paramref name="source"/> names it in errors.</summary>
    public static SentencePieceModelFile Parse(ReadOnlySpan<byte> data, string source = "<model>")
    {
        var pieces = new List<SentencePieceEntry>();
        var trainer = new SentencePieceTrainerSpec();
        var normalizer = new SentencePieceNormalizerSpec();
        SentencePieceNormalizerSpec? denormalizer = null;
        var r = new ProtoReader(data, source);
        while (r.TryReadTag(out int f, out int wt))
        {
            switch (f)
            {
                case 1: r.Expect(f, wt, ProtoReader.LengthDelimited, "pieces"); pieces.Add(ReadPiece(r.ReadMessage(), pieces.Count, source)); break;
                case 2: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec"); trainer = SentencePieceTrainerSpec.Read(r.ReadMessage()); break;
                case 3: r.Expect(f, wt, ProtoReader.LengthDelimited, "normalizer_spec"); normalizer = SentencePieceNormalizerSpec.Read(r.ReadMessage()); break;
                case 5: r.Expect(f, wt, ProtoReader.LengthDelimited, "denormalizer_spec"); denormalizer = SentencePieceNormalizerSpec.Read(r.ReadMessage()); break;
                default: r.Skip(wt); break;
            }
        }
        if (pieces.Count == 0)
            throw new FormatException($"{source}: no pieces; this is not a sentencepiece .model file (a ModelProto from spm_train).");
        return new SentencePieceModelFile { Pieces = pieces, TrainerSpec = trainer, NormalizerSpec = normalizer, DenormalizerSpec = denormalizer };
    }

    private static SentencePieceEntry ReadPiece(ProtoReader r, int index, string source)
    {
        string? piece = null;
        float score = 0;
        var type = SentencePieceType.Normal;
        int at = r.Offset;
        while (r.TryReadTag(out int f, out int wt))
        {
            switch (f)
            {
                case 1: r.Expect(f, wt, ProtoReader.LengthDelimited, "pieces.piece"); piece = r.ReadString(); break;
                case 2: r.Expect(f, wt, ProtoReader.Fixed32, "pieces.score"); score = r.ReadFloat(); break;
                case 3:
                    r.Expect(f, wt, ProtoReader.Varint, "pieces.type");
                    int t = r.ReadInt32();
                    if (t < 1 || t > 6) throw new FormatException($"{source}: byte {at}: piece {index} has type {t}; sentencepiece defines 1..6 (NORMAL..BYTE).");
                    type = (SentencePieceType)t;
                    break;
                default: r.Skip(wt); break;
            }
        }
        if (string.IsNullOrEmpty(piece)) throw new FormatException($"{source}: byte {at}: piece {index} is empty; sentencepiece requires every piece to have text.");
        return new SentencePieceEntry(piece, score, type);
    }

    /// <summary>Serializes this model as a ModelProto (fields in number order, as sentencepiece writes them).</summary>
    public byte[] ToBytes()
    {
        var w = new ProtoWriter();
        foreach (var p in Pieces)
        {
            var pw = new ProtoWriter();
            pw.WriteStringField(1, p.Piece);
            pw.WriteFloatField(2, p.Score);
            if (p.Type != SentencePieceType.Normal) pw.WriteInt32Field(3, (int)p.Type);
            w.WriteMessageField(1, pw);
        }
        w.WriteMessageField(2, TrainerSpec.Write());
        w.WriteMessageField(3, NormalizerSpec.Write());
        if (DenormalizerSpec is not null) w.WriteMessageField(5, DenormalizerSpec.Write());
        return w.ToArray();
    }

    /// <summary>Writes the model to <paramref name="path"/> (crash-safe: written, flushed and renamed into place).</summary>
    public void Write(string path) => Loom.Core.IO.DurableFile.WriteAllBytes(path, ToBytes());
}
