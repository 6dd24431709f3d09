// Reads task YAML files into TaskDefinition, checking every key: an unknown key, a wrong type or a
// missing field is an error naming the file, the line and what to write instead. Paths in the
// dataset block are relative to the YAML file; ${NAME} in them is replaced from the variables the
// caller passes (loom eval harness --var NAME=VALUE) or the environment, so a task over data that
// cannot be shipped (IMDB) reads the user's own copy.
using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Loom.Evaluation.Harness;

/// <summary>Loads task files.</summary>
public static class TaskLoader
{
    private static readonly HashSet<string> TopKeys =
    [
        "task", "output_type", "description", "dataset", "doc_to_text", "doc_to_target", "doc_to_choice", "target_delimiter",
        "fewshot_delimiter", "num_fewshot", "generation_kwargs", "answer_regex", "answer_regex_last", "target_regex", "ignore_regex",
        "references_field", "normalize", "metrics", "licence", "license", "source",
    ];
    private static readonly HashSet<string> DatasetKeys = ["test", "train", "holdout"];
    private static readonly HashSet<string> HoldoutKeys = ["test_fraction", "stratify", "group"];
    private static readonly HashSet<string> GenerationKeys = ["max_new_tokens", "max_gen_toks", "until", "temperature", "top_p", "do_sample"];

    /// <summary>
    /// A --tasks argument as a file path: a YAML file as given, or a shipped task name found as
    /// data/tasks/NAME/task.yaml above the working directory or the program's directory.
    /// </summary>
    public static string Resolve(string task)
    {
        if (task.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || task.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || File.Exists(task))
            return File.Exists(task) ? task : throw new FileNotFoundException($"--tasks {task}: no such task file.", task);
        if (task.IndexOfAny(['/', '\\']) < 0)
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
                for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                {
                    string p = Path.Combine(d.FullName, "data", "tasks", task, "task.yaml");
                    if (File.Exists(p)) return p;
                }
        throw new ArgumentException($"--tasks {task}: not a task file and no shipped task of that name (data/tasks/{task}/task.yaml; run from the repository root, or pass a YAML file).");
    }

    /// <summary>Loads one task file; <paramref name="variables"/> fill ${NAME} in dataset paths (then the environment).</summary>
    public static TaskDefinition Load(string path, IReadOnlyDictionary<string, string>? variables = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Task file {path} does not exist.", path);
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new FormatException($"{path}:{e.Start.Line}: not valid YAML: {e.Message}", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new FormatException($"{path}: a task file is a YAML mapping (task:, output_type:, dataset:, doc_to_text:, ...).");
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        CheckKeys(root, TopKeys, path, "");

        string name = Str(root, "task", path) ?? Path.GetFileNameWithoutExtension(path);
        string typeText = Str(root, "output_type", path) ?? throw Missing(path, root, "output_type", "multiple_choice, generate_until or loglikelihood");
        var type = typeText switch
        {
            "multiple_choice" => TaskOutputType.MultipleChoice,
            "generate_until" => TaskOutputType.GenerateUntil,
            "loglikelihood" => TaskOutputType.LogLikelihood,
            _ => throw new FormatException($"{At(path, root, "output_type")}: output_type is \"{typeText}\"; it must be multiple_choice, generate_until or loglikelihood."),
        };

        var dataset = Map(root, "dataset", path) ?? throw Missing(path, root, "dataset", "a mapping with test: FILE.jsonl (and train: FILE.jsonl for few-shot)");
        CheckKeys(dataset, DatasetKeys, path, "dataset.");
        string test = ResolvePath(Str(dataset, "test", path) ?? throw Missing(path, dataset, "dataset.test", "the test JSONL file"), dir, variables, At(path, dataset, "test"));
        string? train = Str(dataset, "train", path) is { } tr ? ResolvePath(tr, dir, variables, At(path, dataset, "train")) : null;
        double? holdout = null;
        string? stratify = null, group = null;
        if (Map(dataset, "holdout", path) is { } h)
        {
            CheckKeys(h, HoldoutKeys, path, "dataset.holdout.");
            holdout = Num(h, "test_fraction", path) ?? throw Missing(path, h, "dataset.holdout.test_fraction", "a fraction between 0 and 1");
            if (!(holdout > 0 && holdout < 1)) throw new FormatException($"{At(path, h, "test_fraction")}: dataset.holdout.test_fraction is {holdout}; it must lie strictly between 0 and 1.");
            if (train != null) throw new FormatException($"{At(path, h, "test_fraction")}: dataset.holdout splits the test file into train and test; remove it or dataset.train.");
            stratify = Str(h, "stratify", path);
            group = Str(h, "group", path);
        }

        var text = Template(root, "doc_to_text", path) ?? throw Missing(path, root, "doc_to_text", "the prompt template, e.g. \"Question: {{question}}\\nAnswer:\"");
        var target = Template(root, "doc_to_target", path) ?? throw Missing(path, root, "doc_to_target", "the gold answer template, e.g. \"{{label}}\"");
        IReadOnlyList<PromptTemplate>? choices = null;
        string? choicesField = null;
        if (root.Children.TryGetValue(new YamlScalarNode("doc_to_choice"), out var choiceNode))
        {
            if (choiceNode is YamlSequenceNode seq)
                choices = seq.Children.Select((c, i) => PromptTemplate.Parse(c is YamlScalarNode s ? s.Value ?? "" : throw new FormatException($"{path}:{c.Start.Line}: doc_to_choice[{i}] must be text."), $"{path}:{c.Start.Line} doc_to_choice[{i}]")).ToList();
            else if (choiceNode is YamlScalarNode s && PromptTemplate.Parse(s.Value ?? "", $"{path}:{s.Start.Line} doc_to_choice") is { IsSingleField: true } single)
                choicesField = single.Source.Trim().TrimStart('{').TrimEnd('}').Trim();
            else throw new FormatException($"{path}:{choiceNode.Start.Line}: doc_to_choice must be a list of choice texts or one field holding a list (\"{{{{choices}}}}\").");
        }
        if (type == TaskOutputType.MultipleChoice && choices is null && choicesField is null)
            throw Missing(path, root, "doc_to_choice", "the choices: a list such as [ham, spam] or a list field \"{{choices}}\"");

        int maxNew = 256;
        float temperature = 0, topP = 1;
        IReadOnlyList<string> until = ["\n\n"];
        if (Map(root, "generation_kwargs", path) is { } g)
        {
            CheckKeys(g, GenerationKeys, path, "generation_kwargs.");
            maxNew = (int)(Num(g, "max_new_tokens", path) ?? Num(g, "max_gen_toks", path) ?? 256);
            if (maxNew < 1) throw new FormatException($"{At(path, g, "max_new_tokens")}: generation_kwargs.max_new_tokens must be ≥ 1.");
            temperature = (float)(Num(g, "temperature", path) ?? 0);
            topP = (float)(Num(g, "top_p", path) ?? 1);
            if (temperature < 0) throw new FormatException($"{At(path, g, "temperature")}: generation_kwargs.temperature must be ≥ 0 (0 is greedy).");
            if (g.Children.TryGetValue(new YamlScalarNode("until"), out var u))
                until = u is YamlSequenceNode us ? us.Children.Select(c => Unescape((c as YamlScalarNode)?.Value ?? "")).ToList()
                    : u is YamlScalarNode one ? [Unescape(one.Value ?? "")] : throw new FormatException($"{path}:{u.Start.Line}: generation_kwargs.until must be a list of stop sequences.");
        }

        var metrics = new List<string>();
        if (root.Children.TryGetValue(new YamlScalarNode("metrics"), out var mNode))
        {
            if (mNode is not YamlSequenceNode ms) throw new FormatException($"{path}:{mNode.Start.Line}: metrics must be a list such as [acc, acc_norm].");
            foreach (var m in ms.Children)
            {
                // lm-eval writes metrics as [{metric: acc}, ...]; a plain list of names is accepted too.
                string? metric = m is YamlScalarNode s ? s.Value : m is YamlMappingNode mm && mm.Children.TryGetValue(new YamlScalarNode("metric"), out var v) ? (v as YamlScalarNode)?.Value : null;
                if (metric is null || !TaskDefinition.Allowed[type].Contains(metric))
                    throw new FormatException($"{path}:{m.Start.Line}: metric \"{metric}\" is not available for output_type {typeText}; choose from {string.Join(", ", TaskDefinition.Allowed[type])}.");
                metrics.Add(metric);
            }
        }

        int shots = (int)(Num(root, "num_fewshot", path) ?? 0);
        if (shots < 0) throw new FormatException($"{At(path, root, "num_fewshot")}: num_fewshot must be ≥ 0.");
        string? answerRegex = Str(root, "answer_regex", path), targetRegex = Str(root, "target_regex", path), ignoreRegex = Str(root, "ignore_regex", path);
        foreach (var (key, rx) in new[] { ("answer_regex", answerRegex), ("target_regex", targetRegex), ("ignore_regex", ignoreRegex) })
        {
            if (rx is null) continue;
            try { _ = new System.Text.RegularExpressions.Regex(rx); }
            catch (ArgumentException e) { throw new FormatException($"{At(path, root, key)}: {key} does not compile: {e.Message}", e); }
        }
        return new TaskDefinition
        {
            Name = name, SourcePath = Path.GetFullPath(path), OutputType = type, Description = Str(root, "description", path) ?? "",
            TestPath = test, TrainPath = train, HoldoutTestFraction = holdout, StratifyField = stratify, GroupField = group,
            DocToText = text, DocToTarget = target, Choices = choices, ChoicesField = choicesField,
            TargetDelimiter = Str(root, "target_delimiter", path) ?? " ", FewshotDelimiter = Str(root, "fewshot_delimiter", path) ?? "\n\n", NumFewshot = shots,
            MaxNewTokens = maxNew, Temperature = temperature, TopP = topP, Until = until,
            AnswerRegex = answerRegex, AnswerRegexLast = Bool(root, "answer_regex_last", path) ?? false, TargetRegex = targetRegex, IgnoreRegex = ignoreRegex,
            ReferencesField = Str(root, "references_field", path), Metrics = metrics,
            Normalize = Str(root, "normalize", path) is { } norm ? (norm is "squad" or "none" ? norm : throw new FormatException($"{At(path, root, "normalize")}: normalize is \"{norm}\"; it must be squad or none.")) : "none",
        };
    }

    private static string Unescape(string s) => s;

    private static string ResolvePath(string raw, string dir, IReadOnlyDictionary<string, string>? variables, string where)
    {
        string expanded = System.Text.RegularExpressions.Regex.Replace(raw, @"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", m =>
            variables != null && variables.TryGetValue(m.Groups[1].Value, out var v) ? v
            : Environment.GetEnvironmentVariable(m.Groups[1].Value)
              ?? throw new ArgumentException($"{where}: the path {raw} needs ${{{m.Groups[1].Value}}}; pass --var {m.Groups[1].Value}=PATH (or set the environment variable)."));
        return Path.GetFullPath(Path.IsPathRooted(expanded) ? expanded : Path.Combine(dir, expanded));
    }

    private static void CheckKeys(YamlMappingNode map, HashSet<string> allowed, string path, string prefix)
    {
        foreach (var (k, _) in map.Children)
            if (k is not YamlScalarNode s || s.Value is null || !allowed.Contains(s.Value))
                throw new FormatException($"{path}:{k.Start.Line}: unknown key {prefix}{(k as YamlScalarNode)?.Value}; allowed here: {string.Join(", ", allowed.Order())}.");
    }

    private static string At(string path, YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var n) ? $"{path}:{n.Start.Line}" : $"{path}:{map.Start.Line}";

    private static FormatException Missing(string path, YamlMappingNode map, string key, string what) =>
        new($"{path}:{map.Start.Line}: {key} is missing; it must be {what}.");

    private static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var n) ? n : null;

    private static string? Str(YamlMappingNode map, string key, string path) => Get(map, key) switch
    {
        null => null,
        YamlScalarNode s => s.Value ?? "",
        var n => throw new FormatException($"{path}:{n.Start.Line}: {key} must be text, not a {(n is YamlSequenceNode ? "list" : "mapping")}."),
    };

    private static double? Num(YamlMappingNode map, string key, string path) => Str(map, key, path) is not { } s ? null
        : double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d
        : throw new FormatException($"{At(path, map, key)}: {key} is \"{s}\"; it must be a number.");

    private static bool? Bool(YamlMappingNode map, string key, string path) => Str(map, key, path) is not { } s ? null
        : s is "true" or "True" ? true : s is "false" or "False" ? false
        : throw new FormatException($"{At(path, map, key)}: {key} is \"{s}\"; it must be true or false.");

    private static YamlMappingNode? Map(YamlMappingNode map, string key, string path) => Get(map, key) switch
    {
        null => null,
        YamlMappingNode m => m,
        var n => throw new FormatException($"{path}:{n.Start.Line}: {key} must be a mapping (key: value lines indented under it)."),
    };

    private static PromptTemplate? Template(YamlMappingNode map, string key, string path) =>
        Str(map, key, path) is { } s ? PromptTemplate.Parse(s, $"{At(path, map, key)} {key}") : null;
}
