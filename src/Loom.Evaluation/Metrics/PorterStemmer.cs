// The Porter stemmer (Porter 1980, "An algorithm for suffix stripping", Program 14(3):130-137) as
// NLTK's nltk.stem.porter.PorterStemmer computes it in its default NLTK_EXTENSIONS mode, which is
// what rouge-score's use_stemmer=True calls: the irregular-forms table (sky/skies, dying, news, ...),
// words of ≤ 2 characters kept, 'ies'/'ied' on 4-letter words giving 'ie', step 1c's y→i only after a
// consonant that is not the whole stem, the 'alli' rule tried first and step 2 rerun, 'bli'→'ble',
// 'fulli'→'ful' and 'logi'→'log' (the 'l' kept with the stem for the measure), and *o true for a
// two-letter vowel-consonant stem. A rule list stops at the first suffix that matches, whether or not
// its condition holds. Input is lowercased first (stem(word, to_lowercase=True)).
namespace Loom.Evaluation.Metrics;

/// <summary>NLTK's Porter stemmer (NLTK_EXTENSIONS mode).</summary>
public static class PorterStemmer
{
    private static readonly Dictionary<string, string> Irregular = new(StringComparer.Ordinal)
    {
        ["sky"] = "sky", ["skies"] = "sky", ["dying"] = "die", ["lying"] = "lie", ["tying"] = "tie", ["news"] = "news",
        ["innings"] = "inning", ["inning"] = "inning", ["outings"] = "outing", ["outing"] = "outing",
        ["cannings"] = "canning", ["canning"] = "canning", ["howe"] = "howe",
        ["proceed"] = "proceed", ["exceed"] = "exceed", ["succeed"] = "succeed",
    };

    private delegate bool Condition(string stem);

    private readonly record struct Rule(string Suffix, string Replacement, Condition? When);

    private static readonly Condition PositiveMeasure = s => Measure(s) > 0;
    private static readonly Condition MeasureAboveOne = s => Measure(s) > 1;

    private static readonly Rule[] Step1a = [new("sses", "ss", null), new("ies", "i", null), new("ss", "ss", null), new("s", "", null)];

    private static readonly Rule[] Step3 =
    [
        new("icate", "ic", PositiveMeasure), new("ative", "", PositiveMeasure), new("alize", "al", PositiveMeasure),
        new("iciti", "ic", PositiveMeasure), new("ical", "ic", PositiveMeasure), new("ful", "", PositiveMeasure), new("ness", "", PositiveMeasure),
    ];

    private static readonly Rule[] Step4 =
    [
        new("al", "", MeasureAboveOne), new("ance", "", MeasureAboveOne), new("ence", "", MeasureAboveOne), new("er", "", MeasureAboveOne),
        new("ic", "", MeasureAboveOne), new("able", "", MeasureAboveOne), new("ible", "", MeasureAboveOne), new("ant", "", MeasureAboveOne),
        new("ement", "", MeasureAboveOne), new("ment", "", MeasureAboveOne), new("ent", "", MeasureAboveOne),
        new("ion", "", s => Measure(s) > 1 && s.Length > 0 && s[^1] is 's' or 't'),
        new("ou", "", MeasureAboveOne), new("ism", "", MeasureAboveOne), new("ate", "", MeasureAboveOne), new("iti", "", MeasureAboveOne),
        new("ous", "", MeasureAboveOne), new("ive", "", MeasureAboveOne), new("ize", "", MeasureAboveOne),
    ];

    /// <summary>The stem of <paramref name="word"/> (lowercased first).</summary>
    public static string Stem(string word)
    {
        string stem = word.ToLowerInvariant();
        if (Irregular.TryGetValue(word, out var irregular)) return irregular;
        if (word.Length <= 2) return stem;
        stem = Step1A(stem);
        stem = Step1B(stem);
        stem = Step1C(stem);
        stem = Step2(stem);
        stem = Apply(stem, Step3);
        stem = Apply(stem, Step4);
        stem = Step5A(stem);
        stem = Step5B(stem);
        return stem;
    }

    private static bool IsConsonant(string word, int i)
    {
        char c = word[i];
        if (c is 'a' or 'e' or 'i' or 'o' or 'u') return false;
        if (c == 'y') return i == 0 || !IsConsonant(word, i - 1);
        return true;
    }

    // m: the number of vowel→consonant transitions ([C](VC){m}[V]).
    private static int Measure(string stem)
    {
        int m = 0;
        for (int i = 1; i < stem.Length; i++)
            if (!IsConsonant(stem, i - 1) && IsConsonant(stem, i)) m++;
        return m;
    }

    private static bool ContainsVowel(string stem)
    {
        for (int i = 0; i < stem.Length; i++) if (!IsConsonant(stem, i)) return true;
        return false;
    }

    private static bool EndsDoubleConsonant(string word) => word.Length >= 2 && word[^1] == word[^2] && IsConsonant(word, word.Length - 1);

    // *o: ends consonant-vowel-consonant, the last not w, x or y; NLTK also accepts a two-letter vowel-consonant word.
    private static bool EndsCvc(string word) =>
        (word.Length >= 3 && IsConsonant(word, word.Length - 3) && !IsConsonant(word, word.Length - 2) && IsConsonant(word, word.Length - 1) && word[^1] is not ('w' or 'x' or 'y'))
        || (word.Length == 2 && !IsConsonant(word, 0) && IsConsonant(word, 1));

    // _apply_rule_list: the first rule whose suffix matches decides ("*d" is a double consonant ending).
    private static string Apply(string word, Rule[] rules)
    {
        foreach (var rule in rules)
        {
            if (rule.Suffix == "*d" && EndsDoubleConsonant(word))
            {
                string stem = word[..^2];
                return rule.When is null || rule.When(stem) ? stem + rule.Replacement : word;
            }
            if (word.EndsWith(rule.Suffix, StringComparison.Ordinal))
            {
                string stem = word[..^rule.Suffix.Length];
                return rule.When is null || rule.When(stem) ? stem + rule.Replacement : word;
            }
        }
        return word;
    }

    private static string Step1A(string word)
    {
        if (word.EndsWith("ies", StringComparison.Ordinal) && word.Length == 4) return word[..^3] + "ie";
        return Apply(word, Step1a);
    }

    private static string Step1B(string word)
    {
        if (word.EndsWith("ied", StringComparison.Ordinal)) return word[..^3] + (word.Length == 4 ? "ie" : "i");
        if (word.EndsWith("eed", StringComparison.Ordinal))
        {
            string stem = word[..^3];
            return Measure(stem) > 0 ? stem + "ee" : word;
        }
        string? intermediate = null;
        foreach (var suffix in new[] { "ed", "ing" })
            if (word.EndsWith(suffix, StringComparison.Ordinal))
            {
                string s = word[..^suffix.Length];
                if (ContainsVowel(s)) { intermediate = s; break; }
            }
        if (intermediate is null) return word;
        char last = intermediate.Length > 0 ? intermediate[^1] : '\0';
        return Apply(intermediate,
        [
            new("at", "ate", null), new("bl", "ble", null), new("iz", "ize", null),
            new("*d", last.ToString(), _ => last is not ('l' or 's' or 'z')),
            new("", "e", s => Measure(s) == 1 && EndsCvc(s)),
        ]);
    }

    private static string Step1C(string word) =>
        Apply(word, [new("y", "i", s => s.Length > 1 && IsConsonant(s, s.Length - 1))]);

    private static string Step2(string word)
    {
        if (word.EndsWith("alli", StringComparison.Ordinal) && Measure(word[..^4]) > 0) return Step2(word[..^4] + "al");
        return Apply(word,
        [
            new("ational", "ate", PositiveMeasure), new("tional", "tion", PositiveMeasure), new("enci", "ence", PositiveMeasure),
            new("anci", "ance", PositiveMeasure), new("izer", "ize", PositiveMeasure), new("bli", "ble", PositiveMeasure),
            new("alli", "al", PositiveMeasure), new("entli", "ent", PositiveMeasure), new("eli", "e", PositiveMeasure),
            new("ousli", "ous", PositiveMeasure), new("ization", "ize", PositiveMeasure), new("ation", "ate", PositiveMeasure),
            new("ator", "ate", PositiveMeasure), new("alism", "al", PositiveMeasure), new("iveness", "ive", PositiveMeasure),
            new("fulness", "ful", PositiveMeasure), new("ousness", "ous", PositiveMeasure), new("aliti", "al", PositiveMeasure),
            new("iviti", "ive", PositiveMeasure), new("biliti", "ble", PositiveMeasure),
            new("fulli", "ful", PositiveMeasure),
            new("logi", "log", _ => Measure(word[..^3]) > 0),
        ]);
    }

    private static string Step5A(string word)
    {
        if (!word.EndsWith('e')) return word;
        string stem = word[..^1];
        int m = Measure(stem);
        if (m > 1) return stem;
        if (m == 1 && !EndsCvc(stem)) return stem;
        return word;
    }

    private static string Step5B(string word) => Apply(word, [new("ll", "l", _ => Measure(word[..^1]) > 1)]);
}
