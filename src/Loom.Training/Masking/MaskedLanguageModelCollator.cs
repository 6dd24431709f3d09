// Masked-LM data collation as Hugging Face's DataCollatorForLanguageModeling.torch_mask_tokens does
// it (BERT, Devlin et al. 2019 §3.1): every non-special token is chosen independently with
// probability p; a chosen token keeps its id as the label (all others −100, PyTorch's ignore_index)
// and its input becomes [MASK] with probability mask_replace_prob, else a uniformly random id with
// probability random_replace_prob / (1 − mask_replace_prob), else stays. Special tokens ([CLS],
// [SEP], [PAD], [UNK], [MASK] — HF's all_special_ids) are never chosen. With whole-word masking
// (DataCollatorForWholeWordMask._whole_word_mask) words — a token plus the "##" continuations right
// after it — are the candidates: shuffled, then taken in order while the count of chosen tokens stays
// at most max(1, round(T × p)) (capped at 512), a word that would overshoot being skipped; the
// replacement then goes token by token, as in HF. One difference, on purpose: a continuation right
// after a special token starts a word of its own (HF would attach it to the word before the [SEP]).
// All randomness comes from the caller's SplitMix64, so a checkpoint that saves its state resumes
// the very same masks. Allocation-free per call once constructed.
using Loom.Training.Loop;

namespace Loom.Training.Masking;

/// <summary>Chooses and replaces tokens of a batch for the masked-LM loss.</summary>
public sealed class MaskedLanguageModelCollator
{
    /// <summary>Labels of positions that are not predicted (PyTorch's ignore_index).</summary>
    public const int IgnoreIndex = Loom.Core.Kernels.CrossEntropy.DefaultIgnoreIndex;

    private const int MaxPredictions = 512;   // DataCollatorForWholeWordMask's max_predictions
    private readonly MaskedLanguageModelingOptions _options;
    private readonly int _vocabularySize, _maskId;
    private readonly bool[] _special, _continuation;   // by id
    private readonly double _randomGivenNotMasked;
    private int[] _wordStart = [], _wordLength = [];    // (T) scratch for whole-word candidates

    /// <param name="options">Probabilities and whole-word masking.</param>
    /// <param name="vocabularySize">Random replacements are drawn uniformly from [0, this), as HF's torch.randint(len(tokenizer)).</param>
    /// <param name="maskId">The id of [MASK].</param>
    /// <param name="specialIds">Ids never chosen.</param>
    /// <param name="continuationIds">Ids of "##" continuation tokens (needed for whole-word masking).</param>
    public MaskedLanguageModelCollator(MaskedLanguageModelingOptions options, int vocabularySize, int maskId, IEnumerable<int> specialIds, IEnumerable<int>? continuationIds = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (vocabularySize < 1) throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize, "The vocabulary must hold at least one id.");
        if ((uint)maskId >= (uint)vocabularySize) throw new ArgumentOutOfRangeException(nameof(maskId), maskId, $"The [MASK] id must lie in [0, {vocabularySize}).");
        _options = options;
        _vocabularySize = vocabularySize;
        _maskId = maskId;
        _special = new bool[vocabularySize];
        _continuation = new bool[vocabularySize];
        foreach (int id in specialIds) if ((uint)id < (uint)vocabularySize) _special[id] = true;
        if (continuationIds != null) foreach (int id in continuationIds) if ((uint)id < (uint)vocabularySize) _continuation[id] = true;
        _special[maskId] = true;
        // HF draws "random" only among the tokens not replaced by [MASK]: scale to keep the overall share.
        double rest = 1 - options.MaskReplaceProbability;
        _randomGivenNotMasked = rest <= 0 ? 0 : Math.Min(1, options.RandomReplaceProbability / rest);
    }

    /// <summary>The options in force.</summary>
    public MaskedLanguageModelingOptions Options => _options;

    /// <summary>
    /// Masks <paramref name="inputs"/> (B·T ids) in place and writes <paramref name="labels"/> (B·T: the
    /// original id where chosen, −100 elsewhere); returns how many positions were chosen.
    /// </summary>
    public int Apply(Span<int> inputs, Span<int> labels, int batch, int time, SplitMix64 rng)
    {
        if (batch < 1 || time < 1) throw new ArgumentException($"A batch needs B ≥ 1 and T ≥ 1; got B = {batch}, T = {time}.");
        if (inputs.Length != (long)batch * time || labels.Length != inputs.Length)
            throw new ArgumentException($"inputs and labels must each hold B×T = {(long)batch * time} ids; got {inputs.Length} and {labels.Length}.");
        foreach (int id in inputs)
            if ((uint)id >= (uint)_vocabularySize) throw new ArgumentException($"Token id {id} is outside the vocabulary of {_vocabularySize} ids.");
        labels.Fill(IgnoreIndex);
        int chosen = 0;
        if (!_options.WholeWordMask)
        {
            double p = _options.Probability;
            for (int i = 0; i < inputs.Length; i++)
                if (!_special[inputs[i]] && NextDouble(rng) < p) chosen += Choose(inputs, labels, i, rng);
            return chosen;
        }
        if (_wordStart.Length < time) { _wordStart = new int[time]; _wordLength = new int[time]; }
        int target = Math.Min(MaxPredictions, Math.Max(1, (int)Math.Round(time * _options.Probability, MidpointRounding.ToEven)));   // Python's round
        for (int b = 0; b < batch; b++)
        {
            var row = inputs.Slice(b * time, time);
            var rowLabels = labels.Slice(b * time, time);
            int words = 0;
            for (int t = 0; t < time; t++)
            {
                int id = row[t];
                if (_special[id]) continue;
                if (_continuation[id] && words > 0 && t > 0 && _wordStart[words - 1] + _wordLength[words - 1] == t) _wordLength[words - 1]++;
                else { _wordStart[words] = t; _wordLength[words] = 1; words++; }
            }
            // random.shuffle of the candidate words (Fisher–Yates).
            for (int i = words - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (_wordStart[i], _wordStart[j]) = (_wordStart[j], _wordStart[i]);
                (_wordLength[i], _wordLength[j]) = (_wordLength[j], _wordLength[i]);
            }
            int covered = 0;
            for (int w = 0; w < words && covered < target; w++)
            {
                if (covered + _wordLength[w] > target) continue;
                for (int k = 0; k < _wordLength[w]; k++) chosen += Choose(row, rowLabels, _wordStart[w] + k, rng);
                covered += _wordLength[w];
            }
        }
        return chosen;
    }

    // Label position i with its id and replace its input: [MASK], a random id, or unchanged.
    private int Choose(Span<int> inputs, Span<int> labels, int i, SplitMix64 rng)
    {
        labels[i] = inputs[i];
        if (NextDouble(rng) < _options.MaskReplaceProbability) inputs[i] = _maskId;
        else if (NextDouble(rng) < _randomGivenNotMasked) inputs[i] = rng.Next(_vocabularySize);
        return 1;
    }

    // Uniform in [0, 1) with 53 random bits.
    private static double NextDouble(SplitMix64 rng) => (rng.NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
