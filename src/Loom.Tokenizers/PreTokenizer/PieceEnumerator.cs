// The pieces of a text under a pre-tokenizer regex, as Hugging Face's Split(behavior: Isolated)
// makes them: every match is a piece, and so is every non-empty stretch between matches. With the
// published tiktoken/GPT-2 patterns there is no such stretch (they match every character), so the
// pieces are tiktoken's; with a custom --pattern that skips characters, those characters are still
// encoded (as HF does) instead of silently vanishing from the ids.
using System.Text.RegularExpressions;

namespace Loom.Tokenizers.PreTokenizer;

/// <summary>One piece: a range of chars of the text.</summary>
public readonly record struct Piece(int Index, int Length);

/// <summary>Enumerates the pieces of a text without allocating.</summary>
public ref struct PieceEnumerator
{
    private Regex.ValueMatchEnumerator _matches;
    private readonly int _textLength;
    private int _position;      // end of the last piece returned
    private Piece _pendingMatch; // a match found after a gap, returned on the next call
    private bool _hasPending;

    internal PieceEnumerator(Regex.ValueMatchEnumerator matches, int textLength)
    {
        _matches = matches;
        _textLength = textLength;
        _position = 0;
        _pendingMatch = default;
        _hasPending = false;
        Current = default;
    }

    /// <summary>The current piece.</summary>
    public Piece Current { get; private set; }

    public readonly PieceEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_hasPending)
        {
            _hasPending = false;
            Current = _pendingMatch;
            _position = _pendingMatch.Index + _pendingMatch.Length;
            return true;
        }
        while (_matches.MoveNext())
        {
            var m = _matches.Current;
            if (m.Length == 0) continue; // patterns that match "" are refused at construction; never emit an empty piece
            if (m.Index > _position)
            {
                Current = new Piece(_position, m.Index - _position);
                _pendingMatch = new Piece(m.Index, m.Length);
                _hasPending = true;
                return true;
            }
            Current = new Piece(m.Index, m.Length);
            _position = m.Index + m.Length;
            return true;
        }
        if (_position < _textLength)
        {
            Current = new Piece(_position, _textLength - _position);
            _position = _textLength;
            return true;
        }
        return false;
    }
}
