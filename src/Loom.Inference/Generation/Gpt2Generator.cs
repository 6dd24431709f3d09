// Token-by-token generation with a GPT-2 model, streamed through the tokenizer's streaming
// decoder so no half character is ever emitted. The prompt fills a key/value cache one position
// at a time, then each new token costs one single-position forward (Gpt2Model.DecodeNext). When
// the context window fills, the cache is re-primed with the most recent half window.
using Loom.Models.Gpt2;
using Loom.Tokenizers;

namespace Loom.Inference.Generation;

/// <summary>Generates text from a prompt.</summary>
public sealed class Gpt2Generator
{
    private readonly Gpt2Model _model;
    private readonly BpeTokenizer _tokenizer;
    private readonly int _window;

    public Gpt2Generator(Gpt2Model model, BpeTokenizer tokenizer, int? window = null)
    {
        if (tokenizer.VocabularySize > model.Config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabularySize} ids but the model's vocab_size is {model.Config.VocabSize}; they do not belong together.");
        _model = model;
        _tokenizer = tokenizer;
        _window = Math.Min(window ?? model.Config.MaxPositions, model.Config.MaxPositions);
    }

    // Index in text where the earliest stop sequence ending inside the last `pieceLength` chars starts, or −1.
    private static int FindStop(System.Text.StringBuilder text, int pieceLength, IReadOnlyList<string> stops)
    {
        int best = -1;
        foreach (var stop in stops)
        {
            if (stop.Length == 0) continue;
            int from = Math.Max(0, text.Length - pieceLength - stop.Length + 1);
            for (int i = from; i + stop.Length <= text.Length; i++)
            {
                int j = 0;
                while (j < stop.Length && text[i + j] == stop[j]) j++;
                if (j == stop.Length) { if (best < 0 || i < best) best = i; break; }
            }
        }
        return best;
    }

    /// <summary>Streams the continuation of <paramref name="prompt"/>, piece by piece.</summary>
    public IEnumerable<string> Generate(string prompt, SamplingOptions options, CancellationToken ct = default)
    {
        options.Validate();
        var tokens = new List<int>(_tokenizer.Encode(prompt, SpecialTokenPolicy.PlainText));
        if (tokens.Count == 0 && _tokenizer.SpecialTokens.TryGetValue("<|endoftext|>", out int eot)) tokens.Add(eot);
        if (tokens.Count == 0) throw new ArgumentException("The prompt is empty and the tokenizer has no <|endoftext|> to start from.");
        int promptLength = tokens.Count;
        var sampler = new Sampler(options);
        var decoder = _tokenizer.CreateStreamingDecoder();
        var text = new System.Text.StringBuilder();
        // With stop sequences, the last (longest stop − 1) chars are held back until no stop can begin in
        // them, so text that turns out to start a stop sequence is never printed.
        int holdBack = Math.Max(0, options.StopSequences.Select(st => st.Length).DefaultIfEmpty(0).Max() - 1);
        int emitted = 0;
        using var cache = _model.CreateCache(_window);
        // The logits live in the cache's scratch; an iterator cannot hold a span across yields, so copy.
        var logits = new float[_model.Config.VocabSize];
        foreach (int t in tokens.TakeLast(_window)) _model.DecodeNext(cache, t).CopyTo(logits);
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            ct.ThrowIfCancellationRequested();
            int next = sampler.Next(logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens)[promptLength..]);
            tokens.Add(next);
            if (cache.Length == cache.Capacity)
            {
                cache.Clear();
                foreach (int t in tokens.Skip(tokens.Count - 1 - _window / 2).Take(_window / 2)) _model.DecodeNext(cache, t);
            }
            _model.DecodeNext(cache, next).CopyTo(logits);
            if (_tokenizer.SpecialTokens.TryGetValue("<|endoftext|>", out int end) && next == end) break;
            string piece = decoder.Push(next);
            if (piece.Length == 0) continue;
            text.Append(piece);
            // A stop sequence can only be completed by this piece, so only the tail that ends with it is searched.
            int stopAt = FindStop(text, piece.Length, options.StopSequences);
            if (stopAt >= 0)
            {
                if (stopAt > emitted) yield return text.ToString(emitted, stopAt - emitted);
                yield break;
            }
            int safe = text.Length - holdBack;
            if (safe > emitted)
            {
                yield return text.ToString(emitted, safe - emitted);
                emitted = safe;
            }
        }
        string tail = decoder.Flush();
        text.Append(tail);
        int last = FindStop(text, tail.Length, options.StopSequences);
        if (last < 0) last = text.Length;
        if (last > emitted) yield return text.ToString(emitted, last - emitted);
    }
}
