// One entry point for loading a WordPiece tokenizer from whatever the user points at:
// a tokenizer.json (model.type WordPiece), a vocab.txt, or a directory holding either
// (tokenizer.json wins, as transformers' fast tokenizers).
using Loom.Core.IO;

namespace Loom.Tokenizers.Formats;

/// <summary>Finds and loads a WordPiece tokenizer by path.</summary>
public static class WordPieceFormats
{
    /// <summary>True when <paramref name="path"/> names a WordPiece tokenizer (a WordPiece tokenizer.json, a vocab.txt, or a directory with one).</summary>
    public static bool IsWordPiece(string path)
    {
        // Sniffing opens the file: refuse a FIFO (as the file or inside the folder) rather than block on it.
        if (InputFiles.KindOf(path) is not (InputFileKind.Missing or InputFileKind.Directory)) InputFiles.RequireFile(path, "Tokenizer");
        InputFiles.RequireRegularMembers(path, "Tokenizer directory");
        if (Directory.Exists(path))
        {
            string json = Path.Combine(path, "tokenizer.json");
            if (File.Exists(json)) return WordPieceTokenizerJson.IsWordPiece(json);
            return File.Exists(Path.Combine(path, "vocab.txt"));
        }
        if (!File.Exists(path)) return false;
        if (Path.GetFileName(path).Equals("vocab.txt", StringComparison.OrdinalIgnoreCase)) return true;
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && WordPieceTokenizerJson.IsWordPiece(path);
    }

    /// <summary>Loads a WordPiece tokenizer from a tokenizer.json, a vocab.txt, or a directory with either.</summary>
    public static WordPieceTokenizer Load(string path)
    {
        if (Directory.Exists(path))
        {
            string json = Path.Combine(path, "tokenizer.json");
            if (File.Exists(json)) return WordPieceTokenizerJson.Load(json);
            string vocab = Path.Combine(path, "vocab.txt");
            if (File.Exists(vocab)) return BertVocabFiles.Load(vocab);
            throw new FileNotFoundException($"{path}: neither tokenizer.json nor vocab.txt is in this directory.");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such tokenizer file or directory.", path);
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? WordPieceTokenizerJson.Load(path) : BertVocabFiles.Load(path);
    }
}
