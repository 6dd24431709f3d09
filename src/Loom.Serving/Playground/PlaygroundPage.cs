// The playground page served at "/" (playground.html, embedded in the assembly): a streaming chat over
// this server's own API with sampling settings, the model's info and live metrics. The page itself
// needs no key; its API calls send the key typed into it.
namespace Loom.Serving.Playground;

internal static class PlaygroundPage
{
    private static readonly Lazy<string> s_html = new(() =>
    {
        using var stream = typeof(PlaygroundPage).Assembly.GetManifestResourceStream("Loom.Serving.Playground.playground.html")
            ?? throw new InvalidOperationException("playground.html is not embedded in Loom.Serving; the build is broken.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static string Html => s_html.Value;
}
