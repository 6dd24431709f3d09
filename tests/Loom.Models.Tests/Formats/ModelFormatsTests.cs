// The model-path registry (Formats/ModelFormats): Loom.Models' own forms are in it without any call,
// registration is idempotent by name, CausalLanguageModels.Load hands a recognised path to its format,
// and probing never opens a FIFO (a path that is one, or a directory whose config.json is one).
using System.Diagnostics;
using Loom.Core.Threading;
using Loom.Models.Formats;

namespace Loom.Models.Tests.Formats;

public class ModelFormatsTests
{
    // Recognises only paths under its own unique marker, so registering it globally disturbs no other test.
    private sealed class MarkerFormat(string marker) : IModelFormat
    {
        public string Name => "test-marker-" + marker;
        public int Loads;
        public bool CanOpen(string path) => path.EndsWith(marker, StringComparison.Ordinal);
        public ICausalLanguageModel Load(string path, ModelOptions options, WorkerPool? pool = null)
        {
            Loads++;
            throw new InvalidDataException($"marker format asked to load {path}");
        }
    }

    [Fact]
    public void BuiltInFormatsNeedNoRegistrationAndRegisterIsIdempotent()
    {
        Assert.Contains(ModelFormats.All, f => f.Name == "gguf");
        Assert.Contains(ModelFormats.All, f => f.Name == "quantized");
        string marker = Guid.NewGuid().ToString("N");
        var format = new MarkerFormat(marker);
        ModelFormats.Register(format);
        int count = ModelFormats.All.Count;
        ModelFormats.Register(new MarkerFormat(marker));
        Assert.Equal(count, ModelFormats.All.Count);
        Assert.Same(format, ModelFormats.Find("/nowhere/" + marker));
        var e = Assert.Throws<InvalidDataException>(() => CausalLanguageModels.Load("/nowhere/" + marker, ModelOptions.Inference));
        Assert.Contains(marker, e.Message);
        Assert.Equal(1, format.Loads);
    }

    [Fact]
    public async Task ProbingAFifoOrADirectoryWithAFifoConfigOpensNothing()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-formats-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string fifo = Path.Combine(dir, "model.gguf");
            Mkfifo(fifo);
            Mkfifo(Path.Combine(dir, "config.json"));
            // A blocked open would never return: fail instead of hanging the suite.
            var task = Task.Run(() => (ModelFormats.Find(fifo), ModelFormats.Find(dir)));
            Assert.Same(task, await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(20))));
            var (fromFile, fromDirectory) = await task;
            Assert.Null(fromFile);
            Assert.Null(fromDirectory);
            // Regression: the encoder-decoder probe (`loom generate` asks it first) read config.json and hung.
            var probe = Task.Run(() => Seq2SeqModels.IsSeq2SeqDirectory(dir));
            Assert.Same(probe, await Task.WhenAny(probe, Task.Delay(TimeSpan.FromSeconds(20))));
            Assert.False(await probe);
            var load = Assert.Throws<InvalidDataException>(() => Seq2SeqModels.Load(dir));
            Assert.Contains("FIFO", load.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static void Mkfifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]))!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
