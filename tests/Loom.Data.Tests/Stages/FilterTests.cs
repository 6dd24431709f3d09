using Loom.Data.Documents;
using Loom.Data.Stages;

namespace Loom.Data.Tests.Stages;

public class FilterTests
{
    private static Document Doc(string text) => new() { Id = "d", Text = text, Source = "test" };

    private static readonly string Good = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "wikitext2_paragraphs.txt"))[0];

    [Fact]
    public void GopherRulesNameTheRuleThatFailed()
    {
        var f = new GopherQualityFilter();
        Assert.False(f.Process(Doc(Good)).Removed);
        Assert.Equal("gopher_short_doc", f.Process(Doc("the cat and the dog")).Reason);
        Assert.Equal("gopher_too_many_hashes", f.Process(Doc(Good + " " + string.Concat(Enumerable.Repeat("#tag ", 40)))).Reason);
        Assert.Equal("gopher_enough_stop_words", f.Process(Doc(string.Join(' ', Enumerable.Repeat("apple banana cherry", 30)))).Reason);
        Assert.Equal("gopher_below_alpha_threshold", f.Process(Doc(string.Join(' ', Enumerable.Range(0, 60).Select(i => i % 4 == 0 ? "the" : (i * 7919).ToString())))).Reason);
        Assert.Equal("gopher_too_many_bullets", f.Process(Doc(string.Join('\n', Enumerable.Range(0, 20).Select(i => $"- the item number {i} with a few more words and that")))).Reason);
    }

    [Fact]
    public void C4DropsBadLinesAndRemovesBadDocuments()
    {
        var f = new C4Filter();
        var d = Doc(Good + "\nClick here\nThis site uses cookies to improve your experience.\nEnable javascript to see this page.");
        Assert.False(f.Process(d).Removed);
        Assert.Equal(Good, d.Text);   // the menu line, the cookie line and the javascript line are gone
        Assert.Equal("c4_lorem_ipsum", f.Process(Doc(Good + " Lorem ipsum dolor sit amet.")).Reason);
        Assert.Equal("c4_too_few_sentences", f.Process(Doc("One sentence only, and it ends here.")).Reason);
    }

    [Fact]
    public void RepetitionRulesCatchRepeatedLinesAndNGrams()
    {
        var f = new RepetitionFilter();
        Assert.False(f.Process(Doc(Good)).Removed);
        Assert.StartsWith("dup_line", f.Process(Doc(string.Join('\n', Enumerable.Repeat("Buy cheap watches online today.", 5).Append(Good)))).Reason);
        Assert.Matches("top_[234]_gram|duplicated_", f.Process(Doc(Good + " " + string.Concat(Enumerable.Repeat("click the link below to win ", 12)))).Reason!);
    }

    [Fact]
    public void NormalizerFoldsCompatibilityFormsAndCleansWhitespaceAndMarkup()
    {
        var nfkc = new Normalizer(new NormalizerOptions { Unicode = "nfkc", Html = true });
        var d = Doc("<p>Ｆｕｌｌ-width ﬁne\u200Btext</p>\r\n\r\n\r\n<script>x()</script>Second   line&amp;more\u0007 ");
        Assert.False(nfkc.Process(d).Removed);
        Assert.Equal("Full-width finetext\n\nSecond line&more", d.Text);
        Assert.Equal("empty", new Normalizer().Process(Doc(" \u0001 \n ")).Reason);
        Assert.Equal("e\u0301".Normalize(), new Normalizer().Apply("e\u0301"));
    }

    [Fact]
    public void ToxicityNeedsSeveralListedWords()
    {
        var f = new ToxicityFilter(new ToxicityOptions { Threshold = 0.05, MinMatches = 2 });
        var list = ToxicityFilter.ReadEmbedded("ldnoobw_en.txt").Select(l => l.Trim()).Where(l => l.Length > 0 && !l.Contains(' ')).ToList();
        Assert.True(list.Count > 200, $"{list.Count} single words");
        Assert.False(f.Process(Doc(Good)).Removed);
        Assert.False(f.Process(Doc($"{Good} {list[0]}")).Removed);                      // one word in a long text
        var v = f.Process(Doc($"you {list[0]} {list[1]} {list[2]} and more"));
        Assert.Equal("toxic_words", v.Reason);
        Assert.Contains(list[0], v.Detail);
    }
}
