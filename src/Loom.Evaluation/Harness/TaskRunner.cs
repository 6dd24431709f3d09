// Runs one task against an ITaskModel as lm-evaluation-harness does (lm_eval/api/task.py,
// ConfigurableTask): build each document's context (description + k few-shot examples drawn with a
// seed from the train split, each "text + target_delimiter + target", joined by fewshot_delimiter,
// then the document's text), send the requests of its output type, and score:
//   multiple_choice  one loglikelihood request (context, target_delimiter + choice) per choice;
//                    acc = [argmax ll == gold], acc_norm = [argmax ll/len(choice) == gold] where
//                    len is the choice's length in characters (Python's len(str) in process_results);
//   generate_until   the continuation up to the first stop sequence; the answer is answer_regex's
//                    group 1 (lm-eval's regex filter: "[invalid]" when it does not match); exact
//                    match after ignore_regex (or SQuAD normalisation) and token F1, max over references;
//   loglikelihood    (context, target_delimiter + target): mean log-likelihood, perplexity
//                    exp(−mean ll) as lm-eval's loglikelihood aggregation, acc = target is greedy.
// Every metric gets a seeded percentile-bootstrap interval over documents (Statistics/Bootstrap).
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Loom.Evaluation.Splitting;
using Loom.Evaluation.Statistics;

namespace Loom.Evaluation.Harness;

/// <summary>Runs harness tasks.</summary>
public static class TaskRunner
{
    /// <summary>The (train, test) documents of <paramref name="task"/>: its files, or a seeded hold-out of its test file.</summary>
    public static (List<JsonObject> Train, List<JsonObject> Test) LoadSplits(TaskDefinition task, ulong seed)
    {
        var test = TaskDocuments.Read(task.TestPath);
        if (task.TrainPath != null) return (TaskDocuments.Read(task.TrainPath), test);
        if (task.HoldoutTestFraction is not { } fraction) return ([], test);
        string where = task.SourcePath;
        Fold fold;
        if (task.GroupField is { } g)
            fold = GroupedSplits.Holdout(test.Select((d, i) => Field(d, g, where, i)).ToArray(),
                task.StratifyField is { } sf ? test.Select((d, i) => Field(d, sf, where, i)).ToArray() : null, fraction, seed);
        else if (task.StratifyField is { } s)
        {
            var names = test.Select((d, i) => Field(d, s, where, i)).ToArray();
            var ids = names.Distinct().Order(StringComparer.Ordinal).Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i);
            fold = StratifiedHoldout.Split(names.Select(n => ids[n]).ToArray(), fraction, seed);
        }
        else fold = GroupedSplits.Holdout(test.Select((_, i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), null, fraction, seed);
        return (fold.TrainIndices.Select(i => test[i]).ToList(), fold.TestIndices.Select(i => test[i]).ToList());
    }

    private static string Field(JsonObject d, string field, string where, int i) =>
        d.TryGetPropertyValue(field, out var v) && v != null ? (v is JsonValue jv && jv.TryGetValue(out string? s) ? s : v.ToJsonString())
        : throw new InvalidDataException($"{where}: document {i} has no field \"{field}\", which dataset.holdout names.");

    /// <summary>Scores <paramref name="task"/> with <paramref name="model"/>.</summary>
    public static async Task<TaskResult> RunAsync(TaskDefinition task, ITaskModel model, HarnessOptions options, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (task.OutputType != TaskOutputType.GenerateUntil && !model.SupportsLogLikelihood)
            throw new NotSupportedException($"Task {task.Name} ({task.SourcePath}) needs log-likelihoods ({task.OutputType}); {model.Name} cannot return them. Run it with --model, or choose generate_until tasks.");
        var (train, test) = LoadSplits(task, options.Seed);
        if (options.Limit > 0 && test.Count > options.Limit) test = test.GetRange(0, options.Limit);
        int shots = options.Shots ?? task.NumFewshot;
        if (shots > 0 && train.Count < shots)
            throw new ArgumentException($"--shots {shots}: task {task.Name} has {train.Count} training documents to draw examples from ({(task.TrainPath ?? "no dataset.train and no dataset.holdout")} in {task.SourcePath}); lower --shots or add dataset.train.");

        var rng = new SplitMix64(options.Seed);
        var contexts = new string[test.Count];
        for (int i = 0; i < test.Count; i++)
        {
            string prefix = task.Description;
            if (shots > 0)
            {
                var picks = Sample(rng, train.Count, shots);
                prefix += string.Join(task.FewshotDelimiter, picks.Select(j => task.DocToText.Render(train[j], $"{task.TrainPath} document {j}") + task.TargetDelimiter + TargetText(task, train[j], $"{task.TrainPath} document {j}")))
                    + task.FewshotDelimiter;
            }
            contexts[i] = prefix + task.DocToText.Render(test[i], $"{task.TestPath} document {i}");
        }

        return task.OutputType switch
        {
            TaskOutputType.MultipleChoice => await MultipleChoiceAsync(task, model, options, test, contexts, shots, progress, cancellationToken).ConfigureAwait(false),
            TaskOutputType.GenerateUntil => await GenerateAsync(task, model, options, test, contexts, shots, progress, cancellationToken).ConfigureAwait(false),
            _ => await LogLikelihoodAsync(task, model, options, test, contexts, shots, progress, cancellationToken).ConfigureAwait(false),
        };
    }

    // k distinct indexes of [0, n) (partial Fisher–Yates), in draw order.
    private static int[] Sample(SplitMix64 rng, int n, int k)
    {
        var pool = new int[n];
        for (int i = 0; i < n; i++) pool[i] = i;
        for (int i = 0; i < k; i++)
        {
            int j = i + rng.Next(n - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..k];
    }

    private static IReadOnlyList<string> ChoicesOf(TaskDefinition task, JsonObject doc, string where)
    {
        if (task.Choices != null) return task.Choices.Select(c => c.Render(doc, where)).ToList();
        if (task.ChoicesField is null) return [];
        var node = PromptTemplate.Parse("{{" + task.ChoicesField + "}}", task.SourcePath).RenderValue(doc, where);
        return node is JsonArray a && a.Count > 0 ? a.Select(x => x is JsonValue v && v.TryGetValue(out string? s) ? s : x?.ToJsonString() ?? "").ToList()
            : throw new InvalidDataException($"{where}: {task.ChoicesField} is {node?.ToJsonString() ?? "null"}; doc_to_choice needs a non-empty list of texts.");
    }

    private static int GoldIndex(TaskDefinition task, JsonObject doc, IReadOnlyList<string> choices, string where)
    {
        var value = task.DocToTarget.RenderValue(doc, where);
        if (value is JsonValue v && v.TryGetValue(out int index))
            return index >= 0 && index < choices.Count ? index : throw new InvalidDataException($"{where}: the gold index {index} is outside the {choices.Count} choices.");
        string text = value is JsonValue t && t.TryGetValue(out string? s) ? s : value?.ToJsonString() ?? "";
        int found = choices.ToList().IndexOf(text);
        return found >= 0 ? found : throw new InvalidDataException($"{where}: the target \"{text}\" is none of the choices [{string.Join(", ", choices)}]; doc_to_target must give a choice or its index.");
    }

    // The text a few-shot example shows after its question: the gold choice for multiple choice, else the target.
    private static string TargetText(TaskDefinition task, JsonObject doc, string where)
    {
        if (task.OutputType != TaskOutputType.MultipleChoice) return task.DocToTarget.Render(doc, where);
        var choices = ChoicesOf(task, doc, where);
        return choices[GoldIndex(task, doc, choices, where)];
    }

    private static async Task<IReadOnlyList<T>> ChunkedAsync<TRequest, T>(IReadOnlyList<TRequest> requests, Func<IReadOnlyList<TRequest>, Task<IReadOnlyList<T>>> call, int chunk, IProgress<(int, int)>? progress)
    {
        var all = new List<T>(requests.Count);
        for (int start = 0; start < requests.Count; start += chunk)
        {
            var part = requests.Skip(start).Take(chunk).ToList();
            var got = await call(part).ConfigureAwait(false);
            if (got.Count != part.Count) throw new InvalidOperationException($"the model answered {got.Count} of {part.Count} requests.");
            all.AddRange(got);
            progress?.Report((all.Count, requests.Count));
        }
        return all;
    }

    private static async Task<TaskResult> MultipleChoiceAsync(TaskDefinition task, ITaskModel model, HarnessOptions options, List<JsonObject> test, string[] contexts, int shots, IProgress<(int, int)>? progress, CancellationToken ct)
    {
        var requests = new List<LogLikelihoodRequest>();
        var choices = new IReadOnlyList<string>[test.Count];
        var gold = new int[test.Count];
        for (int i = 0; i < test.Count; i++)
        {
            string where = $"{task.TestPath} document {i}";
            choices[i] = ChoicesOf(task, test[i], where);
            gold[i] = GoldIndex(task, test[i], choices[i], where);
            foreach (var c in choices[i]) requests.Add(new LogLikelihoodRequest(contexts[i], task.TargetDelimiter + c));
        }
        var results = await ChunkedAsync(requests, r => model.LogLikelihoodAsync(r, ct), options.ChunkSize, progress).ConfigureAwait(false);
        var acc = new double[test.Count];
        var accNorm = new double[test.Count];
        var samples = new List<JsonObject>(test.Count);
        int at = 0;
        for (int i = 0; i < test.Count; i++)
        {
            var lls = new double[choices[i].Count];
            for (int c = 0; c < lls.Length; c++) lls[c] = results[at + c].LogLikelihood;
            int pred = ArgMax(lls, c => lls[c]);
            // Python's len(str) counts code points; a surrogate pair is one character there.
            int predNorm = ArgMax(lls, c => lls[c] / choices[i][c].EnumerateRunes().Count());
            acc[i] = pred == gold[i] ? 1 : 0;
            accNorm[i] = predNorm == gold[i] ? 1 : 0;
            samples.Add(new JsonObject
            {
                ["doc"] = i, ["prompt"] = contexts[i], ["choices"] = new JsonArray([.. choices[i].Select(c => (JsonNode)c)]), ["gold"] = gold[i],
                ["loglikelihoods"] = new JsonArray([.. lls.Select(v => (JsonNode)v)]),
                ["is_greedy"] = new JsonArray([.. Enumerable.Range(at, lls.Length).Select(k => (JsonNode)results[k].IsGreedy)]),
                ["pred"] = pred, ["pred_norm"] = predNorm, ["acc"] = acc[i], ["acc_norm"] = accNorm[i],
            });
            at += lls.Length;
        }
        var metrics = new Dictionary<string, BootstrapInterval>();
        foreach (var m in task.EffectiveMetrics)
            metrics[m] = Bootstrap.Mean(m == "acc" ? acc : accNorm, options.BootstrapResamples, options.Confidence, options.Seed);
        return new TaskResult { Name = task.Name, OutputType = task.OutputType, SourcePath = task.SourcePath, Documents = test.Count, Shots = shots, Metrics = metrics, Samples = samples };
    }

    // numpy.argmax: the first index of the maximum.
    private static int ArgMax(double[] values, Func<int, double> score)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (score(i) > score(best)) best = i;
        return best;
    }

    private static async Task<TaskResult> GenerateAsync(TaskDefinition task, ITaskModel model, HarnessOptions options, List<JsonObject> test, string[] contexts, int shots, IProgress<(int, int)>? progress, CancellationToken ct)
    {
        var requests = contexts.Select((c, i) => new GenerationTaskRequest
        {
            Prompt = c, MaxNewTokens = task.MaxNewTokens, Temperature = task.Temperature, TopP = task.TopP, Stop = task.Until,
            Seed = unchecked((int)options.Seed + i),
        }).ToList();
        var outputs = await ChunkedAsync(requests, r => model.GenerateAsync(r, ct), options.ChunkSize, progress).ConfigureAwait(false);
        var answer = task.AnswerRegex is { } ar ? new Regex(ar) : null;
        var target = task.TargetRegex is { } tr ? new Regex(tr) : null;
        var ignore = task.IgnoreRegex is { } ir ? new Regex(ir) : null;
        var em = new double[test.Count];
        var f1 = new double[test.Count];
        var samples = new List<JsonObject>(test.Count);
        for (int i = 0; i < test.Count; i++)
        {
            string where = $"{task.TestPath} document {i}";
            string output = CutAtStop(outputs[i], task.Until);
            string predicted = Extract(answer, output, task.AnswerRegexLast) ?? "[invalid]";
            List<string> refs;
            if (task.ReferencesField is { } rf)
            {
                var node = PromptTemplate.Parse("{{" + rf + "}}", task.SourcePath).RenderValue(test[i], where);
                refs = node is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? "").ToList()
                    : [node?.GetValue<string>() ?? ""];
                if (refs.Count == 0) refs = [""];   // SQuAD 2.0: an unanswerable question's reference is the empty answer
            }
            else
            {
                string t = task.DocToTarget.Render(test[i], where);
                refs = [Extract(target, t, last: true) ?? t];
            }
            string Clean(string s) => (ignore is null ? s : ignore.Replace(s, "")).Trim();
            em[i] = AnswerScoring.Best((p, r) => task.Normalize == "squad" ? AnswerScoring.ExactMatch(p, r) : Clean(p) == Clean(r) ? 1 : 0, predicted, refs);
            f1[i] = AnswerScoring.Best(AnswerScoring.F1, predicted == "[invalid]" ? "" : predicted, refs);
            samples.Add(new JsonObject
            {
                ["doc"] = i, ["prompt"] = contexts[i], ["output"] = output, ["answer"] = predicted,
                ["references"] = new JsonArray([.. refs.Select(r => (JsonNode)r)]), ["exact_match"] = em[i], ["f1"] = f1[i],
            });
        }
        var metrics = new Dictionary<string, BootstrapInterval>();
        foreach (var m in task.EffectiveMetrics)
            metrics[m] = Bootstrap.Mean(m == "f1" ? f1 : em, options.BootstrapResamples, options.Confidence, options.Seed);
        return new TaskResult { Name = task.Name, OutputType = task.OutputType, SourcePath = task.SourcePath, Documents = test.Count, Shots = shots, Metrics = metrics, Samples = samples };
    }

    /// <summary>The text before the first stop sequence (a model may overrun one that straddles tokens).</summary>
    public static string CutAtStop(string text, IReadOnlyList<string> stops)
    {
        int cut = text.Length;
        foreach (var s in stops)
            if (s.Length > 0 && text.IndexOf(s, StringComparison.Ordinal) is int k and >= 0 && k < cut) cut = k;
        return text[..cut];
    }

    private static string? Extract(Regex? regex, string text, bool last)
    {
        if (regex is null) return text.Trim();
        var matches = regex.Matches(text);
        if (matches.Count == 0) return null;
        var m = last ? matches[^1] : matches[0];
        // The first group that took part in the match (alternations leave the others empty), else the whole match.
        for (int g = 1; g < m.Groups.Count; g++)
            if (m.Groups[g].Success) return m.Groups[g].Value.Trim();
        return m.Value.Trim();
    }

    private static async Task<TaskResult> LogLikelihoodAsync(TaskDefinition task, ITaskModel model, HarnessOptions options, List<JsonObject> test, string[] contexts, int shots, IProgress<(int, int)>? progress, CancellationToken ct)
    {
        var targets = test.Select((d, i) => task.DocToTarget.Render(d, $"{task.TestPath} document {i}")).ToArray();
        var requests = contexts.Select((c, i) => new LogLikelihoodRequest(c, task.TargetDelimiter + targets[i])).ToList();
        var results = await ChunkedAsync(requests, r => model.LogLikelihoodAsync(r, ct), options.ChunkSize, progress).ConfigureAwait(false);
        var ll = results.Select(r => r.LogLikelihood).ToArray();
        var greedy = results.Select(r => r.IsGreedy ? 1.0 : 0.0).ToArray();
        var samples = test.Select((_, i) => new JsonObject
        {
            ["doc"] = i, ["prompt"] = contexts[i], ["target"] = targets[i], ["loglikelihood"] = ll[i], ["tokens"] = results[i].Tokens, ["is_greedy"] = results[i].IsGreedy,
        }).ToList();
        var metrics = new Dictionary<string, BootstrapInterval>();
        foreach (var m in task.EffectiveMetrics)
            metrics[m] = m switch
            {
                "loglikelihood" => Bootstrap.Mean(ll, options.BootstrapResamples, options.Confidence, options.Seed),
                "acc" => Bootstrap.Mean(greedy, options.BootstrapResamples, options.Confidence, options.Seed),
                // perplexity exp(−mean ll), bootstrapped as a statistic of the resampled documents
                _ => Bootstrap.Statistic(ll.Length, idx => Math.Exp(-idx.Average(k => ll[k])), options.BootstrapResamples, options.Confidence, options.Seed),
            };
        return new TaskResult { Name = task.Name, OutputType = task.OutputType, SourcePath = task.SourcePath, Documents = test.Count, Shots = shots, Metrics = metrics, Samples = samples };
    }
}
