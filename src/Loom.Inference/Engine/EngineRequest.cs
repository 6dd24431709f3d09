// A request inside the engine: its output channel, its cancellation, its n sequences and the
// running usage count. Touched only by the engine's model thread after submission.
using System.Threading.Channels;
using Loom.Inference.Generation;

namespace Loom.Inference.Engine;

internal sealed class EngineRequest
{
    public required Channel<GenerationChunk> Output { get; init; }
    public required CancellationTokenSource Cancellation { get; init; }
    public required int[] Prompt { get; init; }
    public required SamplingOptions Options { get; init; }
    public EngineSequence[] Sequences { get; set; } = [];
    public int Remaining;
    public int CompletionTokens;
    public bool Done;
}
