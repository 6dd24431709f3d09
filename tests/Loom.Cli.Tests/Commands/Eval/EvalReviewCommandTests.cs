// `loom eval review`: the HTML sheet is self-contained and holds every item; the CSV sheet
// round-trips quoting; raters' CSV files read back give sklearn 1.2.1's Cohen's kappa per pair and
// Fleiss' kappa from its definition (values computed with sklearn / numpy for these ratings:
// a=[1,2,3,3,4,5], b=[1,2,3,2,4,4], c=[1,3,3,3,4,5]).
using System.Text.Json.Nodes;

namespace Loom.Cli.Tests.Commands.Eval;

public sealed class EvalReviewCommandTests
{
    [Fact]
    public void WritesSelfContainedHtmlAndCsvSheets()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "items.jsonl");
        File.WriteAllLines(input, ["""{"id": "1", "prompt": "Say <hi>", "response": "hi, \"there\"\nfriend"}""", """{"id": "2", "prompt": "p", "response": "r"}"""]);
        var html = CliRunner.Run("eval", "review", "--input", input, "--output", Path.Combine(dir, "sheet.html"));
        Assert.True(html.Code == 0, html.Console);
        string page = File.ReadAllText(Path.Combine(dir, "sheet.html"));
        Assert.Contains("Say &lt;hi&gt;", page);
        Assert.Contains("data-id=\"2\"", page);
        Assert.DoesNotContain("src=\"http", page);
        Assert.DoesNotContain("href=\"http", page);
        var csv = CliRunner.Run("eval", "review", "--input", input, "--output", Path.Combine(dir, "sheet.csv"));
        Assert.True(csv.Code == 0, csv.Console);
        Assert.Contains("\"hi, \"\"there\"\"\nfriend\"", File.ReadAllText(Path.Combine(dir, "sheet.csv")));
    }

    [Fact]
    public void RatingsReadBackWithKappas()
    {
        string dir = CliRunner.TempDir();
        int[][] r = [[1, 2, 3, 3, 4, 5], [1, 2, 3, 2, 4, 4], [1, 3, 3, 3, 4, 5]];
        var files = new List<string>();
        for (int k = 0; k < 3; k++)
        {
            string path = Path.Combine(dir, $"rater{k}.csv");
            File.WriteAllLines(path, ["id,rater,rating,comment", .. r[k].Select((v, i) => $"item{i},{"abc"[k]},{v},\"ok, fine\"")]);
            files.Add(path);
        }
        var res = CliRunner.Run(["eval", "review", "--ratings", .. files]);
        Assert.True(res.Code == 0, res.Console);
        var s = JsonNode.Parse(res.Output)!;
        var pairs = s["pairs"]!.AsArray();
        Assert.Equal(0.5862068965517241, pairs[0]!["cohen_kappa"]!.GetValue<double>(), 12);           // a–b
        Assert.Equal(0.8888888888888888, pairs[0]!["cohen_kappa_quadratic"]!.GetValue<double>(), 12);
        Assert.Equal(0.7777777777777778, pairs[1]!["cohen_kappa"]!.GetValue<double>(), 12);           // a–c
        Assert.Equal(0.4, pairs[2]!["cohen_kappa"]!.GetValue<double>(), 12);                          // b–c
        Assert.Equal(0.568, s["fleiss_kappa"]!.GetValue<double>(), 12);
        Assert.Equal(6, s["items_rated_by_all"]!.GetValue<int>());
    }

    [Fact]
    public void BadRatingsFileIsOneError()
    {
        string dir = CliRunner.TempDir();
        string path = Path.Combine(dir, "r.csv");
        File.WriteAllText(path, "item,score\n1,2\n");
        var res = CliRunner.Run("eval", "review", "--ratings", path);
        Assert.Equal(1, res.Code);
        Assert.Contains("lacks id or rating", res.Console);
    }
}
