// One sequence (one of a request's n completions) inside the engine: its tokens (prompt, then
// generated), its block table, its own sampler and random stream, and its incremental
// detokeniser. After each sampled token, Accept turns it into the chunk to stream:
//   - text through the tokenizer's streaming decoder, so a character split across tokens is emitted
//     whole once its last byte arrives;
//   - stop strings matched on the decoded text, across token boundaries: the last (longest stop − 1)
//     characters are held back until no stop can begin in them, and output is cut before a stop;
//   - an end-of-sequence id or a stop token id ends with "stop" and adds no text; max_tokens or the
//     context length ends with "length".
using System.Runtime.InteropServices;
using System.Text;
using Loom.Inference.Generation;
using Loom.Models.Paged;
using Loom.Tokenizers;
using Loom.Tokenizers.Decoder;

namespace Loom.Inference.Engine;

internal sealed class EngineSequence
{
    private readonly StreamingDecoder _decoder;
    private readonly StringBuilder _text = new();
    private readonly int _holdBack;
    private int _emitted;

    public EngineRequest Request { get; }
    public int Index { get; }
    /// <summary>Arrival order: lower is older (preemption takes the youngest).</summary>
    public long Order { get; }
    public List<int> Tokens { get; }
    public int PromptLength { get; }
    public KvSequence Kv { get; }
    public Sampler Sampler { get; }
    public FinishReason? Finished { get; private set; }
    public List<float>? Logprobs { get; }
    public List<IReadOnlyList<TokenLogprob>>? TopLogprobs { get; }

    public EngineSequence(EngineRequest request, int index, long order, KvBlockPool pool, BpeTokenizer tokenizer)
    {
        Request = request;
        Index = index;
        Order = order;
        Tokens = new List<int>(request.Prompt.Length + Math.Min(request.Options.MaxNewTokens, 4096));
        Tokens.AddRange(request.Prompt);
        PromptLength = request.Prompt.Length;
        Kv = new KvSequence(pool);
        Sampler = new Sampler(request.Options, unchecked(request.Options.Seed + index));
        _decoder = tokenizer.CreateStreamingDecoder();
        _holdBack = Math.Max(0, request.Options.StopSequences.Select(s => s.Length).DefaultIfEmpty(0).Max() - 1);
        if (request.Options.Logprobs || request.Options.TopLogprobs > 0) { Logprobs = new(); TopLogprobs = new(); }
    }

    /// <summary>Tokens not yet in the KV cache (the prompt before prefill, then the last sampled token).</summary>
    public int Pending => Tokens.Count - Kv.Length;

    public int Generated => Tokens.Count - PromptLength;

    public ReadOnlySpan<int> PromptSpan => CollectionsMarshal.AsSpan(Tokens)[..PromptLength];

    public ReadOnlySpan<int> GeneratedSpan => CollectionsMarshal.AsSpan(Tokens)[PromptLength..];

    /// <summary>The text of the completion so far (cut before a stop string once stopped).</summary>
    public string Text => _text.ToString();

    private double _logprobSum, _entropySum;
    private int _scored;

    /// <summary>Adds one generated token's log-probability and the entropy of the distribution it came from.</summary>
    public void Score(double logprob, double entropy)
    {
        _logprobSum += logprob;
        _entropySum += entropy;
        _scored++;
    }

    /// <summary>The completion's confidence so far (null before its first token).</summary>
    public GenerationConfidence? Confidence => _scored == 0 ? null : new GenerationConfidence(_logprobSum / _scored, _entropySum / _scored, _scored);

    /// <summary>Takes the sampled token; returns the chunk to stream (with the finish reason when it ended).</summary>
    public GenerationChunk Accept(int id, float? logprob, IReadOnlyList<TokenLogprob>? top, IReadOnlySet<int> endOfSequence, int contextLength)
    {
        Tokens.Add(id);
        Logprobs?.Add(logprob ?? float.NaN);
        if (top != null) TopLogprobs?.Add(top);
        var options = Request.Options;
        string piece;
        if (endOfSequence.Contains(id) || options.StopTokenIds.Contains(id))
        {
            piece = Finish(FinishReason.Stop, flush: true);
        }
        else
        {
            _text.Append(_decoder.Push(id));
            int stopAt = FindStop();
            if (stopAt >= 0)
            {
                _text.Length = stopAt;
                piece = Finish(FinishReason.Stop, flush: false);
            }
            else if (Generated >= options.MaxNewTokens || Tokens.Count >= contextLength)
                piece = Finish(FinishReason.Length, flush: true);
            else
            {
                int safe = _text.Length - _holdBack;
                piece = Take(safe);
            }
        }
        return new GenerationChunk { Index = Index, Text = piece, TokenId = id, Logprob = logprob, TopLogprobs = top, FinishReason = Finished, Confidence = Finished != null ? Confidence : null };
    }

    /// <summary>Ends the sequence without a token (cancelled, or no room left); returns the final chunk.</summary>
    public GenerationChunk End(FinishReason reason)
    {
        string piece = reason == FinishReason.Cancelled ? "" : Finish(reason, flush: true);
        Finished = reason;
        return new GenerationChunk { Index = Index, Text = piece, FinishReason = reason, Confidence = Confidence };
    }

    private string Finish(FinishReason reason, bool flush)
    {
        Finished = reason;
        if (flush)
        {
            _text.Append(_decoder.Flush());
            int stopAt = FindStop();
            if (stopAt >= 0) _text.Length = stopAt;
        }
        return Take(_text.Length);
    }

    private string Take(int upTo)
    {
        if (upTo <= _emitted) return "";
        string s = _text.ToString(_emitted, upTo - _emitted);
        _emitted = upTo;
        return s;
    }

    // Earliest start of a stop string in the text not yet emitted (only there can a new one end).
    private int FindStop()
    {
        int best = -1;
        foreach (var stop in Request.Options.StopSequences)
        {
            int from = Math.Max(0, _emitted - stop.Length + 1);
            for (int i = from; i + stop.Length <= _text.Length; i++)
            {
                int j = 0;
                while (j < stop.Length && _text[i + j] == stop[j]) j++;
                if (j == stop.Length) { if (best < 0 || i < best) best = i; break; }
            }
        }
        return best;
    }
}
