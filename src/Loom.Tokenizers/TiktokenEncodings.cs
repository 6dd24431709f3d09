// OpenAI's encodings by name, offline: the rank files ship inside this assembly (see
// Resources/tiktoken/LICENSE.md and SOURCE.md), with the regexes and specials of
// tiktoken_ext/openai_public.py (Resources/tiktoken/encodings.json).
using Loom.Core.IO;
using System.Collections.Concurrent;
using System.Text.Json;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Model;
using Loom.Tokenizers.PreTokenizer;

namespace Loom.Tokenizers;

/// <summary>The tiktoken encodings r50k_base (gpt2), p50k_base, p50k_edit, cl100k_base and o200k_base.</summary>
public static class TiktokenEncodings
{
    private static readonly ConcurrentDictionary<string, Lazy<BpeTokenizer>> s_loaded = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Names accepted by <see cref="Get"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["r50k_base", "gpt2", "p50k_base", "p50k_edit", "cl100k_base", "o200k_base"];

    /// <summary>True when <paramref name="name"/> is a known encoding.</summary>
    public static bool IsKnown(string name) => Names.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The encoding called <paramref name="name"/> (loaded once, then shared; thread-safe).</summary>
    public static BpeTokenizer Get(string name)
    {
        if (!IsKnown(name))
            throw new ArgumentException($"Unknown encoding \"{name}\"; known: {string.Join(", ", Names)}. For a file, use BpeTokenizer loaders in Loom.Tokenizers.Formats.", nameof(name));
        string key = name.Equals("gpt2", StringComparison.OrdinalIgnoreCase) ? "r50k_base" : name.ToLowerInvariant();
        return s_loaded.GetOrAdd(key, k => new Lazy<BpeTokenizer>(() => Load(k))).Value;
    }

    private static BpeTokenizer Load(string name)
    {
        using var specStream = Open("tiktoken/encodings.json");
        var spec = JsonDocument.Parse(specStream).RootElement.GetProperty(name);
        string file = spec.GetProperty("file").GetString()!;
        string pattern = spec.GetProperty("pat_str").GetString()!;
        var specials = new Dictionary<string, int>();
        foreach (var p in spec.GetProperty("special_tokens").EnumerateObject()) specials[p.Name] = p.Value.GetInt32();
        using var ranks = Open("tiktoken/" + file);
        var tokens = TiktokenFile.Read(ranks, file);
        return new BpeTokenizer(name, new TokenTable(tokens), new RegexPreTokenizer(pattern), specials);
    }

    private static Stream Open(string resource) =>
        typeof(TiktokenEncodings).Assembly.GetManifestResourceStream(resource)
        ?? throw new InvalidOperationException($"The embedded resource {resource} is missing from Loom.Tokenizers; rebuild the project.");
}

/// <summary>Opens a tokenizer by encoding name or path.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// An encoding name (cl100k_base, ...), a tokenizer.json, a .tiktoken file (cl100k-style regex
    /// is not implied: it uses the r50k pattern unless the name matches a known encoding), or a
    /// directory holding tokenizer.json or encoder.json + vocab.bpe (Hugging Face's GPT-2 layout,
    /// also vocab.json + merges.txt).
    /// </summary>
    public static BpeTokenizer Load(string nameOrPath)
    {
        if (TiktokenEncodings.IsKnown(nameOrPath)) return TiktokenEncodings.Get(nameOrPath);
        // Checked before anything is opened: a FIFO (as the file or inside the folder) would block forever.
        if (InputFiles.KindOf(nameOrPath) is not (InputFileKind.Missing or InputFileKind.Directory)) InputFiles.RequireFile(nameOrPath, "Tokenizer");
        InputFiles.RequireRegularMembers(nameOrPath, "Tokenizer directory");
        if (Directory.Exists(nameOrPath))
        {
            string tj = Path.Combine(nameOrPath, "tokenizer.json");
            if (File.Exists(tj)) return HuggingFaceTokenizerJson.Load(tj);
            foreach (var (enc, merges) in new[] { ("encoder.json", "vocab.bpe"), ("vocab.json", "merges.txt") })
            {
                string e = Path.Combine(nameOrPath, enc), m = Path.Combine(nameOrPath, merges);
                if (File.Exists(e) && File.Exists(m)) return Gpt2VocabFiles.Load(e, m);
            }
            throw new FileNotFoundException($"{nameOrPath} holds no tokenizer.json, encoder.json + vocab.bpe, or vocab.json + merges.txt.");
        }
        if (File.Exists(nameOrPath))
        {
            if (nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return HuggingFaceTokenizerJson.Load(nameOrPath);
            if (nameOrPath.EndsWith(".tiktoken", StringComparison.OrdinalIgnoreCase))
            {
                string stem = Path.GetFileNameWithoutExtension(nameOrPath);
                if (TiktokenEncodings.IsKnown(stem)) return TiktokenEncodings.Get(stem);
                using var s = File.OpenRead(nameOrPath);
                return new BpeTokenizer(stem, new TokenTable(TiktokenFile.Read(s, nameOrPath)), new RegexPreTokenizer(Gpt2VocabFiles.Pattern), new Dictionary<string, int>());
            }
            throw new NotSupportedException($"{nameOrPath}: unknown tokenizer file type; use tokenizer.json, a .tiktoken file or a directory.");
        }
        throw new FileNotFoundException($"\"{nameOrPath}\" is neither a known encoding ({string.Join(", ", TiktokenEncodings.Names)}) nor an existing file or directory.");
    }
}
