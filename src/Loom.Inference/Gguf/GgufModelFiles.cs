// A GGUF file as a runnable model: the weights through Loom.Models' GgufModels, the tokenizer from
// tokenizer.ggml.* (byte-level BPE, llama.cpp's "gpt2" tokenizer model), and the BOS/EOS rules llama.cpp
// applies. And the way back: a Hugging Face model directory exported as GGUF with llama.cpp's converter
// conventions (convert_hf_to_gguf.py: _set_vocab_gpt2 writes model "gpt2", the pre-tokenizer name, tokens,
// token types, merges, then SpecialVocab's bos/eos ids), so llama.cpp, Ollama and LLamaSharp load it.
using Loom.Core.Threading;
using Loom.Inference.Engine;
using Loom.Models;
using Loom.Models.Formats.Gguf;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;

namespace Loom.Inference.Gguf;

/// <summary>A model, its tokenizer and its special ids, opened from a GGUF file.</summary>
public sealed record GgufModel(ICausalLanguageModel Model, BpeTokenizer Tokenizer, GgufVocabulary Vocabulary) : IDisposable
{
    /// <summary>The ids that end a sequence (tokenizer.ggml.eos_token_id), empty when none.</summary>
    public IReadOnlyList<int> EndOfSequenceIds => Vocabulary.EosId is uint eos ? [(int)eos] : [];

    /// <summary>The BOS id put before prompts: llama.cpp's rule, add_bos_token when present, else true only for SentencePiece vocabularies.</summary>
    public int? BeginningOfSequenceId => (Vocabulary.AddBos ?? Vocabulary.Model == "llama") && Vocabulary.BosId is uint bos ? (int)bos : null;

    public void Dispose() => Model.Dispose();
}

/// <summary>Opens GGUF models and exports model directories as GGUF.</summary>
public static class GgufModelFiles
{
    // llama.cpp's pre-tokenizer names (llama-vocab.cpp) and the regexes they stand for. GPT-2's is
    // openai/gpt-2 encoder.py's; llama-bpe is Llama 3's tokenizer.json Split regex (cl100k's).
    private const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private static readonly string[] Gpt2Patterns =
    [
        Gpt2VocabFiles.Pattern,
        @"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s",   // tiktoken r50k_base, the same splits
    ];
    private static readonly string[] Llama3PreNames = ["llama-bpe", "llama3", "llama-v3", "smaug-bpe", "dbrx"];

    /// <summary>True when <paramref name="path"/> is a file that starts with the GGUF magic.</summary>
    public static bool IsGguf(string path) => GgufFile.IsGguf(path);

    /// <summary>Opens a GGUF model built with <paramref name="options"/> (default: inference, no gradients).</summary>
    public static GgufModel Load(string path, ModelOptions? options = null, WorkerPool? pool = null)
    {
        using var file = GgufFile.Open(path);
        var vocabulary = GgufVocabulary.Read(file)
            ?? throw new InvalidDataException($"{path}: no tokenizer.ggml.model metadata; Loom needs the tokenizer inside the GGUF file.");
        var tokenizer = ToTokenizer(vocabulary, path);
        var model = GgufModels.Load(file, options ?? ModelOptions.Inference, pool);
        if (tokenizer.VocabularySize > model.VocabularySize)
        {
            model.Dispose();
            throw new InvalidDataException($"{path}: tokenizer.ggml.tokens has {vocabulary.Tokens.Length} tokens but token_embd.weight has {model.VocabularySize} rows.");
        }
        return new GgufModel(model, tokenizer, vocabulary);
    }

    /// <summary>A Loom tokenizer from tokenizer.ggml.* (byte-level BPE only).</summary>
    public static BpeTokenizer ToTokenizer(GgufVocabulary v, string path)
    {
        if (v.Model != "gpt2")
            throw new NotSupportedException($"{path}: tokenizer.ggml.model is \"{v.Model}\"; Loom reads byte-level BPE vocabularies (\"gpt2\", as GPT-2 and Llama 3 use), not SentencePiece (\"llama\") or WordPiece (\"bert\").");
        string pattern = v.Pre switch
        {
            null or "default" or "gpt-2" or "gpt2" => Gpt2VocabFiles.Pattern,
            var p when Llama3PreNames.Contains(p) => Llama3Pattern,
            var p => throw new NotSupportedException($"{path}: tokenizer.ggml.pre is \"{p}\"; Loom knows the pre-tokenizers gpt-2 and {string.Join(", ", Llama3PreNames)}."),
        };
        var vocab = new Dictionary<string, int>(v.Tokens.Length, StringComparer.Ordinal);
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < v.Tokens.Length; id++)
        {
            var type = v.TokenTypes is { } t ? (GgufTokenType)t[id] : GgufTokenType.Normal;
            switch (type)
            {
                case GgufTokenType.Unused: continue;   // the converter's [PAD{i}] fillers of ids no token has
                case GgufTokenType.Control or GgufTokenType.UserDefined: specials.TryAdd(v.Tokens[id], id); break;
                default:
                    if (!vocab.TryAdd(v.Tokens[id], id))
                        throw new InvalidDataException($"{path}: tokenizer.ggml.tokens[{id}] \"{v.Tokens[id]}\" repeats token {vocab[v.Tokens[id]]}.");
                    break;
            }
        }
        var merges = new List<(string, string)>(v.Merges?.Length ?? 0);
        if (v.Merges != null)
            for (int i = 0; i < v.Merges.Length; i++)
            {
                string m = v.Merges[i];
                int space = m.IndexOf(' ', 1);
                if (space <= 0 || space == m.Length - 1)
                    throw new InvalidDataException($"{path}: tokenizer.ggml.merges[{i}] is \"{m}\"; a merge is \"left right\".");
                merges.Add((m[..space], m[(space + 1)..]));
            }
        string name = Path.GetFileNameWithoutExtension(path);
        return Gpt2VocabFiles.FromVocabulary(name, vocab, merges, pattern, specials, $"{path} (tokenizer.ggml.*)");
    }

    /// <summary>
    /// tokenizer.ggml.* for <paramref name="tokenizer"/> over <paramref name="vocabularySize"/> ids, as
    /// convert_hf_to_gguf.py's _set_vocab_gpt2 writes it: ids the tokenizer lacks become "[PAD{id}]" of type
    /// UNUSED, special tokens CONTROL, merges in rank order; BOS/EOS from the model directory (generation_config.json,
    /// config.json, tokenizer_config.json as transformers reads them), else GPT-2's &lt;|endoftext|&gt; for both.
    /// </summary>
    public static GgufVocabulary ToVocabulary(BpeTokenizer tokenizer, int vocabularySize, string? modelDirectory = null)
    {
        string pre = Gpt2Patterns.Contains(tokenizer.PreTokenizer.Pattern) ? "gpt-2"
            : tokenizer.PreTokenizer.Pattern == Llama3Pattern || tokenizer.PreTokenizer.Pattern == Llama3Pattern.Replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])") ? "llama-bpe"
            : throw new NotSupportedException($"The tokenizer's pre-tokenizer regex has no llama.cpp name (llama.cpp knows GPT-2's and Llama 3's among byte-level ones): {tokenizer.PreTokenizer.Pattern}");
        var tokens = new string[vocabularySize];
        var types = new int[vocabularySize];
        var specialIds = tokenizer.SpecialTokens.ToDictionary(kv => kv.Value, kv => kv.Key);
        for (int id = 0; id < vocabularySize; id++)
        {
            if (specialIds.TryGetValue(id, out var special)) { tokens[id] = special; types[id] = (int)GgufTokenType.Control; continue; }
            byte[]? bytes = null;
            if (id < tokenizer.VocabularySize)
                try { bytes = tokenizer.TokenBytes(id).ToArray(); } catch (ArgumentException) { } catch (KeyNotFoundException) { } catch (IndexOutOfRangeException) { }
            if (bytes is { Length: > 0 }) { tokens[id] = ByteLevelAlphabet.Encode(bytes); types[id] = (int)GgufTokenType.Normal; }
            else { tokens[id] = $"[PAD{id}]"; types[id] = (int)GgufTokenType.Unused; }
        }
        var merges = HuggingFaceTokenizerJson.RecoverMerges(tokenizer.Tokens)
            .Select(m => ByteLevelAlphabet.Encode(m.Left) + " " + ByteLevelAlphabet.Encode(m.Right)).ToArray();
        uint? bos = null, eos = null;
        bool? addBos = null;
        if (modelDirectory != null)
        {
            var eosIds = GenerationConfig.ReadEndOfSequenceIds(modelDirectory, tokenizer);
            if (eosIds.Count > 0) eos = (uint)eosIds[0];
            if (GenerationConfig.ReadBeginningOfSequenceId(modelDirectory, tokenizer) is int b) { bos = (uint)b; addBos = true; }
        }
        if (tokenizer.SpecialTokens.TryGetValue("<|endoftext|>", out int eot))
        {
            eos ??= (uint)eot;
            bos ??= (uint)eot;   // GPT-2's tokenizer_config names <|endoftext|> as bos, eos and unk (ggml-vocab-gpt-2.gguf has bos = eos = 50256)
        }
        return new GgufVocabulary
        {
            Model = "gpt2", Pre = pre, Tokens = tokens, TokenTypes = types, Merges = merges,
            BosId = bos, EosId = eos,
            // llama.cpp adds BOS to a "gpt2" vocabulary only when asked; say so explicitly unless the model wants it.
            AddBos = addBos ?? false,
        };
    }

    /// <summary>
    /// Exports the model directory <paramref name="modelDirectory"/> (config.json, model.safetensors, a tokenizer)
    /// as a GGUF v3 file of <paramref name="type"/>. Returns the tensor types written, by GGUF name.
    /// </summary>
    public static IReadOnlyDictionary<string, GgmlType> Export(string modelDirectory, GgufFileType type, string output, CancellationToken cancellationToken = default)
    {
        // Export writes every tensor from the model's float weights; a quantized, low-rank or GGUF model holds some of
        // them elsewhere (blocks, factors), so exporting it would write zeros for those matrices.
        if (Loom.Models.Formats.ModelFormats.Find(modelDirectory) is { } format)
            throw new ArgumentException($"--model {modelDirectory} is a {format.Name} model; export the f32 Hugging Face directory it was made from (loom export gguf quantizes with --type itself).");
        var tokenizer = TokenizerLoader.Load(modelDirectory);
        using var model = CausalLanguageModels.Load(modelDirectory, ModelOptions.Inference);
        return Export(model, tokenizer, type, output, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDirectory))), modelDirectory, cancellationToken);
    }

    /// <summary>Exports a loaded model and its tokenizer as GGUF (see <see cref="Export(string, GgufFileType, string, CancellationToken)"/>).</summary>
    public static IReadOnlyDictionary<string, GgmlType> Export(ICausalLanguageModel model, BpeTokenizer tokenizer, GgufFileType type, string output, string name,
        string? modelDirectory = null, CancellationToken cancellationToken = default)
    {
        if (tokenizer.VocabularySize > model.VocabularySize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabularySize} ids but the model's vocab_size is {model.VocabularySize}; they do not belong together.");
        for (int i = 0; i < model.Parameters.Specs.Count; i++)
            if (model.Parameters.IsHeldByProjection(i))
                throw new ArgumentException($"{model.Parameters.Specs[i].Name} is held quantized by its projection, not as floats; export the f32 model it was made from.");
        var vocabulary = ToVocabulary(tokenizer, model.VocabularySize, modelDirectory);
        var writer = new GgufWriter();
        var types = GgufModels.AddModel(writer, model, type, name);
        vocabulary.AddTo(writer);
        writer.Write(output, cancellationToken);
        return types;
    }
}
