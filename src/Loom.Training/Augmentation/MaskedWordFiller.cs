// [MASK] replacement with a masked language model (Kobayashi 2018, "Contextual Augmentation"; Wu et
// al. 2019, "Conditional BERT Contextual Augmentation", without the label conditioning): a word is
// replaced by [MASK], the masked LM (a Hugging Face BertForMaskedLM directory: config.json,
// model.safetensors, vocab.txt or a WordPiece tokenizer.json) predicts a distribution over its
// vocabulary at that position, and the word is replaced by one of the top-k *fills*: tokens that are
// whole words (not a special token, not a ## continuation, letters only) and not the masked word
// itself. A fill's probability is the softmax over the whole vocabulary at that position (as
// transformers' fill-mask pipeline reports it). A text that already holds [MASK] tokens (the seed's
// "tells no [MASK] story") is filled at those; otherwise k non-stop words (EDA's stop list) are
// masked, all at once. A sequence longer than the model's context is cut to a window of tokens
// centred on a mask; masks outside it are filled in further windows.
using System.Text;
using System.Text.RegularExpressions;
using Loom.Models;
using Loom.Models.Families;
using Loom.Tokenizers;

namespace Loom.Training.Augmentation;

/// <summary>One proposed fill of a [MASK]: a whole-word token and its probability.</summary>
public sealed record MaskFill(string Token, double Probability);

/// <summary>Fills [MASK] positions with a BERT masked LM's most likely whole words.</summary>
public sealed partial class MaskedWordFiller : IDisposable
{
    /// <summary>The mask token in a text.</summary>
    public const string MaskToken = "[MASK]";

    private readonly ILanguageModel _model;
    private readonly WordPieceTokenizer _tokenizer;
    private readonly int _mask, _cls, _sep;
    private readonly bool[] _isWord;   // per id: a whole-word fill candidate

    [GeneratedRegex(@"\p{L}+")] private static partial Regex Word();

    private MaskedWordFiller(ILanguageModel model, WordPieceTokenizer tokenizer, string source)
    {
        _model = model;
        _tokenizer = tokenizer;
        int Required(string token) => tokenizer.TokenToId(token)
            ?? throw new InvalidDataException($"{source}: the tokenizer has no {token} token; [MASK] augmentation needs a BERT tokenizer with [CLS], [SEP] and [MASK].");
        _mask = Required(MaskToken);
        _cls = Required("[CLS]");
        _sep = Required("[SEP]");
        var specials = tokenizer.AddedTokens.Where(t => t.Special).Select(t => t.Id).ToHashSet();
        _isWord = new bool[model.VocabularySize];
        for (int id = 0; id < _isWord.Length; id++)
        {
            string? t = tokenizer.IdToToken(id);
            _isWord[id] = t is { Length: > 0 } && !specials.Contains(id) && !t.StartsWith("##", StringComparison.Ordinal) && t.All(char.IsLetter)
                          && !(t.StartsWith('[') && t.EndsWith(']'));
        }
    }

    /// <summary>Opens a BertForMaskedLM directory (config.json, model.safetensors, vocab.txt or tokenizer.json).</summary>
    public static MaskedWordFiller Open(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"--model {directory}: no such directory. Give a BERT masked-LM directory (config.json, model.safetensors, vocab.txt), e.g. the output of loom train with model_type: bert.");
        var config = CausalLanguageModels.ReadConfig(directory, causalOnly: false);
        var family = ModelFamilies.ForConfiguration(config);
        if (family?.CreateMaskedLanguageModel is not { } create)
            throw new InvalidDataException($"{Path.Combine(directory, "config.json")}: model_type {family?.ModelType ?? "?"} is not a masked language model; [MASK] augmentation needs a BERT (BertForMaskedLM) directory.");
        var tokenizer = WordPieceTokenizer.Load(directory);
        var model = create(config, ModelOptions.Inference, null);
        try
        {
            CausalLanguageModels.LoadWeights(model, Path.Combine(directory, "model.safetensors"));
            if (tokenizer.VocabularySize > model.VocabularySize)
                throw new InvalidDataException($"{directory}: the tokenizer has {tokenizer.VocabularySize} ids but config.json vocab_size is {model.VocabularySize}.");
            return new MaskedWordFiller(model, tokenizer, directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The masked LM's distribution over the vocabulary at each [MASK] of <paramref name="maskedText"/>, in
    /// text order (softmax in double of the model's logits).
    /// </summary>
    public double[][] Distributions(string maskedText)
    {
        var ids = new List<int>();
        _tokenizer.EncodeIds(maskedText, ids);
        var masks = new List<int>();
        for (int i = 0; i < ids.Count; i++) if (ids[i] == _mask) masks.Add(i);
        var result = new double[masks.Count][];
        int room = _model.ContextLength - 2, V = _model.VocabularySize;
        var sequence = new List<int>(Math.Min(ids.Count, room) + 2);
        for (int m = 0; m < masks.Count; m++)
        {
            if (result[m] != null) continue;
            // A window of at most `room` tokens centred on this mask (the whole text when it fits).
            int start = ids.Count <= room ? 0 : Math.Clamp(masks[m] - room / 2, 0, ids.Count - room);
            int length = Math.Min(room, ids.Count - start);
            sequence.Clear();
            sequence.Add(_cls);
            for (int i = start; i < start + length; i++) sequence.Add(ids[i]);
            sequence.Add(_sep);
            _model.Forward(sequence.ToArray(), [], 1, sequence.Count);
            var logits = _model.Logits;
            for (int n = m; n < masks.Count; n++)
            {
                if (result[n] != null || masks[n] < start || masks[n] >= start + length) continue;
                var row = logits.Slice((masks[n] - start + 1) * V, V);
                double max = double.NegativeInfinity, sum = 0;
                foreach (float z in row) max = Math.Max(max, z);
                var p = new double[V];
                for (int j = 0; j < V; j++) sum += p[j] = Math.Exp(row[j] - max);
                for (int j = 0; j < V; j++) p[j] /= sum;
                result[n] = p;
            }
        }
        return result;
    }

    /// <summary>
    /// The top-<paramref name="topK"/> whole-word fills of each [MASK] of <paramref name="maskedText"/>, most likely first
    /// (ties by id); <paramref name="originals"/>[i], when given, is the word the i-th mask hid and is never proposed.
    /// </summary>
    public MaskFill[][] Fill(string maskedText, int topK, IReadOnlyList<string?>? originals = null)
    {
        if (topK < 1) throw new ArgumentException($"--top-k is {topK}; it must be at least 1.");
        var distributions = Distributions(maskedText);
        var fills = new MaskFill[distributions.Length][];
        for (int m = 0; m < distributions.Length; m++)
        {
            var p = distributions[m];
            string? original = originals != null && m < originals.Count ? originals[m]?.ToLowerInvariant() : null;
            var order = Enumerable.Range(0, p.Length).Where(id => _isWord[id]).OrderByDescending(id => p[id]).ThenBy(id => id);
            fills[m] = order.Select(id => new MaskFill(_tokenizer.IdToToken(id)!, p[id]))
                .Where(f => original is null || !string.Equals(f.Token, original, StringComparison.OrdinalIgnoreCase))
                .Take(topK).ToArray();
        }
        return fills;
    }

    /// <summary>
    /// One augmentation of <paramref name="text"/>: its [MASK] tokens, or else <paramref name="words"/> random non-stop
    /// words, each replaced by a fill drawn from the top-<paramref name="topK"/> in proportion to probability. Null when
    /// the text has no word to mask or no fill.
    /// </summary>
    public AugmentedText? Augment(string text, int words, int topK, Random rng)
    {
        ArgumentNullException.ThrowIfNull(text);
        // The spans to fill: literal [MASK]s, else k chosen words.
        var spans = new List<(int Start, int Length, string? Original)>();
        for (int at = text.IndexOf(MaskToken, StringComparison.Ordinal); at >= 0; at = text.IndexOf(MaskToken, at + MaskToken.Length, StringComparison.Ordinal))
            spans.Add((at, MaskToken.Length, null));
        if (spans.Count == 0)
        {
            var candidates = Word().Matches(text).Where(m => m.Length >= 2 && !EasyDataAugmentation.StopWords.Contains(m.Value)).ToList();
            foreach (var m in candidates.OrderBy(_ => rng.Next()).Take(Math.Max(1, words)).OrderBy(m => m.Index))
                spans.Add((m.Index, m.Length, m.Value));
        }
        if (spans.Count == 0) return null;
        var masked = new StringBuilder(text.Length);
        int cursor = 0;
        foreach (var (start, length, _) in spans)
        {
            masked.Append(text, cursor, start - cursor).Append(' ').Append(MaskToken).Append(' ');
            cursor = start + length;
        }
        masked.Append(text, cursor, text.Length - cursor);
        var fills = Fill(masked.ToString(), topK, spans.Select(s => s.Original).ToList());
        if (fills.Length != spans.Count) return null;   // a mask token the tokenizer split or dropped (never with BERT's)
        var output = new StringBuilder(text.Length);
        var changes = new List<string>();
        cursor = 0;
        for (int i = 0; i < spans.Count; i++)
        {
            var (start, length, original) = spans[i];
            output.Append(text, cursor, start - cursor);
            cursor = start + length;
            if (fills[i].Length == 0) { output.Append(text, start, length); continue; }
            var pick = Draw(fills[i], rng);
            string word = original is { Length: > 0 } && char.IsUpper(original[0]) ? char.ToUpperInvariant(pick.Token[0]) + pick.Token[1..] : pick.Token;
            output.Append(word);
            changes.Add($"{original ?? MaskToken}→{word} (p={pick.Probability:0.####}; top-{fills[i].Length}: {string.Join(", ", fills[i].Select(f => $"{f.Token} {f.Probability:0.####}"))})");
        }
        output.Append(text, cursor, text.Length - cursor);
        return changes.Count == 0 ? null : new AugmentedText(output.ToString(), "mask", changes);
    }

    // A fill drawn in proportion to its probability among the top-k.
    private static MaskFill Draw(MaskFill[] fills, Random rng)
    {
        double total = fills.Sum(f => f.Probability), u = rng.NextDouble() * total;
        foreach (var f in fills)
            if ((u -= f.Probability) <= 0) return f;
        return fills[^1];
    }

    public void Dispose() => _model.Dispose();
}
