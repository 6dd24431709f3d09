// One direction of a translation, as back-translation needs it (Sennrich et al. 2016): text in, text
// out. Loom.Training knows no generator, so a local encoder-decoder (T5 through Seq2SeqGenerator,
// `loom augment --model DIR`) plugs in here from the caller's side; the endpoint path keeps
// EndpointRewriter.
namespace Loom.Training.Augmentation;

/// <summary>Translates one text in one direction.</summary>
public interface ITextTranslator
{
    /// <summary>Where the translation comes from, for the provenance record (e.g. the model directory's name).</summary>
    string Name { get; }

    /// <summary>The translation of <paramref name="text"/>.</summary>
    Task<string> TranslateAsync(string text, CancellationToken cancellationToken = default);
}
