// Placeholder replaced below.
namespace Loom.Tokenizers.SentencePiece;

internal static class SentencePieceTokenizerJson
{
    public static bool IsUnigram(string path) => false;
    public static SentencePieceTokenizer Load(string path) => throw new NotSupportedException(path);
}
