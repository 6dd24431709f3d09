namespace Loom.Tokenizers.SentencePiece;

/// <summary>One vocabulary entry of a SentencePiece model (ModelProto.SentencePiece): its text, score and type.</summary>
/// <param name="Piece">The piece text, with U+2581 (▁) for a space.</param>
/// <param name="Score">Log-probability (unigram) or merge priority (BPE, higher merges first).</param>
/// <param name="Type">What the piece is.</param>
public readonly record struct SentencePieceEntry(string Piece, float Score, SentencePieceType Type = SentencePieceType.Normal);
