// BERT's classification input: [CLS] A [SEP] (B [SEP]), token types 0 then 1 (Devlin et al. 2019, §3;
// HF's BertTokenizer build_inputs_with_special_tokens / create_token_type_ids_from_sequences).
using Loom.Tokenizers;

namespace Loom.Training.Classification;

/// <summary>A WordPiece tokenizer with BERT's template.</summary>
public sealed class WordPieceSequenceEncoder : SequenceEncoder
{
    private readonly WordPieceTokenizer _tokenizer;
    private readonly string _source;
    private readonly int _cls, _sep, _pad;

    public WordPieceSequenceEncoder(WordPieceTokenizer tokenizer, string source)
    {
        _tokenizer = tokenizer;
        _source = source;
        _cls = tokenizer.TokenToId("[CLS]") ?? throw new InvalidDataException($"The tokenizer {source} has no [CLS] token; a BERT classifier needs [CLS] and [SEP].");
        _sep = tokenizer.TokenToId("[SEP]") ?? throw new InvalidDataException($"The tokenizer {source} has no [SEP] token; a BERT classifier needs [CLS] and [SEP].");
        _pad = tokenizer.TokenToId("[PAD]") ?? 0;
    }

    public override int PadId => _pad;
    public override int VocabularySize => _tokenizer.VocabularySize;
    public override int SpecialCount(bool pair) => pair ? 3 : 2;
    public override string TokenText(int id) => _tokenizer.IdToToken(id) ?? $"[{id}]";
    protected override void ContentIds(string text, List<int> ids) => _tokenizer.EncodeIds(text, ids);

    protected override void Assemble(List<int> a, List<int>? b, List<int> ids, List<int> types)
    {
        ids.Add(_cls); ids.AddRange(a); ids.Add(_sep);
        for (int i = 0; i < a.Count + 2; i++) types.Add(0);
        if (b == null) return;
        ids.AddRange(b); ids.Add(_sep);
        for (int i = 0; i < b.Count + 1; i++) types.Add(1);
    }

    public override void SaveTo(string directory)
    {
        if (!CopyFiles(_source, directory))
            Loom.Tokenizers.Formats.WordPieceTokenizerJson.Save(_tokenizer, Path.Combine(directory, "tokenizer.json"));
    }
}
