// A rule-based prompt-injection detector (the patterns OWASP LLM01 and Greshake et al. 2023,
// "Not what you've signed up for", catalogue): instruction-override phrases ("ignore all previous
// instructions"), role-play jailbreak markers ("you are now DAN", "developer mode", "pretend you
// have no restrictions"), prompt-extraction requests, and payloads hidden in an encoding — base64 or
// hex runs that decode to text, and text that reads as an attack only after rot13 — which are
// decoded and scanned with the same rules. Each finding has a weight; the score is the noisy-or
// 1 − Π(1 − wᵢ) of the findings, or the optional classifier's score when that is higher. Rules are
// measured on data/samples/guards/injection_prompts.jsonl (written for this project): see docs/SAFETY.md.
using System.Text;
using System.Text.RegularExpressions;

namespace Loom.Serving.Guards;

/// <summary>One rule that fired.</summary>
/// <param name="Rule">The rule's name.</param>
/// <param name="Category">instruction_override, role_play, prompt_extraction or encoded_payload.</param>
/// <param name="Start">Character offset of the evidence in the scanned text.</param>
/// <param name="Length">Its length (the whole encoded run for an encoded payload).</param>
/// <param name="Evidence">The matched text (decoded, for an encoded payload).</param>
public sealed record InjectionFinding(string Rule, string Category, int Start, int Length, string Evidence);

/// <summary>The verdict on one text.</summary>
public sealed record InjectionVerdict(double Score, bool Detected, IReadOnlyList<InjectionFinding> Findings);

/// <summary>Scores texts for prompt injection.</summary>
public sealed partial class PromptInjectionGuard
{
    private sealed record Rule(string Name, string Category, double Weight, Regex Pattern);

    private const RegexOptions Opt = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
    private static readonly Rule[] Rules =
    [
        new("ignore_previous", "instruction_override", 0.9, new(@"\b(ignore|disregard|forget|skip|override|bypass)\b[\w\s,'-]{0,30}?\b(previous|prior|above|earlier|preceding|original|system|all|any|your)\b[\w\s'-]{0,20}?\b(instructions?|prompts?|rules|directives|guidelines|context|commands?|messages?)\b", Opt)),
        new("forget_everything", "instruction_override", 0.7, new(@"\b(forget|disregard|ignore|override)\s+(everything|all)\b[^.!?\n]{0,30}\b(told|said|above|before|earlier|so far)\b|\boverride\s+everything\b", Opt)),
        new("new_instructions", "instruction_override", 0.6, new(@"\b(new|updated|real|actual|following)\s+(system\s+)?(instructions?|rules|directives)\s*(:|are\b|follow\b)", Opt)),
        new("instead_do", "instruction_override", 0.5, new(@"\b(instead|from now on|henceforth)\b[^.!?\n]{0,40}\b(you (will|must|should|are)|respond|answer|reply|say|output)\b", Opt)),
        new("fake_system_turn", "instruction_override", 0.7, new(@"(^|\n)\s*(#{1,3}\s*)?(system|assistant)\s*(:|>|\])|<\|?(im_start|system|endoftext)\|?>|\[/?(system|INST)\]", Opt)),
        new("you_are_now", "role_play", 0.6, new(@"\byou are (now|no longer)\b|\bfrom now on,? you are\b", Opt)),
        new("jailbreak_persona", "role_play", 0.85, new(@"\b(DAN|do anything now|developer mode|jailbr(eak|oken)|god mode|unfiltered mode|evil (confidant|assistant|bot)|AIM\b|STAN\b|DUDE\b)", Opt)),
        new("no_restrictions", "role_play", 0.7, new(@"\b(without|no|free (of|from)|ignore (all|any|your))\s+(any\s+)?(restrictions|limitations|filters|guidelines|rules|censorship|ethical|moral|safety)\b|\b(unrestricted|uncensored|unfiltered)\b", Opt)),
        new("pretend_roleplay", "role_play", 0.4, new(@"\b(pretend|imagine|act as if|roleplay|role-play|play the role)\b[^.!?\n]{0,60}\b(you|your)\b[^.!?\n]{0,40}\b(are|were|have|had|can)\b", Opt)),
        new("reveal_prompt", "prompt_extraction", 0.8, new(@"\b(reveal|print|show|repeat|output|tell me|display|leak|what (is|are|was|were))\b[^.!?\n]{0,30}\b(your|the)\s+(system\s+|initial\s+|hidden\s+|original\s+|secret\s+)(prompt|instructions?|message|rules)\b", Opt)),
        new("repeat_above", "prompt_extraction", 0.6, new(@"\brepeat (the|everything|all)( (text|words))? (above|before)\b|\bverbatim\b[^.!?\n]{0,30}\b(above|prompt|instructions)\b", Opt)),
    ];

    [GeneratedRegex(@"[A-Za-z0-9+/]{20,}={0,2}")] private static partial Regex Base64Run();
    [GeneratedRegex(@"\b(?:[0-9a-fA-F]{2}[\s:]?){16,}")] private static partial Regex HexRun();

    private readonly Func<string, double>? _classifier;

    /// <summary>Score at or above which a text is an injection.</summary>
    public double Threshold { get; }

    /// <param name="threshold">Detection threshold on the score (default 0.5: any rule of weight ≥ 0.5, or two weaker ones).</param>
    /// <param name="classifier">An optional learned score in [0, 1]; the verdict takes the larger of it and the rules'.</param>
    public PromptInjectionGuard(double threshold = 0.5, Func<string, double>? classifier = null)
    {
        if (!(threshold > 0 && threshold <= 1)) throw new ArgumentException($"The prompt-injection threshold is {threshold}; it must be in (0, 1].");
        Threshold = threshold;
        _classifier = classifier;
    }

    /// <summary>Scans <paramref name="text"/>.</summary>
    public InjectionVerdict Check(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var findings = new List<InjectionFinding>();
        Scan(text, 0, text.Length, null, findings);
        foreach (Match m in Base64Run().Matches(text))
            if (DecodeBase64(m.Value) is { } decoded) Scan(decoded, m.Index, m.Length, "base64", findings);
        foreach (Match m in HexRun().Matches(text))
            if (DecodeHex(m.Value) is { } decoded) Scan(decoded, m.Index, m.Length, "hex", findings);
        // rot13: only findings the plain text did not already have
        var rot = Rot13(text);
        var before = findings.Count;
        var rotFindings = new List<InjectionFinding>();
        Scan(rot, 0, text.Length, "rot13", rotFindings);
        foreach (var f in rotFindings)
            if (!findings.Take(before).Any(p => p.Rule == f.Rule.Split(':')[0])) findings.Add(f);
        double none = 1;
        foreach (var f in findings) none *= 1 - Weight(f);
        double score = 1 - none;
        if (_classifier != null) score = Math.Max(score, Math.Clamp(_classifier(text), 0, 1));
        return new InjectionVerdict(score, score >= Threshold, findings);
    }

    /// <summary>The text without the spans of its findings (encoded runs removed whole), whitespace tidied.</summary>
    public static string Strip(string text, InjectionVerdict verdict)
    {
        var spans = verdict.Findings.Select(f => (f.Start, End: f.Start + f.Length)).OrderBy(s => s.Start).ToList();
        var sb = new StringBuilder();
        int at = 0;
        foreach (var (s, e) in spans)
        {
            if (s > at) sb.Append(text, at, s - at);
            at = Math.Max(at, e);
        }
        if (at < text.Length) sb.Append(text, at, text.Length - at);
        return Regex.Replace(sb.ToString(), @"[ \t]{2,}", " ").Trim();
    }

    private static double Weight(InjectionFinding f) =>
        Rules.First(r => r.Name == f.Rule.Split(':')[0]).Weight;

    // Every rule on `text`; evidence offsets map to [origin, origin+span) of the original when decoded.
    private static void Scan(string text, int origin, int span, string? encoding, List<InjectionFinding> into)
    {
        foreach (var rule in Rules)
        {
            var m = rule.Pattern.Match(text);
            if (!m.Success) continue;
            if (encoding is null) into.Add(new InjectionFinding(rule.Name, rule.Category, m.Index, m.Length, m.Value));
            else if (encoding == "rot13") into.Add(new InjectionFinding(rule.Name + ":rot13", "encoded_payload", m.Index, m.Length, m.Value));
            else into.Add(new InjectionFinding(rule.Name + ":" + encoding, "encoded_payload", origin, span, m.Value));
        }
    }

    // Text only: a run that decodes to mostly printable UTF-8 (≥ 90%), not random bytes.
    private static string? DecodeBase64(string run)
    {
        string s = run.TrimEnd('=');
        s = s[..(s.Length - s.Length % 4 == s.Length ? s.Length : s.Length - s.Length % 4)];
        if (s.Length % 4 == 1) s = s[..^1];
        s = s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
        try { return Printable(Convert.FromBase64String(s)); }
        catch (FormatException) { return null; }
    }

    private static string? DecodeHex(string run)
    {
        var hex = new string(run.Where(Uri.IsHexDigit).ToArray());
        if (hex.Length % 2 == 1) hex = hex[..^1];
        return Printable(Convert.FromHexString(hex));
    }

    private static string? Printable(byte[] bytes)
    {
        if (bytes.Length < 8) return null;
        string s;
        try { s = new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { return null; }
        int ok = s.Count(c => !char.IsControl(c) || c is '\n' or '\t' or '\r');
        return ok >= 0.9 * s.Length && s.Count(char.IsLetter) >= 0.5 * s.Length ? s : null;
    }

    private static string Rot13(string s)
    {
        var c = s.ToCharArray();
        for (int i = 0; i < c.Length; i++)
        {
            char x = c[i];
            if (x is >= 'a' and <= 'z') c[i] = (char)('a' + (x - 'a' + 13) % 26);
            else if (x is >= 'A' and <= 'Z') c[i] = (char)('A' + (x - 'A' + 13) % 26);
        }
        return new string(c);
    }
}
