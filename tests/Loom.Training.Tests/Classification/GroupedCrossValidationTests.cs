// data.group_field: the reader carries each example's group, and cross-validation then uses
// Loom.Evaluation's StratifiedGroupKFold (equal to sklearn's, tested in Loom.Evaluation.Tests), so no
// group is on both sides of any fold.
using Loom.Models.Classification;
using Loom.Training.Classification;

namespace Loom.Training.Tests.Classification;

public sealed class GroupedCrossValidationTests
{
    [Fact]
    public void ReaderCarriesTheGroupAndFoldsNeverSplitAGroup()
    {
        string dir = TestData.Directory();
        var encoder = SequenceEncoder.Load(TestData.WordPieceTokenizer(dir));
        var texts = ClassificationDataReader.Read(TestData.Sentiment(dir, 36), new ClassificationDataOptions())
            .Select(t => t with { Group = "doc" + ((t.Line - 1) / 4) }).ToList();   // 9 groups of 4
        var labels = LabelSet.Infer(texts, ProblemType.SingleLabel);
        var data = ClassificationDataset.Encode(texts, encoder, labels, 16, TruncationPolicy.Head);
        var folds = CrossValidation.Folds(data, labels, 3, seed: 1, "train.jsonl");
        Assert.Equal(3, folds.Count);
        foreach (var (train, test) in folds)
        {
            var trainGroups = train.Texts.Select(t => t.Group).ToHashSet();
            Assert.DoesNotContain(test.Texts, t => trainGroups.Contains(t.Group));
            Assert.Equal(36, train.Texts.Count + test.Texts.Count);
        }
        Assert.Equal(Enumerable.Range(1, 36), folds.SelectMany(f => f.Test.Texts).Select(t => (int)t.Line).Order());

        string jsonl = Path.Combine(dir, "grouped.jsonl");
        File.WriteAllLines(jsonl, ["""{"text": "good film", "label": "pos", "doc": "a"}""", """{"text": "bad film", "label": "neg", "doc": 7}"""]);
        var read = ClassificationDataReader.Read(jsonl, new ClassificationDataOptions { GroupField = "doc" });
        Assert.Equal(["a", "7"], read.Select(t => t.Group));
        File.WriteAllLines(jsonl, ["""{"text": "good film", "label": "pos"}"""]);
        var e = Assert.Throws<InvalidDataException>(() => ClassificationDataReader.Read(jsonl, new ClassificationDataOptions { GroupField = "doc" }));
        Assert.Contains("group field \"doc\" is missing", e.Message);
    }
}
