// Every setting of a training run is checked before any work, naming the setting as the caller
// wrote it (the CLI maps property names to its flags) and the bad value.
using Loom.Tokenizers.Trainer;

namespace Loom.Tokenizers.Tests.Trainer;

public class BpeTrainerOptionsTests
{
    private static readonly string[] Corpus = ["low lower lowest newer newest wider\n"];

    [Fact]
    public void DuplicateSpecialTokensAreAnErrorNamingTheDuplicate()
    {
        // Before, the duplicate collapsed silently into one id and the vocabulary came out one short.
        var options = new BpeTrainerOptions { VocabularySize = 300, SpecialTokens = ["<a>", "<b>", "<a>"] };
        var e = Assert.Throws<ArgumentException>(() => BpeTrainer.Train(Corpus, options));
        Assert.Contains("\"<a>\"", e.Message);
        Assert.Contains("positions 1 and 3", e.Message);
        Assert.Contains("--special-tokens", Assert.Throws<ArgumentException>(() => options.Validate(n => n == "SpecialTokens" ? "--special-tokens" : n)).Message);
    }

    [Fact]
    public void AnEmptySpecialTokenIsAnError() =>
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => BpeTrainer.Train(Corpus, new BpeTrainerOptions { SpecialTokens = ["<a>", ""] })).Message);

    [Theory]
    [InlineData(-3)]
    [InlineData(long.MinValue)]
    public void NegativeMinFrequencyIsAnError(long minFrequency)
    {
        var e = Assert.Throws<ArgumentException>(() => BpeTrainer.Train(Corpus, new BpeTrainerOptions { VocabularySize = 300, MinFrequency = minFrequency }));
        Assert.Contains("MinFrequency", e.Message);
        Assert.Contains(minFrequency.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void MinFrequencyZeroIsAcceptedAndActsAsOne()
    {
        // As Hugging Face's trainer (min_frequency is unsigned there): every pair present was seen at least once.
        var zero = BpeTrainer.Train(Corpus, new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 0 });
        var one = BpeTrainer.Train(Corpus, new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
        Assert.Equal(one.Merges.Select(m => (Convert.ToHexString(m.Left), Convert.ToHexString(m.Right))),
                     zero.Merges.Select(m => (Convert.ToHexString(m.Left), Convert.ToHexString(m.Right))));
    }

    [Fact]
    public void AVocabularyTooSmallForBytesAndSpecialsNamesTheMinimum()
    {
        var e = Assert.Throws<ArgumentException>(() => BpeTrainer.Train(Corpus, new BpeTrainerOptions { VocabularySize = 257, SpecialTokens = ["<a>", "<b>"] }));
        Assert.Contains("257", e.Message);
        Assert.Contains("258", e.Message);
    }

    [Fact]
    public void AHugeVocabularySizeTrainsUntilPairsRunOut()
    {
        // Before, a list was pre-sized to VocabularySize (out of memory for int.MaxValue).
        var result = BpeTrainer.Train(Corpus, new BpeTrainerOptions { VocabularySize = int.MaxValue, MinFrequency = 1 });
        Assert.True(result.Tokenizer.VocabularySize < 400);
    }
}
