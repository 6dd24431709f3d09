// Byte-level BPE input of a causal classifier (GPT2/LlamaForSequenceClassification): the content
// tokens, after BOS when tokenizer_config.json has add_bos_token (Llama); no EOS, no template. The
// model reads the last non-pad token, so padding must be an id the text does not end with: GPT-2
// has no pad token and, as Hugging Face users do (tokenizer.pad_token = tokenizer.eos_token), pads
// with <|endoftext|>; the model is told pad_token_id = that id.
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;

namespace Loom.Training.Classification;

/// <summary>A byte-level BPE tokenizer for causal classifiers.</summary>
public sealed class BpeSequenceEncoder : SequenceEncoder
{
    private readonly BpeTokenizer _tokenizer;
    private readonly string _source;
    private readonly int _bos = -1;
    private readonly int _pad;

    public BpeSequenceEncoder(BpeTokenizer tokenizer, string source)
    {
        _tokenizer = tokenizer;
        _source = source;
        var specials = tokenizer.SpecialTokens;
        int Find(params string[] names)
        {
            foreach (var n in names) if (specials.TryGetValue(n, out int id)) return id;
            return -1;
        }
        if (!TiktokenEncodings.IsKnown(source) && AddsBos(source))
            _bos = Find("<s>", "<|begin_of_text|>", "<|endoftext|>") is var b and >= 0 ? b
                : throw new InvalidDataException($"{source}: tokenizer_config.json sets add_bos_token but the tokenizer has no <s> or <|begin_of_text|> token.");
        int pad = Find("<pad>", "<|endoftext|>", "</s>", "<|end_of_text|>");
        _pad = pad >= 0 ? pad : 0;
    }

    /// <summary>True when a BOS id starts every sequence.</summary>
    public bool AddsBosToken => _bos >= 0;

    public override int PadId => _pad;
    public override int VocabularySize => _tokenizer.VocabularySize;
    public override int SpecialCount(bool pair) => _bos >= 0 ? 1 : 0;
    public override string TokenText(int id) => _tokenizer.Decode([id]);
    protected override void ContentIds(string text, List<int> ids) => _tokenizer.Encode(text.AsSpan(), ids, SpecialTokenPolicy.PlainText);

    protected override void Assemble(List<int> a, List<int>? b, List<int> ids, List<int> types)
    {
        if (_bos >= 0) ids.Add(_bos);
        ids.AddRange(a);
        if (b != null) ids.AddRange(b);
        for (int i = 0; i < ids.Count; i++) types.Add(0);
    }

    public override void SaveTo(string directory)
    {
        if (!CopyFiles(_source, directory))
        {
            Directory.CreateDirectory(directory);
            HuggingFaceTokenizerJson.Save(_tokenizer, Path.Combine(directory, "tokenizer.json"));
        }
    }
}
