using Loom.Models.Classification;
using Loom.Training.Classification;

namespace Loom.Training.Tests.Classification;

public class ClassificationDataReaderTests
{
    private static string Write(string name, string content)
    {
        string path = Path.Combine(TestData.Directory(), name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void JsonLinesReadTextPairAndLabelsOfEveryKind()
    {
        var path = Write("d.jsonl", "{\"text\": \"a\", \"label\": \"pos\"}\n{\"text\": \"b\", \"text_pair\": \"c\", \"label\": 3}\n");
        var rows = ClassificationDataReader.Read(path, new ClassificationDataOptions { PairField = "text_pair" });
        Assert.Equal(["pos"], rows[0].Labels);
        Assert.Null(rows[0].Pair);
        Assert.Equal("c", rows[1].Pair);
        Assert.Equal(["3"], rows[1].Labels);   // an int label is the class "3"
        Assert.Equal(2, rows[1].Line);

        var reg = Write("r.jsonl", "{\"text\": \"a\", \"label\": 0.25}\n{\"text\": \"b\", \"label\": \"1.5\"}\n");
        var values = ClassificationDataReader.Read(reg, new ClassificationDataOptions { ProblemType = ProblemType.Regression });
        Assert.Equal([0.25f], values[0].Values!);
        Assert.Equal([1.5f], values[1].Values!);

        var multi = Write("m.jsonl", "{\"text\": \"a\", \"label\": [\"x\", \"y\"]}\n{\"text\": \"b\", \"label\": []}\n");
        var sets = ClassificationDataReader.Read(multi, new ClassificationDataOptions { ProblemType = ProblemType.MultiLabel });
        Assert.Equal(["x", "y"], sets[0].Labels);
        Assert.Empty(sets[1].Labels);
    }

    [Fact]
    public void CsvFollowsRfc4180QuotingAcrossLines()
    {
        // RFC 4180 §2: quoted fields may hold commas, CRLF and doubled quotes; a header row names the columns.
        var path = Write("d.csv", "label,text\r\npos,\"hello, world\"\r\nneg,\"she said \"\"no\"\"\nand left\"\r\npos,plain\r\n");
        var rows = ClassificationDataReader.Read(path, new ClassificationDataOptions());
        Assert.Equal(3, rows.Count);
        Assert.Equal("hello, world", rows[0].Text);
        Assert.Equal("she said \"no\"\nand left", rows[1].Text);
        Assert.Equal(3, rows[1].Line);
        Assert.Equal(5, rows[2].Line);   // the quoted line break moved the next record down a line
        Assert.Equal(["pos"], rows[2].Labels);
    }

    [Fact]
    public void MultiLabelCsvCellsSplitOnTheSeparatorAndAnEmptyCellIsNoLabel()
    {
        var path = Write("m.csv", "text,label\na,x|y\nb,\n");
        var rows = ClassificationDataReader.Read(path, new ClassificationDataOptions { ProblemType = ProblemType.MultiLabel });
        Assert.Equal(["x", "y"], rows[0].Labels);
        Assert.Empty(rows[1].Labels);
        var single = Write("s.csv", "text,label\na,x\nb,\n");
        Assert.Contains("s.csv:3", Assert.Throws<InvalidDataException>(() => ClassificationDataReader.Read(single, new ClassificationDataOptions())).Message);
    }

    [Theory]
    [InlineData("bad.csv", "text,label\nok,pos\ntoo,many,fields\n", "bad.csv:3", "3 field(s)")]                       // ragged row
    [InlineData("q.csv", "text,label\n\"never closed,pos\n", "q.csv:2", "never closed")]                               // unbalanced quote
    [InlineData("h.csv", "body,label\nx,pos\n", "h.csv:1", "no column \"text\"")]                                        // missing column
    [InlineData("e.csv", "text,label\n  ,pos\n", "e.csv:2", "empty")]                                                    // empty text
    [InlineData("m.jsonl", "{\"text\": \"a\", \"label\": \"p\"}\n{\"label\": \"p\"}\n", "m.jsonl:2", "\"text\" is missing")] // missing field
    [InlineData("l.jsonl", "{\"text\": \"a\"}\n", "l.jsonl:1", "\"label\" is missing")]                                  // missing label
    [InlineData("t.jsonl", "{\"text\": \"\", \"label\": \"p\"}\n", "t.jsonl:1", "empty")]                                // empty text
    [InlineData("j.jsonl", "{\"text\": \"a\", \"label\": \"p\"}\n{not json\n", "j.jsonl:2", "not valid JSON")]           // malformed line
    [InlineData("b.jsonl", "{\"text\": \"a\", \"label\": \"p\"}\n\n", "b.jsonl:2", "blank line")]                       // blank line
    [InlineData("f.jsonl", "{\"text\": \"a\", \"label\": 0.5}\n", "f.jsonl:1", "task: regression")]                       // float as a class
    public void BadRecordsAreErrorsNamingFileAndLine(string name, string content, string where, string words)
    {
        var path = Write(name, content);
        var e = Assert.Throws<InvalidDataException>(() => ClassificationDataReader.Read(path, new ClassificationDataOptions()));
        Assert.Contains(where, e.Message);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void ALabelOutsideTheGivenSetNamesTheLine()
    {
        var path = Write("d.jsonl", "{\"text\": \"a\", \"label\": \"pos\"}\n{\"text\": \"b\", \"label\": \"neutral\"}\n");
        var rows = ClassificationDataReader.Read(path, new ClassificationDataOptions());
        var labels = new LabelSet(["neg", "pos"], ProblemType.SingleLabel);
        Assert.Equal(1, labels.ClassOf(rows[0]));
        var e = Assert.Throws<InvalidDataException>(() => labels.ClassOf(rows[1]));
        Assert.Contains("d.jsonl:2", e.Message);
        Assert.Contains("\"neutral\" is not in the label set (neg, pos)", e.Message);
    }

    [Fact]
    public void CsvAndJsonLinesGiveAWholeNumberLabelTheSameClass()
    {
        // Adversarial finding 9: JSONL 1 and 1.0 were the class "1", but the CSV cell "1.0" a class of its own.
        var csv = ClassificationDataReader.Read(Write("n.csv", "text,label\na,1\nb,1.0\nc,0\nd,2.50\ne,v1.0\n"), new ClassificationDataOptions());
        var jsonl = ClassificationDataReader.Read(Write("n.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 1.0}\n{\"text\": \"c\", \"label\": 0}\n"), new ClassificationDataOptions());
        Assert.Equal(["1", "1", "0"], jsonl.Select(r => r.Labels[0]));
        Assert.Equal(["1", "1", "0", "2.50", "v1.0"], csv.Select(r => r.Labels[0]));   // not whole numbers: names as written
    }

    [Fact]
    public void ADuplicateKeyNamesFileLineAndKey()
    {
        // Adversarial finding 4: JsonObject's lazy ArgumentException escaped with no line.
        var path = Write("dup.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"meta\": {\"label\": 1}, \"label\": \"x\", \"label\": \"y\"}\n");
        var e = Assert.Throws<InvalidDataException>(() => ClassificationDataReader.Read(path, new ClassificationDataOptions()));
        Assert.Contains("dup.jsonl:2", e.Message);
        Assert.Contains("\"label\" appears twice", e.Message);
    }
}
