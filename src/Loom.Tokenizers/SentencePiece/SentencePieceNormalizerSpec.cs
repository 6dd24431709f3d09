// ModelProto.normalizer_spec (sentencepiece_model.proto, message NormalizerSpec). The normalization
// rules themselves (nmt_nfkc, nfkc_cf, the user's TSV rules) are compiled by spm_train into
// precompiled_charsmap: a Darts-clone double-array trie over UTF-8 prefixes plus the blob of
// replacement strings (see SentencePieceNormalizer). "identity" has an empty charsmap.
namespace Loom.Tokenizers.SentencePiece;

/// <summary>The normalization settings stored in a SentencePiece model.</summary>
public sealed record SentencePieceNormalizerSpec
{
    /// <summary>#1 name: nmt_nfkc, nfkc, nmt_nfkc_cf, nfkc_cf, identity or user_defined.</summary>
    public string Name { get; init; } = "";
    /// <summary>#2 precompiled_charsmap: uint32 trie size, Darts-clone trie units, NUL-terminated replacement strings.</summary>
    public byte[] PrecompiledCharsmap { get; init; } = [];
    /// <summary>#3 add_dummy_prefix: prepend ▁ so a first word looks like every other word; default true.</summary>
    public bool AddDummyPrefix { get; init; } = true;
    /// <summary>#4 remove_extra_whitespaces: drop leading, trailing and repeated spaces; default true.</summary>
    public bool RemoveExtraWhitespaces { get; init; } = true;
    /// <summary>#5 escape_whitespaces: write spaces as ▁ (U+2581); default true.</summary>
    public bool EscapeWhitespaces { get; init; } = true;
    /// <summary>#6 normalization_rule_tsv (informational; the rules are in the charsmap).</summary>
    public string NormalizationRuleTsv { get; init; } = "";

    internal static SentencePieceNormalizerSpec Read(ProtoReader r)
    {
        var spec = new SentencePieceNormalizerSpec();
        while (r.TryReadTag(out int f, out int wt))
        {
            switch (f)
            {
                case 1: r.Expect(f, wt, ProtoReader.LengthDelimited, "normalizer_spec.name"); spec = spec with { Name = r.ReadString() }; break;
                case 2: r.Expect(f, wt, ProtoReader.LengthDelimited, "normalizer_spec.precompiled_charsmap"); spec = spec with { PrecompiledCharsmap = r.ReadBytes().ToArray() }; break;
                case 3: r.Expect(f, wt, ProtoReader.Varint, "normalizer_spec.add_dummy_prefix"); spec = spec with { AddDummyPrefix = r.ReadBool() }; break;
                case 4: r.Expect(f, wt, ProtoReader.Varint, "normalizer_spec.remove_extra_whitespaces"); spec = spec with { RemoveExtraWhitespaces = r.ReadBool() }; break;
                case 5: r.Expect(f, wt, ProtoReader.Varint, "normalizer_spec.escape_whitespaces"); spec = spec with { EscapeWhitespaces = r.ReadBool() }; break;
                case 6: r.Expect(f, wt, ProtoReader.LengthDelimited, "normalizer_spec.normalization_rule_tsv"); spec = spec with { NormalizationRuleTsv = r.ReadString() }; break;
                default: r.Skip(wt); break;
            }
        }
        return spec;
    }

    internal ProtoWriter Write()
    {
        var w = new ProtoWriter();
        if (Name.Length > 0) w.WriteStringField(1, Name);
        if (PrecompiledCharsmap.Length > 0) w.WriteBytesField(2, PrecompiledCharsmap);
        w.WriteBoolField(3, AddDummyPrefix);
        w.WriteBoolField(4, RemoveExtraWhitespaces);
        w.WriteBoolField(5, EscapeWhitespaces);
        if (NormalizationRuleTsv.Length > 0) w.WriteStringField(6, NormalizationRuleTsv);
        return w;
    }
}
