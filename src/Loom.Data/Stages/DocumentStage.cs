// A map stage of the curation pipeline: looks at one document, may rewrite its text (normalisation,
// redaction) and either keeps it or removes it with a reason. Stages hold no per-document state, so
// one instance serves every worker thread.
using Loom.Data.Documents;

namespace Loom.Data.Stages;

/// <summary>What a stage decided.</summary>
public readonly record struct Verdict(string? Reason, string? Detail = null)
{
    /// <summary>Keep the document.</summary>
    public static Verdict Keep => default;

    /// <summary>True when the stage removes the document.</summary>
    public bool Removed => Reason != null;

    /// <summary>Remove with a machine-readable reason ("gopher_short_doc") and an optional human detail.</summary>
    public static Verdict Remove(string reason, string? detail = null) => new(reason, detail);
}

/// <summary>One map stage.</summary>
public interface IDocumentStage
{
    /// <summary>Stage name in the audit ("gopher_quality", "pii", ...).</summary>
    string Name { get; }

    /// <summary>Processes <paramref name="document"/> (its text may be replaced).</summary>
    Verdict Process(Document document);
}
