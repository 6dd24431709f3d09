// One document flowing through the curation pipeline: its id, its text (stages may rewrite it:
// normalisation, PII redaction), the fields of its source record kept as metadata, and where it
// came from (file and line) for error messages and the audit.
using System.Text.Json.Nodes;

namespace Loom.Data.Documents;

/// <summary>A document and its provenance.</summary>
public sealed class Document
{
    /// <summary>Stable id: the record's "id" field when it has one, else "file-stem:line".</summary>
    public required string Id { get; init; }

    /// <summary>The text; stages may replace it.</summary>
    public required string Text { get; set; }

    private JsonObject? _metadata;

    /// <summary>The source record's other fields (JSONL) or columns (CSV); null for plain text.</summary>
    public JsonObject? Metadata
    {
        get => _metadata ??= MetadataJson is { } raw ? JsonNode.Parse("{" + System.Text.Encoding.UTF8.GetString(raw) + "}")!.AsObject() : null;
        init => _metadata = value;
    }

    /// <summary>
    /// The JSONL record's other members exactly as read (UTF-8, comma-separated, without braces), so that
    /// writers copy them instead of parsing and re-serialising them; null when there are none.
    /// </summary>
    public byte[]? MetadataJson { get; init; }

    /// <summary>Position of <see cref="Source"/> in the run's list of input files.</summary>
    public int SourceIndex { get; set; }

    /// <summary>Source file.</summary>
    public required string Source { get; init; }

    /// <summary>1-based line of the record's start in its file.</summary>
    public long Line { get; init; }

    /// <summary>Position in the whole input (0-based), the order documents are read in; decides which duplicate survives.</summary>
    public long Index { get; set; }
}

/// <summary>A line that could not be read as a document (malformed JSON, missing field), kept for the audit.</summary>
public sealed record QuarantinedRecord(string Source, long Line, string Reason, string Raw);
