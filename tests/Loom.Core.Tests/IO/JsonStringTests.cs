using System.Text;
using System.Text.Json;
using Loom.Core.IO;

namespace Loom.Core.Tests.IO;

public class JsonStringTests
{
    private static (string Text, long Lone) Read(string json)
    {
        var r = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        r.Read();
        long lone = 0;
        return (JsonString.Get(ref r, ref lone), lone);
    }

    [Fact]
    public void LoneSurrogatesBecomeReplacementCharactersAndAreCounted()
    {
        Assert.Equal(("a\uFFFDb", 1L), Read("\"a\\ud800b\""));                     // what Python's json.dumps("a\ud800b") writes
        Assert.Equal(("\uFFFD\uFFFDx", 2L), Read("\"\\udc00\\ud800x\""));         // low before high: both lone
        Assert.Equal(("\uFFFD", 1L), Read("\"\\uD83D\""));
        Assert.Equal((char.ConvertFromUtf32(0x1F600) + "\uFFFD", 1L), Read("\"\\ud83d\\ude00\\ud83d\""));
    }

    [Fact]
    public void OtherEscapesDecodeAsSystemTextJsonDoes()
    {
        // Reference: System.Text.Json's own decoding of the same string without the lone surrogate.
        var rng = new Random(5);
        string[] parts = ["\\n", "\\t", "\\r", "\\b", "\\f", "\\\"", "\\\\", "\\/", "\\u00e9", "\\u4e2d", "\\ud83d\\ude00", "é", "中", "x", " ", "😀"];
        for (int trial = 0; trial < 200; trial++)
        {
            var body = new StringBuilder();
            for (int i = rng.Next(1, 12); i > 0; i--) body.Append(parts[rng.Next(parts.Length)]);
            string clean = body.ToString();
            string expected = JsonSerializer.Deserialize<string>($"\"{clean}\"")!;
            Assert.Equal((expected, 0L), Read($"\"{clean}\""));
            Assert.Equal((expected + "\uFFFD" + expected, 1L), Read($"\"{clean}\\udfff{clean}\""));
        }
    }
}
