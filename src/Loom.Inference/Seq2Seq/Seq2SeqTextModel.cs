// An encoder-decoder directory (T5: config.json, model.safetensors, spiece.model or a Unigram
// tokenizer.json) as text in, text out: the source is encoded as HF's T5Tokenizer does (SentencePiece
// ids, then </s>), Seq2SeqGenerator runs on it, and the target is decoded without pad or </s>. Used by
// `loom serve` (completions on a T5 directory) and `loom augment --method backtranslate --model DIR`.
// It owns the model (one native block); generation only reads it, so calls may overlap, but each
// runs on the caller's thread and two at once only share the cores.
using Loom.Inference.Generation;
using Loom.Models;
using Loom.Tokenizers.SentencePiece;

namespace Loom.Inference.Seq2Seq;

/// <summary>What a <see cref="Seq2SeqTextModel"/> generation produced.</summary>
/// <param name="Text">The decoded target (cut before a stop string when one occurred).</param>
/// <param name="GeneratedTokens">Ids the decoder produced, &lt;/s&gt; included (OpenAI's completion_tokens).</param>
/// <param name="FinishReason">"stop" (&lt;/s&gt; or a stop string) or "length" (max_new_tokens ran out).</param>
public sealed record Seq2SeqTextResult(string Text, int GeneratedTokens, string FinishReason);

/// <summary>A T5-style directory loaded for text-to-text generation.</summary>
public sealed class Seq2SeqTextModel : IDisposable
{
    private readonly Seq2SeqGenerator _generator;

    private Seq2SeqTextModel(ISeq2SeqModel model, SentencePieceTokenizer tokenizer, string directory)
    {
        Model = model;
        Tokenizer = tokenizer;
        Directory = directory;
        _generator = new Seq2SeqGenerator(model);
    }

    public ISeq2SeqModel Model { get; }
    public SentencePieceTokenizer Tokenizer { get; }
    /// <summary>The directory loaded.</summary>
    public string Directory { get; }

    /// <summary>True when <paramref name="directory"/> holds an encoder-decoder config.json (model_type t5).</summary>
    public static bool IsSeq2Seq(string directory) => Seq2SeqModels.IsSeq2SeqDirectory(directory);

    /// <summary>Loads the model for inference and its SentencePiece tokenizer; errors name the file.</summary>
    public static Seq2SeqTextModel Load(string directory)
    {
        var tokenizer = SentencePieceTokenizer.ResolveFile(directory) is null
            ? throw new FileNotFoundException($"{directory}: no SentencePiece tokenizer; a T5 directory holds spiece.model (T5Tokenizer) or a Unigram tokenizer.json (T5TokenizerFast).")
            : SentencePieceTokenizer.Load(directory);
        var model = Seq2SeqModels.Load(directory, ModelOptions.Inference);
        if (tokenizer.VocabSize > model.VocabularySize)
        {
            model.Dispose();
            throw new InvalidDataException($"{directory}: the tokenizer has {tokenizer.VocabSize} pieces but config.json's vocab_size is {model.VocabularySize}; the tokenizer does not belong to this model.");
        }
        return new Seq2SeqTextModel(model, tokenizer, directory);
    }

    /// <summary>The source ids as T5Tokenizer gives them: the SentencePiece ids, then &lt;/s&gt;.</summary>
    public int[] EncodeSource(string text)
    {
        var ids = new List<int>(Tokenizer.Encode(text)) { Model.EosTokenId };
        return [.. ids];
    }

    /// <summary>Decodes target ids, dropping pad and &lt;/s&gt; (skip_special_tokens for T5's specials).</summary>
    public string DecodeTarget(IEnumerable<int> ids) =>
        Tokenizer.Decode(ids.Where(t => t != Model.PadTokenId && t != Model.EosTokenId).ToArray());

    /// <summary>
    /// Generates the target of <paramref name="source"/> (ids from <see cref="EncodeSource"/>).
    /// <paramref name="onText"/> receives the text as it becomes final (greedy and sampling; beam search
    /// at the end): a piece that may still change — an unfinished byte-fallback character, or text that
    /// could be the start of a stop string — is held back until it cannot. A stop string ends
    /// generation and is not part of the text (OpenAI's stop).
    /// </summary>
    public Seq2SeqTextResult Generate(ReadOnlySpan<int> source, Seq2SeqGenerationOptions options, IReadOnlyList<string>? stop = null,
        Action<string>? onText = null, CancellationToken cancellationToken = default)
    {
        stop ??= [];
        int holdBack = stop.Count == 0 ? 0 : stop.Max(s => s.Length) - 1;
        var tokens = new List<int>();
        string emitted = "";
        string? stopped = null;
        using var halt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Emit(string upTo)
        {
            if (upTo.Length > emitted.Length && upTo.StartsWith(emitted, StringComparison.Ordinal))
            {
                onText?.Invoke(upTo[emitted.Length..]);
                emitted = upTo;
            }
        }
        void OnToken(int id)
        {
            tokens.Add(id);
            if (stopped != null) return;
            string text = DecodeTarget(tokens);
            if (FirstStop(text, stop) is int cut)
            {
                stopped = text[..cut];
                Emit(stopped);
                halt.Cancel();   // the generator checks the token before each step
                return;
            }
            if (text.EndsWith('\uFFFD')) return;
            int safe = text.Length - holdBack;
            if (safe > 0 && char.IsHighSurrogate(text[safe - 1])) safe--;
            if (safe > emitted.Length) Emit(text[..safe]);
        }
        Seq2SeqResult? result = null;
        try { result = _generator.Generate(source, options, options.NumBeams == 1 ? OnToken : null, halt.Token); }
        catch (OperationCanceledException) when (stopped != null && !cancellationToken.IsCancellationRequested) { }
        if (stopped != null) return new Seq2SeqTextResult(stopped, tokens.Count, "stop");
        var r = result!;
        string final = DecodeTarget(r.Tokens);
        if (FirstStop(final, stop) is int at)   // beam search: the stop is applied to the finished text
        {
            final = final[..at];
            Emit(final);
            return new Seq2SeqTextResult(final, r.Tokens.Length + (r.EndedWithEos ? 1 : 0), "stop");
        }
        Emit(final);
        return new Seq2SeqTextResult(final, r.Tokens.Length + (r.EndedWithEos ? 1 : 0), r.EndedWithEos ? "stop" : "length");
    }

    /// <summary>Generates the target of a text, encoded with <see cref="EncodeSource"/>.</summary>
    public Seq2SeqTextResult Generate(string source, Seq2SeqGenerationOptions options, CancellationToken cancellationToken = default) =>
        Generate(EncodeSource(source), options, null, null, cancellationToken);

    private static int? FirstStop(string text, IReadOnlyList<string> stop)
    {
        int? best = null;
        foreach (var s in stop)
        {
            int i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (best is null || i < best)) best = i;
        }
        return best;
    }

    public void Dispose() => Model.Dispose();
}
