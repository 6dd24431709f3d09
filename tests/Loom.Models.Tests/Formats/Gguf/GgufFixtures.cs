// Paths of the GGUF fixtures made by Fixtures/gguf/make_gguf_fixture.py with llama.cpp's gguf-py.
using Loom.Models.Formats.Gguf;

namespace Loom.Models.Tests.Formats.Gguf;

internal static class GgufFixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "gguf", name);

    // Every metadata key (in file order) and tensor (raw bytes) of a file, added to a new writer.
    public static GgufWriter Copy(GgufFile file, Func<GgufTensorInfo, byte[], byte[]>? edit = null)
    {
        var writer = new GgufWriter { Alignment = file.Alignment };
        foreach (var (k, v) in file.Metadata) writer.Add(k, v);
        foreach (var t in file.Tensors)
        {
            var bytes = new byte[t.ByteCount];
            file.ReadBytes(t, bytes);
            if (edit != null) bytes = edit(t, bytes);
            writer.AddTensor(t.Name, t.Type, t.Dimensions, span => bytes.CopyTo(span));
        }
        return writer;
    }
}
