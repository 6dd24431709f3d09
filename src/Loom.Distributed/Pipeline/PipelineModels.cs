// Building the pipeline stage of any registered family whose models implement IPipelineStageModel:
// rank s of S holds stage s of PipelineStage.Split(n_layer, S), weights copied by name from the
// whole model's.
using Loom.Core.Threading;
using Loom.Distributed.Communication;
using Loom.Models;
using Loom.Models.Families;
using Loom.Models.Parallel;
using Loom.Models.Parameters;

namespace Loom.Distributed.Pipeline;

/// <summary>Pipeline-parallel (GPipe) model stages over an <see cref="ICommunicator"/>.</summary>
public static class PipelineModels
{
    /// <summary>This rank's stage of a causal LM of <paramref name="configuration"/> (zeroed: fill it with <see cref="LoadStage"/> or initialise it).</summary>
    public static ICausalLanguageModel Create(object configuration, ICommunicator group, ModelOptions? options = null, WorkerPool? pool = null)
    {
        var family = ModelFamilies.ForConfiguration(configuration)
            ?? throw new ArgumentException($"No registered model family for a {configuration.GetType().Name}.");
        var layers = family.LayerCount ?? throw new NotSupportedException($"model_type \"{family.ModelType}\" does not support pipeline_parallel yet.");
        var create = family.CreateCausalLanguageModel ?? throw new NotSupportedException($"model_type \"{family.ModelType}\" has no causal LM.");
        var stage = PipelineStage.Split(layers(configuration), group.Size)[group.Rank];
        var model = create(configuration, (options ?? ModelOptions.Default) with { Stage = stage }, pool);
        if (model is not IPipelineStageModel)
        {
            model.Dispose();
            throw new NotSupportedException($"model_type \"{family.ModelType}\" does not support pipeline_parallel yet.");
        }
        return model;
    }

    /// <summary>Copies every tensor the stage holds from <paramref name="whole"/>'s tensor of the same name.</summary>
    public static void LoadStage(ParameterSet whole, ParameterSet stage)
    {
        for (int i = 0; i < stage.Specs.Count; i++) whole.Value(whole.IndexOf(stage.Specs[i].Name)).CopyTo(stage.Value(i));
    }
}
