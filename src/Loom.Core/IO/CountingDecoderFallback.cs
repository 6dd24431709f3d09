// A UTF-8 decoder fallback that does what Encoding.UTF8 does with bytes that are not UTF-8 — one
// U+FFFD per maximal invalid sequence (Unicode §3.9, "U+FFFD Substitution of Maximal Subparts") —
// and counts each one, so a command can warn that its input was repaired instead of changing the
// text silently.
using System.Text;

namespace Loom.Core.IO;

/// <summary>Replaces invalid bytes with U+FFFD and counts them in an <see cref="InputCounters"/>.</summary>
public sealed class CountingDecoderFallback(InputCounters counters) : DecoderFallback
{
    /// <summary>UTF-8 (no BOM emitted, no exceptions) that counts its replacements in <paramref name="counters"/>.</summary>
    public static Encoding Utf8(InputCounters counters)
    {
        var encoding = (Encoding)new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).Clone();
        encoding.DecoderFallback = new CountingDecoderFallback(counters);
        return encoding;
    }

    /// <inheritdoc/>
    public override int MaxCharCount => 1;

    /// <inheritdoc/>
    public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer(counters);

    private sealed class Buffer(InputCounters counters) : DecoderFallbackBuffer
    {
        private int _remaining;

        public override bool Fallback(byte[] bytesUnknown, int index)
        {
            counters.AddInvalidUtf8(1);
            _remaining = 1;
            return true;
        }

        public override char GetNextChar()
        {
            if (_remaining == 0) return '\0';
            _remaining--;
            return '\uFFFD';
        }

        public override bool MovePrevious()
        {
            if (_remaining != 0) return false;
            _remaining = 1;
            return true;
        }

        public override int Remaining => _remaining;

        public override void Reset() => _remaining = 0;
    }
}
