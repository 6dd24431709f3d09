// Generation for any encoder-decoder model behind ISeq2SeqModel (T5), as transformers' generate runs
// it for T5ForConditionalGeneration (generation/utils.py, v4.30): the encoder runs once per source;
// decoding starts from decoder_start_token_id with the self- and cross-attention caches, and stops at
// eos_token_id or after max_new_tokens.
//   greedy (num_beams 1, temperature 0): argmax of the processed scores (first index on ties, as torch.argmax)
//   sampling (num_beams 1, temperature > 0): Loom's Sampler (temperature → top-k → top-p, as HF's warpers), seeded
//   beam search (num_beams > 1): log_softmax + no-repeat-n-gram bans + beam scores, the top 2·num_beams of
//     num_beams·V candidates, BeamSearchScorer.process (an </s> among the first num_beams candidates
//     finishes a hypothesis; the rest continue), the cache reordered to the surviving beams
//     (_reorder_cache), BeamHypotheses.is_done per early_stopping, finalize over the open beams.
// no_repeat_ngram_size applies in all three (NoRepeatNGramLogitsProcessor).
using Loom.Inference.Generation;
using Loom.Models;

namespace Loom.Inference.Seq2Seq;

/// <summary>Greedy, sampled and beam-search generation for an encoder-decoder model.</summary>
public sealed class Seq2SeqGenerator
{
    private readonly ISeq2SeqModel _model;

    /// <param name="model">The model; the generator only reads it (build it with <see cref="ModelOptions.Inference"/>).</param>
    public Seq2SeqGenerator(ISeq2SeqModel model) => _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>The model generated with.</summary>
    public ISeq2SeqModel Model => _model;

    /// <summary>
    /// Generates the target for one source (ids as the tokenizer encodes them, &lt;/s&gt; last).
    /// <paramref name="onToken"/> receives each id as it is chosen (greedy and sampling only; beam
    /// search knows its output only at the end).
    /// </summary>
    public Seq2SeqResult Generate(ReadOnlySpan<int> sourceIds, Seq2SeqGenerationOptions? options = null, Action<int>? onToken = null, CancellationToken cancellationToken = default)
    {
        options ??= new Seq2SeqGenerationOptions();
        options.Validate();
        return options.NumBeams > 1 ? BeamSearch(sourceIds, options, cancellationToken) : Single(sourceIds, options, onToken, cancellationToken);
    }

    private Seq2SeqResult Single(ReadOnlySpan<int> sourceIds, Seq2SeqGenerationOptions o, Action<int>? onToken, CancellationToken ct)
    {
        int V = _model.VocabularySize, eos = _model.EosTokenId;
        using var cache = _model.Encode(sourceIds, 1, o.MaxNewTokens);
        var sequence = new List<int>(o.MaxNewTokens + 1) { _model.DecoderStartTokenId };
        var scores = new float[V];
        var logp = new float[V];
        var sampler = o.Sampling.Temperature > 0 ? new Sampler(o.Sampling) : null;
        double sum = 0;
        bool ended = false;
        Span<int> token = stackalloc int[1];
        for (int step = 0; step < o.MaxNewTokens; step++)
        {
            ct.ThrowIfCancellationRequested();
            token[0] = sequence[^1];
            var logits = _model.DecodeNext(cache, token);
            logits.CopyTo(scores);
            NoRepeatNgram.Ban(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sequence), o.NoRepeatNgramSize, scores);
            int next;
            if (sampler is null)
            {
                next = 0;
                for (int i = 1; i < V; i++) if (scores[i] > scores[next]) next = i;
            }
            else next = sampler.Next(scores, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sequence)[1..]);
            Sampler.LogSoftmax(logits, logp);
            sum += logp[next];
            sequence.Add(next);
            if (next == eos) { ended = true; break; }
            onToken?.Invoke(next);
        }
        return new Seq2SeqResult(sequence.Skip(1).Where(t => t != eos).ToArray(), ended, (float)sum);
    }

    private Seq2SeqResult BeamSearch(ReadOnlySpan<int> sourceIds, Seq2SeqGenerationOptions o, CancellationToken ct)
    {
        int R = o.NumBeams, V = _model.VocabularySize, eos = _model.EosTokenId, K = 2 * R;
        int maxLength = o.MaxNewTokens + 1;                   // the decoder prompt is the start token
        using var cache = _model.Encode(sourceIds, R, o.MaxNewTokens);
        var hyps = new BeamHypotheses(R, o.LengthPenalty, o.EarlyStopping, maxLength);
        var seqs = new int[R][];
        for (int r = 0; r < R; r++) seqs[r] = [_model.DecoderStartTokenId];
        var beamScores = new float[R];
        for (int r = 1; r < R; r++) beamScores[r] = -1e9f;  // only the first beam is live at step one
        var rowScores = new float[V];
        var topScores = new float[K];
        var topIds = new long[K];
        var nextScores = new float[R];
        var nextTokens = new int[R];
        var nextRows = new int[R];
        var tokens = new int[R];
        bool done = false;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            int curLen = seqs[0].Length;
            for (int r = 0; r < R; r++) tokens[r] = seqs[r][^1];
            var logits = _model.DecodeNext(cache, tokens);
            // scores = log_softmax(logits) → no-repeat bans → + beam score; keep the top 2R of R·V (by score, then lower index)
            int filled = 0;
            for (int r = 0; r < R; r++)
            {
                Sampler.LogSoftmax(logits.Slice(r * V, V), rowScores);
                NoRepeatNgram.Ban(seqs[r], o.NoRepeatNgramSize, rowScores);
                for (int i = 0; i < V; i++)
                {
                    float s = rowScores[i] + beamScores[r];
                    long id = (long)r * V + i;
                    if (filled == K && !(s > topScores[K - 1])) continue;
                    int at = filled < K ? filled++ : K - 1;
                    while (at > 0 && s > topScores[at - 1]) { topScores[at] = topScores[at - 1]; topIds[at] = topIds[at - 1]; at--; }
                    topScores[at] = s; topIds[at] = id;
                }
            }
            // BeamSearchScorer.process
            int beam = 0;
            for (int rank = 0; rank < filled && beam < R; rank++)
            {
                int row = (int)(topIds[rank] / V), tok = (int)(topIds[rank] % V);
                if (tok == eos)
                {
                    if (rank >= R) continue;                    // an </s> outside the top num_beams does not finish a hypothesis
                    hyps.Add(seqs[row], topScores[rank]);
                }
                else
                {
                    nextScores[beam] = topScores[rank]; nextTokens[beam] = tok; nextRows[beam] = row;
                    beam++;
                }
            }
            if (beam < R) throw new InvalidOperationException($"Beam search found only {beam} continuations of {R} beams (every other candidate was </s> or banned); lower num_beams or no_repeat_ngram_size.");
            done = hyps.IsDone(topScores[0], curLen);
            var old = seqs;
            seqs = new int[R][];
            for (int r = 0; r < R; r++)
            {
                seqs[r] = new int[curLen + 1];
                old[nextRows[r]].CopyTo(seqs[r], 0);
                seqs[r][curLen] = nextTokens[r];
                beamScores[r] = nextScores[r];
            }
            if (done || curLen + 1 >= maxLength) break;
            cache.Reorder(nextRows);
        }
        if (!done)
            for (int r = 0; r < R; r++) hyps.Add(seqs[r], beamScores[r]);   // finalize: the open beams join
        var (score, best) = hyps.Best();
        bool ended = best.Length < maxLength;                                // finalize appends </s> when it fits
        return new Seq2SeqResult(best[1..], ended, (float)score);
    }
}
