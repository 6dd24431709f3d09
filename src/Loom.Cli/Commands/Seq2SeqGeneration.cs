// `loom generate` on an encoder-decoder directory (config.json with model_type "t5", model.safetensors,
// and a SentencePiece tokenizer: spiece.model or a Unigram tokenizer.json): the prompt is encoded as
// T5Tokenizer does (ids then </s>), the encoder runs once, decoding starts from decoder_start_token_id
// and stops at </s> or --max-new-tokens, and the target is printed without pad or </s> (greedy and
// sampling streamed; beam search at the end).
using Loom.Inference.Generation;
using Loom.Inference.Seq2Seq;
using Loom.Models;
using Loom.Tokenizers.SentencePiece;

namespace Loom.Cli.Commands;

internal static class Seq2SeqGeneration
{
    /// <summary>Parses --early-stopping as transformers' early_stopping: true, false or never.</summary>
    public static BeamEarlyStopping ParseEarlyStopping(string value) => value.ToLowerInvariant() switch
    {
        "false" => BeamEarlyStopping.Heuristic,
        "true" => BeamEarlyStopping.True,
        "never" => BeamEarlyStopping.Never,
        _ => throw new ArgumentException($"--early-stopping is \"{value}\"; it must be true, false or never (transformers' early_stopping)."),
    };

    public static void Run(string dir, string prompt, Seq2SeqGenerationOptions options, bool hasStop, bool hasAdapter, TextWriter output)
    {
        if (hasAdapter) throw new NotSupportedException($"--adapter: {dir} is an encoder-decoder (T5) model; LoRA adapters for T5 are not supported by loom generate yet.");
        if (hasStop) throw new NotSupportedException($"--stop: {dir} is an encoder-decoder (T5) model, which ends at </s>; stop sequences apply to causal models only.");
        // Options are checked before the model loads.
        options.Validate(n => "--" + n.Replace('_', '-'));
        var tokenizer = SentencePieceTokenizer.ResolveFile(dir) is null
            ? throw new FileNotFoundException($"{dir}: no SentencePiece tokenizer; a T5 directory holds spiece.model (T5Tokenizer) or a Unigram tokenizer.json (T5TokenizerFast).")
            : SentencePieceTokenizer.Load(dir);
        using var model = Seq2SeqModels.Load(dir, ModelOptions.Inference);
        if (tokenizer.VocabSize > model.VocabularySize)
            throw new InvalidDataException($"{dir}: the tokenizer has {tokenizer.VocabSize} pieces but config.json's vocab_size is {model.VocabularySize}; the tokenizer does not belong to this model.");
        // T5Tokenizer: the SentencePiece ids, then </s> (the model's eos_token_id).
        var ids = new List<int>(tokenizer.Encode(prompt)) { model.EosTokenId };
        var generator = new Seq2SeqGenerator(model);
        var streamed = new List<int>();
        string printed = "";
        void Print(int id)
        {
            streamed.Add(id);
            string text = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(streamed));
            // A piece may complete a character only with the next one (byte fallback): print what is stable.
            if (text.StartsWith(printed, StringComparison.Ordinal) && !text.EndsWith('\uFFFD'))
            {
                output.Write(text[printed.Length..]);
                output.Flush();
                printed = text;
            }
        }
        var result = generator.Generate(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids), options, options.NumBeams == 1 ? Print : null);
        string final = tokenizer.Decode(result.Tokens.Where(t => t != model.PadTokenId && t != model.EosTokenId).ToArray());
        output.Write(final.StartsWith(printed, StringComparison.Ordinal) ? final[printed.Length..] : (printed.Length == 0 ? final : "\n" + final));
        output.WriteLine();
    }
}
