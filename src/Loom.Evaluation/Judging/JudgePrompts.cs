// The judge's instructions, after MT-Bench's single-answer and pairwise prompts (Zheng et al. 2023,
// "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", appendix; FastChat's judge_prompts.jsonl
// "single-v1" and "pair-v2"): an impartial-judge system message, the question and answer(s) between
// [The Start/End of ...] markers, and a strict verdict format ([[A]]/[[B]]/[[C]], or [[rating]])
// that the parser reads back (the last occurrence wins, so an explanation may quote the format).
using System.Text.RegularExpressions;

namespace Loom.Evaluation.Judging;

/// <summary>Builds judge prompts and parses verdicts.</summary>
public static partial class JudgePrompts
{
    public static (string System, string User) Pairwise(string question, string first, string second, string? rubric) => (
        "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user question displayed below. "
        + "You should choose the assistant that follows the user's instructions and answers the user's question better. "
        + (rubric is null ? "Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of their responses. " : $"Evaluate them on these criteria:\n{rubric}\n")
        + "Begin your evaluation by comparing the two responses and provide a short explanation. Avoid any position biases and ensure that the order in which the responses were presented does not influence your decision. "
        + "Do not allow the length of the responses to influence your evaluation. Do not favor certain names of the assistants. Be as objective as possible. "
        + "After providing your explanation, output your final verdict by strictly following this format: \"[[A]]\" if assistant A is better, \"[[B]]\" if assistant B is better, and \"[[C]]\" for a tie.",
        $"[User Question]\n{question}\n\n[The Start of Assistant A's Answer]\n{first}\n[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{second}\n[The End of Assistant B's Answer]");

    public static (string System, string User) Single(string question, string answer, string? rubric, int scaleMax) => (
        "You are a helpful assistant.",
        "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user question displayed below. "
        + (rubric is null ? "Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of the response. " : $"Grade it on this rubric:\n{rubric}\n")
        + $"Begin your evaluation by providing a short explanation. Be as objective as possible. After providing your explanation, you must rate the response on a scale of 1 to {scaleMax} by strictly following this format: \"[[rating]]\", for example: \"Rating: [[5]]\".\n\n"
        + $"[Question]\n{question}\n\n[The Start of Assistant's Answer]\n{answer}\n[The End of Assistant's Answer]");

    [GeneratedRegex(@"\[\[(A|B|C)\]\]")]
    private static partial Regex PairVerdict();

    [GeneratedRegex(@"\[\[(\d+(?:\.\d+)?)\]\]")]
    private static partial Regex Rating();

    /// <summary>"A", "B" or "tie" from the reply's last [[A]]/[[B]]/[[C]]; null when there is none.</summary>
    public static string? ParsePairwise(string reply)
    {
        var m = PairVerdict().Matches(reply);
        return m.Count == 0 ? null : m[^1].Groups[1].Value switch { "A" => "A", "B" => "B", _ => "tie" };
    }

    /// <summary>The rating of the reply's last [[n]]; null when there is none or it is outside 1..max.</summary>
    public static double? ParseRating(string reply, int max)
    {
        var m = Rating().Matches(reply);
        if (m.Count == 0) return null;
        double v = double.Parse(m[^1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return v >= 1 && v <= max ? v : null;
    }
}
