// One training step's forwards and backwards of a pipeline stage: the global batch cut into M
// micro-batches, hidden states sent to the next stage and their gradients back to the previous one
// point to point, gradients accumulated over the micro-batches, so the optimizer step that follows
// sees the same gradient as a single rank over the whole batch (GPipe, Huang et al. 2019, §2.2).
// Micro-batch m's loss is weighted by its share of the batch's target tokens, n_m / N, so the sum
// is the single-rank mean loss over all N targets; the last stage computes it and broadcasts it.
// A tied LM head's word embeddings live on the first and the last stage; after the backwards their
// two gradients are exchanged and summed (Megatron-LM's embedding all-reduce), so both copies take
// the same optimizer step and stay equal.
//
// Exchanges that both send and receive (1F1B's steady state) go in parity order — even stages send
// first, odd stages receive first — so a pair of neighbours never both block in a send when the
// transport does not buffer (MPI_Send of a large message waits for its receive).
using Loom.Distributed.Communication;
using Loom.Models;
using Loom.Models.Parallel;

namespace Loom.Distributed.Pipeline;

/// <summary>Runs a pipeline stage's share of each training step.</summary>
public sealed class PipelineRunner
{
    private const int TiedTag = 30000;

    private readonly ILanguageModel _model;
    private readonly IPipelineStageModel _stage;
    private readonly IHiddenStateModel? _hidden;
    private readonly ICommunicator _group;
    private readonly int _rank, _size;
    private float[] _gradient = [];     // (b·T, C) received output gradient, reused
    private float[] _tied = [];         // the other stage's copy of a tied tensor's gradient, reused
    private readonly float[] _loss = new float[1];
    private int _inFlight;

    /// <summary>The schedule and micro-batch count.</summary>
    public PipelineOptions Options { get; }

    /// <summary>The most micro-batches whose activations this stage held at once in the last step.</summary>
    public int MaxInFlight { get; private set; }

    /// <summary>Floats this stage sent in the last step (hidden states, their gradients, tied gradients).</summary>
    public long SentFloats { get; private set; }

    /// <summary>Runs <paramref name="model"/>, this rank's stage (<see cref="PipelineModels.Create"/>), over <paramref name="group"/>: rank s is stage s.</summary>
    public PipelineRunner(ILanguageModel model, ICommunicator group, PipelineOptions? options = null)
    {
        _model = model;
        _stage = model as IPipelineStageModel ?? throw new NotSupportedException("This model was not built as a pipeline stage (ModelOptions.Stage); build it with PipelineModels.Create.");
        _hidden = model as IHiddenStateModel;
        _group = group;
        _rank = group.Rank;
        _size = group.Size;
        Options = options ?? new PipelineOptions();
        if (_stage.Stage.IsFirst != (_rank == 0) || _stage.Stage.IsLast != (_rank == _size - 1))
            throw new ArgumentException($"Rank {_rank} of {_size} holds layers [{_stage.Stage.FirstLayer}, {_stage.Stage.FirstLayer + _stage.Stage.LayerCount}); rank s must hold stage s.");
        if (!_stage.Stage.IsLast && _hidden is null)
            throw new NotSupportedException("A stage before the last must expose its hidden states (IHiddenStateModel).");
    }

    /// <summary>
    /// Forward and backward of the global batch (B·T ids and targets, the same on every rank): adds the
    /// gradient of the batch's mean loss to this stage's parameter gradients (zero them before) and
    /// returns that loss on every rank.
    /// </summary>
    public float ForwardBackward(int[] ids, int[] targets, int batch, int time)
    {
        Options.Validate(batch);
        if (ids.Length != (long)batch * time || targets.Length != ids.Length)
            throw new ArgumentException($"ids has {ids.Length} and targets {targets.Length} elements; B×T = {(long)batch * time}.");
        int M = Options.MicroBatches, b = batch / M, rows = b * time, C = _stage.HiddenSize;
        if (_gradient.Length < rows * C) _gradient = new float[rows * C];
        _model.Parameters.EnsureGradients();

        // Each micro-batch's loss weight: its share of the targets that count (≠ −100).
        var weights = new float[M];
        long total = 0;
        for (int m = 0; m < M; m++)
        {
            int n = 0;
            foreach (int t in targets.AsSpan(m * rows, rows)) if (t != -100) n++;
            weights[m] = n;
            total += n;
        }
        for (int m = 0; m < M; m++) weights[m] = total == 0 ? 0 : weights[m] / total;

        double loss = 0;
        MaxInFlight = 0; _inFlight = 0; SentFloats = 0;
        int slots = Options.Schedule == PipelineSchedule.GPipe ? M : Math.Min(M, _size - _rank);

        void Forward(int m)
        {
            _stage.ActivationSlot = m % slots;
            _inFlight++;
            MaxInFlight = Math.Max(MaxInFlight, _inFlight);
            var mIds = ids.AsSpan(m * rows, rows);
            if (_stage.Stage.IsLast)
            {
                float l = _model.Forward(mIds, targets.AsSpan(m * rows, rows), b, time);
                if (weights[m] > 0) loss += (double)l * weights[m];
            }
            else _hidden!.ForwardHidden(new TokenBatch(mIds, b, time));
        }
        void Backward(int m)
        {
            _stage.ActivationSlot = m % slots;
            if (_stage.Stage.IsLast) _model.Backward(weights[m]);
            else _hidden!.BackwardHidden(_gradient.AsSpan(0, rows * C));
            _inFlight--;
        }
        void ReceiveForward(int m)
        {
            if (_stage.Stage.IsFirst) return;
            _stage.ActivationSlot = m % slots;
            _group.Receive(_stage.StageInput(b, time), _rank - 1, 2 * m);
        }
        void SendForward(int m)
        {
            if (_stage.Stage.IsLast) return;
            _stage.ActivationSlot = m % slots;
            Send(_stage.StageOutput, _rank + 1, 2 * m);   // this slot's last forward's output
        }
        void ReceiveBackward(int m)
        {
            if (_stage.Stage.IsLast) return;
            _group.Receive(_gradient.AsSpan(0, rows * C), _rank + 1, 2 * m + 1);
        }
        void SendBackward(int m)
        {
            if (_stage.Stage.IsFirst) return;
            _stage.ActivationSlot = m % slots;
            Send(_stage.StageInputGradient, _rank - 1, 2 * m + 1);
        }
        // Parity order: even stages send first, odd stages receive first.
        void Exchange(Action send, Action receive)
        {
            if (_rank % 2 == 0) { send(); receive(); }
            else { receive(); send(); }
        }

        if (Options.Schedule == PipelineSchedule.GPipe)
        {
            for (int m = 0; m < M; m++) { ReceiveForward(m); Forward(m); SendForward(m); }
            for (int m = M - 1; m >= 0; m--) { ReceiveBackward(m); Backward(m); SendBackward(m); }
        }
        else
        {
            // Megatron-LM's forward_backward_pipelining_without_interleaving.
            int warmup = Math.Min(_size - _rank - 1, M), steady = M - warmup;
            for (int m = 0; m < warmup; m++) { ReceiveForward(m); Forward(m); SendForward(m); }
            if (steady > 0) ReceiveForward(warmup);
            for (int i = 0; i < steady; i++)
            {
                int f = warmup + i;
                Forward(f);
                Exchange(() => SendForward(f), () => ReceiveBackward(i));
                Backward(i);
                if (i == steady - 1) SendBackward(i);
                else Exchange(() => SendBackward(i), () => ReceiveForward(f + 1));
            }
            for (int i = steady; i < M; i++) { ReceiveBackward(i); Backward(i); SendBackward(i); }
        }

        SumTiedGradients();
        _loss[0] = (float)loss;
        _group.Broadcast(_loss, _size - 1);
        return _loss[0];
    }

    private void Send(ReadOnlySpan<float> buffer, int destination, int tag)
    {
        SentFloats += buffer.Length;
        _group.Send(buffer, destination, tag);
    }

    // The first and the last stage each hold a copy of a tied tensor (GPT-2's wte: embedding and
    // head); its gradient is the sum of both stages' parts. First sends then receives, last the
    // reverse; each adds the other's part to its own (a + b = b + a: both copies stay bit-equal).
    private void SumTiedGradients()
    {
        var names = _stage.SharedAcrossStages;
        if (_size == 1 || names.Count == 0) return;
        var p = _model.Parameters;
        for (int k = 0; k < names.Count; k++)
        {
            int i = p.IndexOf(names[k]);
            if (!p.IsTrainable(i)) continue;
            var g = p.Gradient(i);
            if (_tied.Length < g.Length) _tied = new float[g.Length];
            var other = _tied.AsSpan(0, g.Length);
            if (_stage.Stage.IsFirst) { Send(g, _size - 1, TiedTag + k); _group.Receive(other, _size - 1, TiedTag + k); }
            else { _group.Receive(other, 0, TiedTag + k); Send(g, 0, TiedTag + k); }
            System.Numerics.Tensors.TensorPrimitives.Add(g, other, g);
        }
    }
}
