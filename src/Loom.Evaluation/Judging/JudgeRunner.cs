// Model-graded evaluation through any OpenAI-compatible chat endpoint (including `loom serve`).
//   Pairwise: each item is judged twice, once as (A, B) and once swapped (B shown first), to cancel
//   the judge's position bias (Zheng et al. 2023, §3.3/§4.2: "swap positions"); the item's verdict is
//   the two verdicts' common answer when they agree once mapped back, and a tie when they do not
//   (MT-Bench's conservative rule). Reported: wins of A and B, ties, position consistency (share of
//   items whose two verdicts agree), first-position preference (share of non-tie calls that chose
//   the answer shown first), parse failures, and — when items carry a human verdict — agreement
//   and Cohen's kappa between judge and humans.
//   Single: one call per item, the last [[rating]] parsed; reported: mean rating and the histogram,
//   and with human scores: exact agreement and Cohen's kappa (nominal and quadratic-weighted).
// Every call (system and user prompt, reply, parsed verdict) is one record of the transcript.
using System.Globalization;
using System.Text.Json.Nodes;
using Loom.Evaluation.Agreement;
using Loom.Evaluation.Endpoints;
using Loom.Evaluation.Review;

namespace Loom.Evaluation.Judging;

/// <summary>Runs a judge over items.</summary>
public static class JudgeRunner
{
    /// <summary>Judges <paramref name="items"/>; returns the summary and the transcript (one record per call, in item order).</summary>
    public static async Task<(JsonObject Summary, List<JsonObject> Transcript)> RunAsync(OpenAIEndpoint judge, IReadOnlyList<ReviewItem> items, JudgeOptions options, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.ScaleMax < 2) throw new ArgumentOutOfRangeException(nameof(options), options.ScaleMax, "the rating scale needs at least 2 points.");
        bool pairwise = options.Mode == JudgeMode.Pairwise;
        foreach (var it in items)
            if (it.IsPairwise != pairwise)
                throw new InvalidDataException($"item {it.Id}: {(pairwise ? "pairwise mode needs response_a and response_b" : "single mode needs response (not response_a/response_b)")}; use --mode {(it.IsPairwise ? "pairwise" : "single")}.");
        await judge.ResolveModelAsync(cancellationToken).ConfigureAwait(false);
        // Calls: pairwise (item, original) and (item, swapped); single (item).
        var calls = items.SelectMany(it => pairwise ? new[] { (it, swapped: false), (it, swapped: true) } : [(it, swapped: false)]).ToList();
        var records = new JsonObject[calls.Count];
        int done = 0;
        using var gate = new SemaphoreSlim(options.MaxConcurrency);
        await Task.WhenAll(calls.Select(async (c, k) =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var (system, user) = pairwise
                    ? JudgePrompts.Pairwise(c.it.Prompt, c.swapped ? c.it.ResponseB! : c.it.ResponseA!, c.swapped ? c.it.ResponseA! : c.it.ResponseB!, options.Rubric)
                    : JudgePrompts.Single(c.it.Prompt, c.it.Response!, options.Rubric, options.ScaleMax);
                string reply = await judge.ChatAsync([("system", system), ("user", user)], options.Temperature, options.MaxTokens, options.Seed, cancellationToken).ConfigureAwait(false);
                var rec = new JsonObject { ["id"] = c.it.Id, ["order"] = pairwise ? (c.swapped ? "BA" : "AB") : "single", ["judge"] = judge.Model, ["system"] = system, ["user"] = user, ["reply"] = reply };
                if (pairwise)
                {
                    string? v = JudgePrompts.ParsePairwise(reply);
                    // Map the verdict on the shown order back to the item's A and B.
                    rec["verdict_shown"] = v;
                    rec["verdict"] = v is null ? null : c.swapped ? v switch { "A" => "B", "B" => "A", _ => "tie" } : v;
                }
                else rec["rating"] = JudgePrompts.ParseRating(reply, options.ScaleMax);
                records[k] = rec;
                progress?.Report((Interlocked.Increment(ref done), calls.Count));
            }
            finally { gate.Release(); }
        })).ConfigureAwait(false);
        var transcript = records.ToList();
        return (pairwise ? PairwiseSummary(items, transcript, judge.Model) : SingleSummary(items, transcript, judge.Model, options.ScaleMax), transcript);
    }

    private static JsonObject PairwiseSummary(IReadOnlyList<ReviewItem> items, List<JsonObject> t, string model)
    {
        int a = 0, b = 0, tie = 0, consistent = 0, failures = 0, firstChosen = 0, decided = 0;
        var final = new JsonObject();
        var judgeLabels = new List<string>();
        var humanLabels = new List<string>();
        for (int i = 0; i < items.Count; i++)
        {
            var v1 = t[2 * i]["verdict"]?.GetValue<string>();
            var v2 = t[2 * i + 1]["verdict"]?.GetValue<string>();
            foreach (var rec in new[] { t[2 * i], t[2 * i + 1] })
            {
                var shown = rec["verdict_shown"]?.GetValue<string>();
                if (shown is null) failures++;
                else if (shown != "tie") { decided++; if (shown == "A") firstChosen++; }
            }
            string verdict = v1 != null && v1 == v2 ? v1 : "tie";
            if (v1 != null && v1 == v2) consistent++;
            if (verdict == "A") a++; else if (verdict == "B") b++; else tie++;
            final[items[i].Id] = new JsonObject { ["verdict"] = verdict, ["original"] = v1, ["swapped"] = v2, ["consistent"] = v1 != null && v1 == v2 };
            if (items[i].Human is { } h) { judgeLabels.Add(verdict); humanLabels.Add(NormalizeHuman(h)); }
        }
        int n = items.Count;
        var s = new JsonObject
        {
            ["mode"] = "pairwise", ["judge"] = model, ["items"] = n, ["calls"] = t.Count,
            ["wins_a"] = a, ["wins_b"] = b, ["ties"] = tie,
            ["win_rate_a"] = (a + 0.5 * tie) / n,
            ["position_consistency"] = (double)consistent / n,
            ["first_position_preference"] = decided == 0 ? null : (double)firstChosen / decided,
            ["parse_failures"] = failures,
        };
        AddHumanAgreement(s, judgeLabels, humanLabels, numeric: false);
        s["verdicts"] = final;
        return s;
    }

    private static string NormalizeHuman(string h) => h.Trim().ToUpperInvariant() switch { "A" => "A", "B" => "B", "C" or "TIE" => "tie", var x => x.ToLowerInvariant() };

    private static JsonObject SingleSummary(IReadOnlyList<ReviewItem> items, List<JsonObject> t, string model, int max)
    {
        var ratings = t.Select(r => r["rating"]?.GetValue<double>()).ToList();
        var valid = ratings.Where(r => r.HasValue).Select(r => r!.Value).ToList();
        var histogram = new JsonObject();
        foreach (var g in valid.GroupBy(v => v).OrderBy(g => g.Key)) histogram[g.Key.ToString(CultureInfo.InvariantCulture)] = g.Count();
        var s = new JsonObject
        {
            ["mode"] = "single", ["judge"] = model, ["items"] = items.Count, ["calls"] = t.Count, ["scale"] = $"1-{max}",
            ["mean_rating"] = valid.Count == 0 ? null : valid.Average(), ["histogram"] = histogram, ["parse_failures"] = ratings.Count(r => r is null),
        };
        var judgeLabels = new List<string>();
        var humanLabels = new List<string>();
        for (int i = 0; i < items.Count; i++)
            if (items[i].Human is { } h && ratings[i] is double r) { judgeLabels.Add(r.ToString(CultureInfo.InvariantCulture)); humanLabels.Add(h.Trim()); }
        AddHumanAgreement(s, judgeLabels, humanLabels, numeric: true);
        s["ratings"] = new JsonObject(items.Select((it, i) => KeyValuePair.Create(it.Id, (JsonNode?)ratings[i])));
        return s;
    }

    private static void AddHumanAgreement(JsonObject s, List<string> judge, List<string> human, bool numeric)
    {
        if (judge.Count == 0) return;
        s["human_items"] = judge.Count;
        s["human_agreement"] = judge.Zip(human).Count(p => p.First == p.Second) / (double)judge.Count;
        if (numeric && human.All(h => double.TryParse(h, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            var x = judge.Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
            var y = human.Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
            s["human_cohen_kappa"] = Finite(InterRaterAgreement.CohenKappa(x, y));
            s["human_cohen_kappa_quadratic"] = Finite(InterRaterAgreement.CohenKappa(x, y, KappaWeights.Quadratic));
        }
        else s["human_cohen_kappa"] = Finite(InterRaterAgreement.CohenKappa(judge, human));
    }

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? v : null;
}
