// How a classifier's class names become OpenAI moderation categories. OpenAI's moderation response
// (POST /v1/moderations, omni-moderation) names 13 categories; a Loom moderation model scores only
// the ones its training data has, and the response says only those — an unmodelled category is left
// out rather than reported as a measured 0. The Davidson et al. (2017) classes map as:
//   hate      → "hate"        (their definition: language that expresses hatred towards a group or
//                              is intended to be derogatory, to humiliate or insult its members)
//   offensive → "harassment"  (offensive, insulting language that is not hate speech; OpenAI's
//                              harassment is "harassing language towards any target")
//   neither   → no category   (benign)
// A class already named as an OpenAI category maps to itself; a class named as a benign one
// (neither, none, safe, ok, clean, ham, neutral, benign, normal) maps to none.
namespace Loom.Serving.Guards;

/// <summary>The class → OpenAI category mapping of a moderation model.</summary>
public static class ModerationCategories
{
    /// <summary>OpenAI's moderation categories (omni-moderation-latest), in its response's order.</summary>
    public static readonly IReadOnlyList<string> OpenAI =
    [
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
        "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
    ];

    /// <summary>Class names that are not harmful.</summary>
    public static readonly IReadOnlyList<string> Benign = ["neither", "none", "safe", "ok", "clean", "ham", "neutral", "benign", "normal"];

    /// <summary>Davidson et al.'s classes that are not OpenAI names.</summary>
    public static readonly IReadOnlyDictionary<string, string> Davidson = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["offensive"] = "harassment",
        ["offensive_language"] = "harassment",
        ["hate_speech"] = "hate",
    };

    /// <summary>
    /// The category of each class (null: benign). Throws naming the class when it is neither an OpenAI
    /// category, a Davidson class, nor a benign name, so a model trained for something else is not served as moderation.
    /// </summary>
    public static string?[] Map(IReadOnlyList<string> labels, string source)
    {
        var result = new string?[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            string label = labels[i].Trim();
            if (OpenAI.Contains(label.ToLowerInvariant())) result[i] = label.ToLowerInvariant();
            else if (Davidson.TryGetValue(label, out var category)) result[i] = category;
            else if (Benign.Contains(label.ToLowerInvariant())) result[i] = null;
            else throw new InvalidDataException(
                $"{source}: class \"{labels[i]}\" is not an OpenAI moderation category ({string.Join(", ", OpenAI)}), a Davidson class (offensive) or a benign class ({string.Join(", ", Benign)}); rename it in config.json's id2label or train the moderation model with such labels.");
        }
        if (result.All(c => c is null)) throw new InvalidDataException($"{source}: no class of [{string.Join(", ", labels)}] is a harmful category, so nothing could ever be flagged.");
        return result;
    }
}
