namespace Loom.Tokenizers.SentencePiece;

/// <summary>ModelProto.SentencePiece.Type in sentencepiece_model.proto (the numeric values are the wire values).</summary>
public enum SentencePieceType
{
    /// <summary>A piece the segmenter may produce.</summary>
    Normal = 1,
    /// <summary>The one unknown piece (&lt;unk&gt;).</summary>
    Unknown = 2,
    /// <summary>A control symbol (&lt;s&gt;, &lt;/s&gt;, &lt;pad&gt;): never produced from text, decoded as nothing.</summary>
    Control = 3,
    /// <summary>A user-defined symbol: matched whole in the raw text, never normalized or split.</summary>
    UserDefined = 4,
    /// <summary>A piece kept in the vocabulary but never produced.</summary>
    Unused = 5,
    /// <summary>A byte piece &lt;0xNN&gt; used by byte fallback.</summary>
    Byte = 6,
}
