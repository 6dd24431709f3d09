// ModelProto.trainer_spec (sentencepiece_model.proto, message TrainerSpec): the fields encoding and
// training use. Defaults are the .proto's defaults, so a field missing from a file reads as sentencepiece
// reads it. Fields Loom does not use are skipped on read and not written.
namespace Loom.Tokenizers.SentencePiece;

/// <summary>The trainer settings stored in a SentencePiece model (the subset Loom reads and writes).</summary>
public sealed record SentencePieceTrainerSpec
{
    /// <summary>#1 input: training files (informational).</summary>
    public IReadOnlyList<string> Input { get; init; } = [];
    /// <summary>#2 model_prefix (informational).</summary>
    public string ModelPrefix { get; init; } = "";
    /// <summary>#3 model_type; default unigram.</summary>
    public SentencePieceModelType ModelType { get; init; } = SentencePieceModelType.Unigram;
    /// <summary>#4 vocab_size; default 8000.</summary>
    public int VocabSize { get; init; } = 8000;
    /// <summary>#10 character_coverage; default 0.9995.</summary>
    public float CharacterCoverage { get; init; } = 0.9995f;
    /// <summary>#14 seed_sentencepiece_size; default 1,000,000.</summary>
    public int SeedSentencePieceSize { get; init; } = 1_000_000;
    /// <summary>#15 shrinking_factor; default 0.75.</summary>
    public float ShrinkingFactor { get; init; } = 0.75f;
    /// <summary>#17 num_sub_iterations (EM steps per pruning round); default 2.</summary>
    public int NumSubIterations { get; init; } = 2;
    /// <summary>#18 max_sentence_length in bytes; default 4192.</summary>
    public int MaxSentenceLength { get; init; } = 4192;
    /// <summary>#20 max_sentencepiece_length in characters; default 16.</summary>
    public int MaxSentencePieceLength { get; init; } = 16;
    /// <summary>#21 split_by_unicode_script; default true.</summary>
    public bool SplitByUnicodeScript { get; init; } = true;
    /// <summary>#22 split_by_whitespace; default true.</summary>
    public bool SplitByWhitespace { get; init; } = true;
    /// <summary>#23 split_by_number; default true.</summary>
    public bool SplitByNumber { get; init; } = true;
    /// <summary>#24 treat_whitespace_as_suffix; default false (Loom supports only false).</summary>
    public bool TreatWhitespaceAsSuffix { get; init; }
    /// <summary>#25 split_digits; default false.</summary>
    public bool SplitDigits { get; init; }
    /// <summary>#30 control_symbols.</summary>
    public IReadOnlyList<string> ControlSymbols { get; init; } = [];
    /// <summary>#31 user_defined_symbols.</summary>
    public IReadOnlyList<string> UserDefinedSymbols { get; init; } = [];
    /// <summary>#35 byte_fallback: unknown characters become &lt;0xNN&gt; byte pieces; default false.</summary>
    public bool ByteFallback { get; init; }
    /// <summary>#40 unk_id; default 0.</summary>
    public int UnkId { get; init; }
    /// <summary>#41 bos_id; default 1 (-1: none).</summary>
    public int BosId { get; init; } = 1;
    /// <summary>#42 eos_id; default 2 (-1: none).</summary>
    public int EosId { get; init; } = 2;
    /// <summary>#43 pad_id; default -1 (none).</summary>
    public int PadId { get; init; } = -1;
    /// <summary>#44 unk_surface: what decoding prints for &lt;unk&gt;; default " ⁇ ".</summary>
    public string UnkSurface { get; init; } = " \u2047 ";
    /// <summary>#45 unk_piece; default "&lt;unk&gt;".</summary>
    public string UnkPiece { get; init; } = "<unk>";
    /// <summary>#46 bos_piece; default "&lt;s&gt;".</summary>
    public string BosPiece { get; init; } = "<s>";
    /// <summary>#47 eos_piece; default "&lt;/s&gt;".</summary>
    public string EosPiece { get; init; } = "</s>";
    /// <summary>#48 pad_piece; default "&lt;pad&gt;".</summary>
    public string PadPiece { get; init; } = "<pad>";

    internal static SentencePieceTrainerSpec Read(ProtoReader r)
    {
        var spec = new SentencePieceTrainerSpec();
        var input = new List<string>();
        var control = new List<string>();
        var user = new List<string>();
        while (r.TryReadTag(out int f, out int wt))
        {
            switch (f)
            {
                case 1: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec.input"); input.Add(r.ReadString()); break;
                case 2: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec.model_prefix"); spec = spec with { ModelPrefix = r.ReadString() }; break;
                case 3: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.model_type"); spec = spec with { ModelType = (SentencePieceModelType)r.ReadInt32() }; break;
                case 4: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.vocab_size"); spec = spec with { VocabSize = r.ReadInt32() }; break;
                case 10: r.Expect(f, wt, ProtoReader.Fixed32, "trainer_spec.character_coverage"); spec = spec with { CharacterCoverage = r.ReadFloat() }; break;
                case 14: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.seed_sentencepiece_size"); spec = spec with { SeedSentencePieceSize = r.ReadInt32() }; break;
                case 15: r.Expect(f, wt, ProtoReader.Fixed32, "trainer_spec.shrinking_factor"); spec = spec with { ShrinkingFactor = r.ReadFloat() }; break;
                case 17: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.num_sub_iterations"); spec = spec with { NumSubIterations = r.ReadInt32() }; break;
                case 18: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.max_sentence_length"); spec = spec with { MaxSentenceLength = r.ReadInt32() }; break;
                case 20: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.max_sentencepiece_length"); spec = spec with { MaxSentencePieceLength = r.ReadInt32() }; break;
                case 21: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.split_by_unicode_script"); spec = spec with { SplitByUnicodeScript = r.ReadBool() }; break;
                case 22: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.split_by_whitespace"); spec = spec with { SplitByWhitespace = r.ReadBool() }; break;
                case 23: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.split_by_number"); spec = spec with { SplitByNumber = r.ReadBool() }; break;
                case 24: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.treat_whitespace_as_suffix"); spec = spec with { TreatWhitespaceAsSuffix = r.ReadBool() }; break;
                case 25: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.split_digits"); spec = spec with { SplitDigits = r.ReadBool() }; break;
                case 30: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec.control_symbols"); control.Add(r.ReadString()); break;
                case 31: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec.user_defined_symbols"); user.Add(r.ReadString()); break;
                case 35: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.byte_fallback"); spec = spec with { ByteFallback = r.ReadBool() }; break;
                case 40: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.unk_id"); spec = spec with { UnkId = r.ReadInt32() }; break;
                case 41: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.bos_id"); spec = spec with { BosId = r.ReadInt32() }; break;
                case 42: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.eos_id"); spec = spec with { EosId = r.ReadInt32() }; break;
                case 43: r.Expect(f, wt, ProtoReader.Varint, "trainer_spec.pad_id"); spec = spec with { PadId = r.ReadInt32() }; break;
                case 44: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec.unk_surface"); spec = spec with { UnkSurface = r.ReadString() }; break;
                case 45: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec.unk_piece"); spec = spec with { UnkPiece = r.ReadString() }; break;
                case 46: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec.bos_piece"); spec = spec with { BosPiece = r.ReadString() }; break;
                case 47: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec.eos_piece"); spec = spec with { EosPiece = r.ReadString() }; break;
                case 48: r.Expect(f, wt, ProtoReader.LengthDelimited, "trainer_spec.pad_piece"); spec = spec with { PadPiece = r.ReadString() }; break;
                default: r.Skip(wt); break;
            }
        }
        return spec with { Input = input, ControlSymbols = control, UserDefinedSymbols = user };
    }

    internal ProtoWriter Write()
    {
        var w = new ProtoWriter();
        foreach (var s in Input) w.WriteStringField(1, s);
        if (ModelPrefix.Length > 0) w.WriteStringField(2, ModelPrefix);
        w.WriteInt32Field(3, (int)ModelType);
        w.WriteInt32Field(4, VocabSize);
        w.WriteFloatField(10, CharacterCoverage);
        w.WriteInt32Field(14, SeedSentencePieceSize);
        w.WriteFloatField(15, ShrinkingFactor);
        w.WriteInt32Field(17, NumSubIterations);
        w.WriteInt32Field(18, MaxSentenceLength);
        w.WriteInt32Field(20, MaxSentencePieceLength);
        w.WriteBoolField(21, SplitByUnicodeScript);
        w.WriteBoolField(22, SplitByWhitespace);
        w.WriteBoolField(23, SplitByNumber);
        w.WriteBoolField(24, TreatWhitespaceAsSuffix);
        w.WriteBoolField(25, SplitDigits);
        foreach (var s in ControlSymbols) w.WriteStringField(30, s);
        foreach (var s in UserDefinedSymbols) w.WriteStringField(31, s);
        w.WriteBoolField(35, ByteFallback);
        w.WriteInt32Field(40, UnkId);
        w.WriteInt32Field(41, BosId);
        w.WriteInt32Field(42, EosId);
        w.WriteInt32Field(43, PadId);
        w.WriteStringField(44, UnkSurface);
        w.WriteStringField(45, UnkPiece);
        w.WriteStringField(46, BosPiece);
        w.WriteStringField(47, EosPiece);
        w.WriteStringField(48, PadPiece);
        return w;
    }
}
