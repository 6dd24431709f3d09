namespace Loom.Tokenizers.PostProcessor;

/// <summary>One token on its way through post-processing: id, text, original offsets, type id, special or not.</summary>
public readonly record struct EncodedToken(int Id, string Token, int Start, int End, int TypeId, bool IsSpecial);
