// Hugging Face's TemplateProcessing (tokenizers/src/processors/template.rs): BERT's
//   single "[CLS]:0 $A:0 [SEP]:0"   pair "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1".
// Special tokens get offsets (0, 0) and special mask 1; each sequence piece sets the token type id of
// all its tokens (also when special tokens are not added, as HF).
namespace Loom.Tokenizers.PostProcessor;

/// <summary>A template post-processor: special tokens around one or two sequences, with token type ids.</summary>
public sealed class TemplatePostProcessor
{
    /// <summary>Creates the processor; every special token named in a template must be in <paramref name="specialTokens"/>.</summary>
    public TemplatePostProcessor(IReadOnlyList<TemplatePiece> single, IReadOnlyList<TemplatePiece> pair,
        IReadOnlyDictionary<string, (int[] Ids, string[] Tokens)> specialTokens)
    {
        Single = single;
        Pair = pair;
        SpecialTokens = specialTokens;
        foreach (var piece in single.Concat(pair))
        {
            if (piece.SpecialToken is { } name && !specialTokens.ContainsKey(name))
                throw new ArgumentException($"The template uses special token '{name}' but it has no id; add it to special_tokens.");
            if (piece.SpecialToken is null && piece.Sequence is not (0 or 1))
                throw new ArgumentException($"A template sequence must be $A or $B, got sequence {piece.Sequence}.");
        }
        if (single.Any(p => p.SpecialToken is null && p.Sequence == 1))
            throw new ArgumentException("The single-sequence template cannot use $B.");
    }

    /// <summary>BERT's template: [CLS] A [SEP] and [CLS] A [SEP] B [SEP] with type ids 0/1.</summary>
    public static TemplatePostProcessor Bert(string cls, int clsId, string sep, int sepId) => new(
        [TemplatePiece.Special(cls, 0), TemplatePiece.Input(0, 0), TemplatePiece.Special(sep, 0)],
        [TemplatePiece.Special(cls, 0), TemplatePiece.Input(0, 0), TemplatePiece.Special(sep, 0), TemplatePiece.Input(1, 1), TemplatePiece.Special(sep, 1)],
        new Dictionary<string, (int[], string[])> { [cls] = ([clsId], [cls]), [sep] = ([sepId], [sep]) });

    /// <summary>Template for one sequence.</summary>
    public IReadOnlyList<TemplatePiece> Single { get; }

    /// <summary>Template for a pair.</summary>
    public IReadOnlyList<TemplatePiece> Pair { get; }

    /// <summary>Special token name → ids and token texts.</summary>
    public IReadOnlyDictionary<string, (int[] Ids, string[] Tokens)> SpecialTokens { get; }

    /// <summary>Number of tokens the template adds (HF's added_tokens): truncation keeps room for them.</summary>
    public int AddedTokens(bool isPair) =>
        (isPair ? Pair : Single).Sum(p => p.SpecialToken is null ? 0 : SpecialTokens[p.SpecialToken].Ids.Length);

    /// <summary>Appends the final token sequence to <paramref name="output"/>.</summary>
    public void Apply(List<EncodedToken> first, List<EncodedToken>? second, bool addSpecialTokens, List<EncodedToken> output)
    {
        foreach (var piece in second is null ? Single : Pair)
        {
            if (piece.SpecialToken is { } name)
            {
                if (!addSpecialTokens) continue;
                var (ids, tokens) = SpecialTokens[name];
                for (int i = 0; i < ids.Length; i++) output.Add(new EncodedToken(ids[i], tokens[i], 0, 0, piece.TypeId, true));
                continue;
            }
            var sequence = piece.Sequence == 0 ? first : second!;
            foreach (var t in sequence) output.Add(t with { TypeId = piece.TypeId });
        }
    }
}
