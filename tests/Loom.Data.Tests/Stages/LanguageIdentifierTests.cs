using Loom.Data.Documents;
using Loom.Data.Stages;

namespace Loom.Data.Tests.Stages;

public class LanguageIdentifierTests
{
    [Fact]
    public void HeldOutSentencesOfTheSevenLanguagesAreIdentified()
    {
        var rows = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "language_eval.tsv")).Select(l => l.Split('\t')).ToList();
        Assert.Equal(70, rows.Count);
        var wrong = rows.Select(r => (Want: r[0], Got: LanguageIdentifier.Default.Identify(r[1]), Text: r[1])).Where(x => x.Got.Language != x.Want).ToList();
        double accuracy = 1 - (double)wrong.Count / rows.Count;
        Assert.True(accuracy >= 0.97, $"accuracy {accuracy:P1}; wrong: {string.Join(" | ", wrong.Select(w => $"{w.Want}→{w.Got.Language} {w.Text}"))}");
        Assert.Equal(["de", "en", "es", "fr", "it", "nl", "pt"], LanguageIdentifier.Default.Languages.Order());
    }

    [Fact]
    public void ConfidenceGrowsWithTextAndTheFilterKeepsOnlyChosenLanguages()
    {
        var shortGuess = LanguageIdentifier.Default.Identify("the house");
        var longGuess = LanguageIdentifier.Default.Identify("The house at the end of the street has been empty for years, and nobody knows who owns it now.");
        Assert.Equal("en", longGuess.Language);
        Assert.True(longGuess.Confidence > shortGuess.Confidence);
        Assert.True(longGuess.Confidence > 0.9);
        var filter = new LanguageFilter(new LanguageFilterOptions { Languages = ["en"] });
        var german = new Document { Id = "d", Text = "Das Haus am Ende der Straße steht seit Jahren leer, und niemand weiß, wem es jetzt gehört.", Source = "x" };
        var v = filter.Process(german);
        Assert.Equal("language_not_kept", v.Reason);
        Assert.StartsWith("de", v.Detail);
        Assert.Throws<ArgumentException>(() => new LanguageFilter(new LanguageFilterOptions { Languages = ["xx"] }));
    }
}
