// SQuAD answer scoring, with expected values derived by hand from evaluate-v2.0.py's definitions
// (normalize_answer; compute_f1 over normalised token bags; max over gold answers).
using Loom.Evaluation.Harness;

namespace Loom.Evaluation.Tests.Harness;

public sealed class AnswerScoringTests
{
    [Theory]
    [InlineData("The Eiffel Tower!", "eiffel tower")]
    [InlineData("  an  Apple,  a day ", "apple day")]
    [InlineData("Théâtre", "théâtre")]   // non-ASCII letters stay; only string.punctuation goes
    public void NormalizeAsTheOfficialScript(string input, string expected) => Assert.Equal(expected, AnswerScoring.Normalize(input));

    [Fact]
    public void F1CountsCommonTokensWithMultiplicity()
    {
        // pred "the cat the cat sat" → [cat, cat, sat]; gold "a cat sat down" → [cat, sat, down]; common 2; P 2/3, R 2/3.
        Assert.Equal(2.0 / 3, AnswerScoring.F1("the cat the cat sat", "a cat sat down"), 12);
        Assert.Equal(1, AnswerScoring.F1("", ""));
        Assert.Equal(0, AnswerScoring.F1("x", ""));
        Assert.Equal(1, AnswerScoring.Best(AnswerScoring.ExactMatch, "Denver Broncos", ["Broncos", "the Denver Broncos"]));
    }
}
