// The `loom compress lowrank` directory as a model-path format (Loom.Models' IModelFormat seam): recognised
// by its low_rank.json, opened by LowRankModels.Load. Registered by LowRankModels.Register().
using Loom.Core.Threading;
using Loom.Models;
using Loom.Models.Formats;

namespace Loom.Compression.LowRank;

/// <summary>Low-rank model directories (low_rank.json + factored model.safetensors).</summary>
internal sealed class LowRankModelFormat : IModelFormat
{
    public string Name => "low-rank";

    // Only existence is checked; LowRankModels.Load → ReadConfig refuses non-regular members before reading any.
    public bool CanOpen(string path) => LowRankModels.IsLowRank(path);

    public ICausalLanguageModel Load(string path, ModelOptions options, WorkerPool? pool = null) => LowRankModels.Load(path, options, pool);
}
