// The one way to read token shards given as paths: a folder is read through its manifest (the files
// it lists, in order, each checked against the manifest's counts and tokenizer), a file is one
// shard. Every shard is checked against the tokenizer the reader expects (its fingerprint), so
// shards made with another tokenizer are an error naming both, never a silently wrong loss.

namespace Loom.Tokenizers.Shards;

/// <summary>Reads shard folders (through manifest.json) and single shard files.</summary>
public static class TokenShardSet
{
    /// <summary>True when <paramref name="path"/> names shards: a folder, or a file ending in .bin.</summary>
    public static bool IsShardPath(string path) => Directory.Exists(path) || path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Opens each shard of <paramref name="paths"/> in order; each is disposed when the enumeration moves past it.
    /// When <paramref name="expected"/> is given, a shard made with another tokenizer is an error naming
    /// both (<paramref name="expectedLabel"/> says where the expected one came from).
    /// </summary>
    public static IEnumerable<TokenShard> Read(IEnumerable<string> paths, BpeTokenizer? expected = null, string? expectedLabel = null)
    {
        byte[]? fingerprint = expected is null ? null : TokenShardHeader.FingerprintOf(expected);
        // A shard given twice (the same file, or a folder and one of its shards) would be counted twice: refused.
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        void Once(string file, string given)
        {
            string full = Path.GetFullPath(file);
            if (seen.TryGetValue(full, out var first))
                throw new ArgumentException($"The shard {full} is given twice (through {first} and through {given}); each shard may be read once, so list it once.");
            seen[full] = given;
        }
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var manifest = TokenShardManifest.Read(path);
                string manifestPath = Path.Combine(path, TokenShardManifest.FileName);
                foreach (var entry in manifest.Shards)
                {
                    string file = Path.Combine(path, entry.File);
                    Once(file, path);
                    if (!File.Exists(file))
                        throw new FileNotFoundException($"{file} is listed in {manifestPath} but is missing. Re-run `loom tokenize` with --overwrite to rewrite the shard set.", file);
                    var shard = TokenShard.Open(file);
                    try
                    {
                        if (shard.Count != entry.Tokens || shard.Header.DocumentCount != entry.Documents
                            || !Convert.ToHexStringLower(shard.Header.Fingerprint).Equals(manifest.TokenizerFingerprint, StringComparison.OrdinalIgnoreCase))
                            throw new InvalidDataException(
                                $"{file} holds {shard.Count} tokens and {shard.Header.DocumentCount} documents of tokenizer {shard.Header.TokenizerName} ({Short(shard.Header.Fingerprint)}), " +
                                $"but {manifestPath} lists {entry.Tokens} tokens and {entry.Documents} documents of {manifest.TokenizerName} ({Short(manifest.TokenizerFingerprint)}): " +
                                "the folder changed after `loom tokenize` wrote it. Re-run `loom tokenize` with --overwrite.");
                        CheckTokenizer(shard, fingerprint, expected, expectedLabel);
                    }
                    catch { shard.Dispose(); throw; }
                    try { yield return shard; }
                    finally { shard.Dispose(); }
                }
            }
            else
            {
                if (!File.Exists(path)) throw new FileNotFoundException($"Token shard {path} does not exist.", path);
                Once(path, path);
                var shard = TokenShard.Open(path);
                try { CheckTokenizer(shard, fingerprint, expected, expectedLabel); }
                catch { shard.Dispose(); throw; }
                try { yield return shard; }
                finally { shard.Dispose(); }
            }
        }
    }

    private static void CheckTokenizer(TokenShard shard, byte[]? fingerprint, BpeTokenizer? expected, string? label)
    {
        if (fingerprint is null || shard.Header.Fingerprint.AsSpan().SequenceEqual(fingerprint)) return;
        throw new InvalidDataException(
            $"{shard.Path} was tokenized with tokenizer {shard.Header.TokenizerName} ({Short(shard.Header.Fingerprint)}), " +
            $"not with {label ?? expected!.Name} ({Short(fingerprint)}), whose ids differ. Re-tokenize the data with that tokenizer (`loom tokenize --tokenizer ...`).");
    }

    // The first 8 bytes of a fingerprint, enough to tell two tokenizers apart in a message.
    private static string Short(byte[] fingerprint) => "fingerprint " + Convert.ToHexStringLower(fingerprint.AsSpan(0, 8));

    private static string Short(string hex) => "fingerprint " + (hex.Length >= 16 ? hex[..16] : hex).ToLowerInvariant();
}
