// Text-to-text examples encoded as T5Tokenizer does with truncation=True: the content ids cut to
// max_length − 1, then </s> (the truncation keeps the end-of-sequence token, so a cut target still
// teaches the model to stop). Truncations are counted and reported, never silent.
namespace Loom.Training.Seq2Seq;

/// <summary>Encoded seq2seq examples with truncation counts.</summary>
public sealed class Seq2SeqDataset
{
    /// <summary>The examples, in file order.</summary>
    public IReadOnlyList<Seq2SeqExample> Examples { get; }

    /// <summary>The texts they came from (the references of evaluation).</summary>
    public IReadOnlyList<TextPair> Pairs { get; }

    /// <summary>Sources cut to MaxSourceLength.</summary>
    public int TruncatedSources { get; }

    /// <summary>Targets cut to MaxTargetLength.</summary>
    public int TruncatedTargets { get; }

    private Seq2SeqDataset(List<Seq2SeqExample> examples, IReadOnlyList<TextPair> pairs, int truncatedSources, int truncatedTargets)
    {
        Examples = examples;
        Pairs = pairs;
        TruncatedSources = truncatedSources;
        TruncatedTargets = truncatedTargets;
    }

    /// <summary>Encodes <paramref name="pairs"/>: prefix + source, and target, each truncated then ended with &lt;/s&gt;.</summary>
    public static Seq2SeqDataset Encode(IReadOnlyList<TextPair> pairs, ITextToTextTokenizer tokenizer, Seq2SeqDataOptions options)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate("seq2seq.");
        var examples = new List<Seq2SeqExample>(pairs.Count);
        int cutSources = 0, cutTargets = 0;
        var ids = new List<int>();
        foreach (var pair in pairs)
        {
            int[] source = EncodeOne(tokenizer, options.SourcePrefix + pair.Source, options.MaxSourceLength, ids, ref cutSources);
            int[] labels = EncodeOne(tokenizer, pair.Target, options.MaxTargetLength, ids, ref cutTargets);
            examples.Add(new Seq2SeqExample(source, labels, pair.Where));
        }
        return new Seq2SeqDataset(examples, pairs, cutSources, cutTargets);
    }

    private static int[] EncodeOne(ITextToTextTokenizer tokenizer, string text, int maxLength, List<int> ids, ref int truncated)
    {
        ids.Clear();
        tokenizer.Encode(text, ids);
        int keep = ids.Count;
        if (keep > maxLength - 1) { keep = maxLength - 1; truncated++; }
        var result = new int[keep + 1];
        ids.CopyTo(0, result, 0, keep);
        result[keep] = tokenizer.EosId;
        return result;
    }
}
