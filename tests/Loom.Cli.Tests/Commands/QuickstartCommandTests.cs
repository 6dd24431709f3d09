namespace Loom.Cli.Tests.Commands;

public class QuickstartCommandTests
{
    [Fact]
    public void RunsEndToEndOnTheShippedText()
    {
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("quickstart", "--steps", "8", "--minutes", "1", "--output", dir);
        Assert.True(code == 0, console);
        Assert.Contains("validation loss", console);
        Assert.Contains("ROMEO:", console);
        foreach (var f in new[] { "report.html", "metrics.jsonl", "model.safetensors", "config.json", "tokenizer.json", "options.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
    }
}
