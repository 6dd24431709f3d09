// The planted drift case built from data shipped in the repository (IMDB may not be used in tests): the reference
// is every third speech of the first 2,700 in tiny Shakespeare (public domain), the "no drift" window 300 other
// speeches spread over the same span, and the "drift" window 150 further speeches mixed with 150 SMS messages from
// data/samples/sms_spam (CC BY 4.0 sample, see its README). Texts only: one column, "text".
using System.Text.Json;
using Loom.Monitoring.Data;

namespace Loom.Monitoring.Tests;

internal static class PlantedCase
{
    public static List<string> Speeches()
    {
        var text = File.ReadAllText(Fixtures.Path(Path.Combine("shipped", "tinyshakespeare.txt")));
        // A speech is a block after its "Speaker:" line; blank lines separate blocks.
        return text.Split("\n\n").Select(b => b.Split('\n', 2)).Where(p => p.Length == 2 && p[1].Trim().Length > 0)
            .Select(p => p[1].Replace('\n', ' ').Trim()).ToList();
    }

    public static List<string> Sms() => File.ReadLines(Fixtures.Path(Path.Combine("shipped", "sms_spam_train.jsonl")))
        .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToList();

    public static Table TextTable(string source, IEnumerable<string> texts)
    {
        var cells = texts.ToArray<string?>();
        return new Table(source, [new Column("text", cells, new double?[cells.Length])], cells.Length);
    }

    public static (Table Reference, Table Same, Table Mixed) Build()
    {
        var speeches = Speeches().Take(2700).ToList();
        var reference = speeches.Where((_, i) => i % 3 == 0).ToList();
        // Spread over the same 2,700 speeches as the reference (the plays' topics change along the file).
        var same = speeches.Where((_, i) => i % 9 == 1).ToList();
        var held = speeches.Where((_, i) => i % 18 == 2).ToList();
        var sms = Sms().Take(150).ToList();
        var mixed = new List<string>();
        for (int i = 0; i < 150; i++) { mixed.Add(held[i]); mixed.Add(sms[i]); }
        return (TextTable("shakespeare-reference", reference), TextTable("shakespeare-window", same), TextTable("shakespeare+sms-window", mixed));
    }
}
