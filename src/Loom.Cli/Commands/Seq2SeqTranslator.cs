// `loom augment --method backtranslate --model DIR`'s translator: a task prefix (T5's
// "translate English to German: ") before the text, then the directory's greedy target — exactly what
// `loom generate --model DIR --prompt PREFIX+TEXT --temperature 0` prints.
using Loom.Inference.Seq2Seq;
using Loom.Training.Augmentation;

namespace Loom.Cli.Commands;

internal sealed class Seq2SeqTranslator(Seq2SeqTextModel model, string prefix, Seq2SeqGenerationOptions options) : ITextTranslator
{
    public string Name { get; } = $"{new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(model.Directory))).Name}" + (prefix.Length > 0 ? $" (\"{prefix.TrimEnd()}\")" : "");

    public Task<string> TranslateAsync(string text, CancellationToken cancellationToken = default) =>
        Task.FromResult(model.Generate(prefix + text, options, cancellationToken).Text);
}
