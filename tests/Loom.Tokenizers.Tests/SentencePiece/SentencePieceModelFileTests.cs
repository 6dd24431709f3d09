// The ModelProto reader and writer: a model trained by python-sentencepiece reads, writes and reads back to the
// same fields, and the rewritten bytes still encode exactly as sentencepiece did (its recorded ids); damaged
// files are errors that name the byte offset.
using Loom.Tokenizers.SentencePiece;

namespace Loom.Tokenizers.Tests.SentencePiece;

public class SentencePieceModelFileTests
{
    [Theory]
    [InlineData("t5style")]
    [InlineData("bpe_bytes")]
    [InlineData("custom_rules")]
    public void AReferenceModelSurvivesLoomsWriter(string name)
    {
        var original = SentencePieceModelFile.Read(SentencePieceConformanceTests.FixturePath(name + ".model.gz"));
        byte[] bytes = original.ToBytes();
        var back = SentencePieceModelFile.Parse(bytes, "rewritten");
        Assert.Equal(original.Pieces, back.Pieces);
        Assert.Equal(original.NormalizerSpec.PrecompiledCharsmap, back.NormalizerSpec.PrecompiledCharsmap);
        Assert.Equal(original.TrainerSpec with { Input = [], ControlSymbols = [], UserDefinedSymbols = [] },
            back.TrainerSpec with { Input = [], ControlSymbols = [], UserDefinedSymbols = [] });
        Assert.Equal(original.TrainerSpec.UserDefinedSymbols, back.TrainerSpec.UserDefinedSymbols);
        var tok = new SentencePieceTokenizer(back, null, "rewritten");
        foreach (var (text, ids, _) in SentencePieceConformanceTests.ReadVectors(name)) Assert.Equal(ids, tok.Encode(text));
    }

    [Fact]
    public void T5StyleSpecsReadAsSentencePieceWroteThem()
    {
        var model = SentencePieceModelFile.Read(SentencePieceConformanceTests.FixturePath("t5style.model.gz"));
        // make_fixtures.py: pad_id=0, eos_id=1, unk_id=2, bos_id=-1 (a negative int32 is a 10-byte varint).
        Assert.Equal((0, 1, 2, -1), (model.TrainerSpec.PadId, model.TrainerSpec.EosId, model.TrainerSpec.UnkId, model.TrainerSpec.BosId));
        Assert.Equal(100, model.TrainerSpec.UserDefinedSymbols.Count);
        Assert.Equal("nmt_nfkc", model.NormalizerSpec.Name);
        Assert.Equal(2000, model.Pieces.Count);
        Assert.Equal(new SentencePieceEntry("<extra_id_0>", 0, SentencePieceType.UserDefined), model.Pieces[3]);
        var tok = new SentencePieceTokenizer(model);
        Assert.Equal((0, 1, 2, -1), (tok.PadId, tok.EosId, tok.UnkId, tok.BosId));
    }

    [Fact]
    public void ATruncatedModelNamesTheOffset()
    {
        var bytes = SentencePieceModelFile.Read(SentencePieceConformanceTests.FixturePath("identity.model.gz")).ToBytes();
        var e = Assert.Throws<FormatException>(() => SentencePieceModelFile.Parse(bytes.AsSpan(0, bytes.Length - 7), "cut.model"));
        Assert.Contains("cut.model: byte ", e.Message);
        Assert.Contains("runs past the end", e.Message);
        e = Assert.Throws<FormatException>(() => SentencePieceModelFile.Parse("not a model at all"u8, "text.model"));
        Assert.Contains("text.model", e.Message);
    }

    [Fact]
    public void AGzipBombIsRefusedBeforeItExhaustsMemory()
    {
        // Regression: a .model.gz was decompressed without a bound (found by the adversarial pass).
        string path = Path.Combine(Path.GetTempPath(), "loom-bomb-" + Guid.NewGuid().ToString("N") + ".model.gz");
        try
        {
            using (var file = File.Create(path))
            using (var z = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
            {
                var zeros = new byte[1 << 20];
                for (long written = 0; written <= SentencePieceModelFile.MaxDecompressedBytes; written += zeros.Length) z.Write(zeros);
            }
            Assert.True(new FileInfo(path).Length < 4 << 20);
            var e = Assert.Throws<FormatException>(() => SentencePieceModelFile.Read(path));
            Assert.Contains("decompresses to more than 256 MiB", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AModelWithoutUnknownPieceIsRefused()
    {
        var model = new SentencePieceModelFile { Pieces = [new("a", -1), new("b", -2)] };
        var e = Assert.Throws<FormatException>(() => new SentencePieceTokenizer(SentencePieceModelFile.Parse(model.ToBytes(), "nounk.model"), null, "nounk.model"));
        Assert.Contains("no UNKNOWN piece", e.Message);
    }
}

public class SentencePieceExtraIdsTests
{
    // transformers' T5Tokenizer: vocab_size = sp_model.get_piece_size() + extra_ids and
    // _convert_token_to_id("<extra_id_N>") = vocab_size − N − 1, so <extra_id_0> is the last id.
    [Fact]
    public void SentinelsGetT5TokenizersIdsAfterThePieces()
    {
        var model = SentencePieceModelFile.Read(SentencePieceConformanceTests.FixturePath("identity.model.gz"));
        var plain = new SentencePieceTokenizer(model);
        var t5 = new SentencePieceTokenizer(model, new SentencePieceTokenizerOptions { ExtraIds = 100 });
        Assert.Equal(1500 + 100, t5.VocabSize);
        Assert.Equal(1599, t5.PieceToId("<extra_id_0>"));
        Assert.Equal(1500, t5.PieceToId("<extra_id_99>"));
        Assert.Equal("<extra_id_7>", t5.IdToPiece(1592));
        Assert.Equal(plain.UnkId, t5.PieceToId("<extra_id_100>"));
        int[] ids = t5.Encode("The <extra_id_0> walks in <extra_id_1> park", addSpecialTokens: true);
        Assert.Equal([.. plain.Encode("The "), 1599, .. plain.Encode(" walks in "), 1598, .. plain.Encode(" park"), plain.EosId], ids);
        Assert.Equal("The<extra_id_0> walks in<extra_id_1> park", t5.Decode(ids));
    }
}
