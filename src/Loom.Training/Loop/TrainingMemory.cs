// The memory a training run plans before its first allocation: parameters, gradients, AdamW's two
// moments, fp32 masters under bf16/fp16, and the activation block for one (batch_size,
// sequence_length) batch. Compared with the machine's memory (MemoryBudget) so an absurd vocab_size
// or batch_size is refused with the figures and the setting to reduce.
using Loom.Core.Diagnostics;
using Loom.Models;
using Loom.Models.Families;
using Loom.Models.Parameters;
using Loom.Training.Precision;

namespace Loom.Training.Loop;

/// <summary>Planned bytes of a training run, and the check against the machine.</summary>
public static class TrainingMemory
{
    /// <summary>
    /// Bytes that training a model of <paramref name="modelConfig"/> with <paramref name="options"/> plans
    /// to allocate. With <paramref name="trainable"/> (a parameter's HF name → whether it trains, as
    /// ModelOptions.Trainable) gradients, moments and masters are counted for the trainable tensors
    /// only, through the family's tensor list; without it, every tensor trains.
    /// </summary>
    public static (double Parameters, double Activations, ModelMemory Model) Plan(object modelConfig, TrainOptions options, Func<string, bool>? trainable = null)
    {
        var m = CausalLanguageModels.PlanMemory(modelConfig, options.BatchSize, options.SequenceLength, options.ActivationCheckpointing);
        double trained = m.ParameterBytes;
        if (trainable != null && ModelFamilies.ForConfiguration(modelConfig)?.ParameterTensors is { } tensors)
            trained = ParameterSet.PlanFloats(tensors(modelConfig).Where(t => trainable(t.Name))) * (double)sizeof(float);
        // values + per trained tensor: gradient, AdamW m and v (+ an fp32 master when rounding to 16 bits).
        double copies = 3 + (options.Precision == TrainingPrecision.Fp32 ? 0 : 1);
        return (m.ParameterBytes + copies * trained, m.ActivationBytes, m);
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> when the plan exceeds this machine's memory, naming the setting to reduce.</summary>
    /// <remarks>The settings are named as a training YAML names them (<paramref name="modelPrefix"/>vocab_size, <paramref name="trainPrefix"/>batch_size).</remarks>
    public static void EnsureFits(object modelConfig, TrainOptions options, string modelPrefix = "model.", string trainPrefix = "train.", Func<string, bool>? trainable = null)
    {
        if (!CausalLanguageModels.CanPlanMemory(modelConfig)) return;   // a family from elsewhere: nothing to plan with
        var (parameters, activations, m) = Plan(modelConfig, options, trainable);
        string reduce;
        if (parameters >= activations)
            reduce = m.VocabularyBytes * 2 > m.ParameterBytes
                ? $"{modelPrefix}vocab_size (now {VocabularyOf(modelConfig):N0})"
                : $"the number or width of the layers ({modelPrefix}n_layer / n_embd, or num_hidden_layers / hidden_size)";
        else
            reduce = $"{trainPrefix}batch_size (now {options.BatchSize:N0}) or {trainPrefix}sequence_length (now {options.SequenceLength:N0})" +
                     (m.LogitsBytes * 2 > activations ? $", or {modelPrefix}vocab_size (now {VocabularyOf(modelConfig):N0})" : "") +
                     (options.ActivationCheckpointing ? "" : $", or set {trainPrefix}activation_checkpointing: true");   // every registered family has it
        MemoryBudget.EnsureFits(parameters + activations,
            $"Training {CausalLanguageModels.Describe(modelConfig)} with batches of {options.BatchSize:N0} × {options.SequenceLength:N0} " +
            $"(parameters, gradients and optimizer state {MemoryBudget.Gigabytes(parameters)}; activations {MemoryBudget.Gigabytes(activations)}) would",
            reduce);
    }

    private static long VocabularyOf(object config) => ModelFamilies.ForConfiguration(config)?.VocabularySize?.Invoke(config) ?? 0;
}
