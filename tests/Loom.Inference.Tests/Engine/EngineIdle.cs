// Waits until an engine has given every KV block back and holds no request. The engine publishes
// its statistics once per step, so they can lag the last request's completion by a step; on a
// loaded machine a step can take a long time. Waiting up to a generous deadline (returning as soon
// as the engine is idle) keeps the block-accounting assertions exact without making them timing
// tests: a 1-second bound failed once under a load average of 20.
using Loom.Inference.Engine;

namespace Loom.Inference.Tests.Engine;

internal static class EngineIdle
{
    public static async Task WaitAsync(InferenceEngine engine, double seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline && (engine.Statistics.UsedBlocks > 0 || engine.Statistics.Running > 0 || engine.Statistics.Waiting > 0))
            await Task.Delay(10);
    }
}
