namespace Loom.Tokenizers.Trainer;

/// <summary>The outcome of training: the tokenizer and its vocabulary by id.</summary>
public sealed record WordPieceTrainingResult(WordPieceTokenizer Tokenizer, IReadOnlyList<string> Vocabulary, int DistinctWords, long WordCount);
