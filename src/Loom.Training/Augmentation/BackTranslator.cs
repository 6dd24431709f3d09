// Back-translation through two local translators (there: e.g. T5's "translate English to German: ";
// back: a model or prefix that returns to the source language): the record's text becomes the
// round trip, and the provenance names both models and the pivot text, as EndpointRewriter's does.
namespace Loom.Training.Augmentation;

/// <summary>Text → <see cref="There"/> → <see cref="Back"/>.</summary>
public sealed class BackTranslator(ITextTranslator there, ITextTranslator back)
{
    public ITextTranslator There { get; } = there ?? throw new ArgumentNullException(nameof(there));
    public ITextTranslator Back { get; } = back ?? throw new ArgumentNullException(nameof(back));

    /// <summary>The round trip of <paramref name="text"/>; the pivot text goes into the changes.</summary>
    public async Task<AugmentedText> BackTranslateAsync(string text, CancellationToken ct = default)
    {
        string pivot = await There.TranslateAsync(text, ct).ConfigureAwait(false);
        string round = await Back.TranslateAsync(pivot, ct).ConfigureAwait(false);
        return new AugmentedText(round.Trim(), "backtranslate", [$"via {There.Name}: {pivot}", $"back with {Back.Name}"]);
    }
}
