// JSON Lines output, optionally gzipped, one record per document: id, the text under the input's
// field name, then the source record's other fields. Written to "<path>.tmp" and renamed on
// Complete, so a crash never leaves a truncated file under the final name.
using Loom.Core.IO;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Data.Documents;

namespace Loom.Data.Writers;

/// <summary>Writes documents as JSON lines.</summary>
public sealed class JsonlWriter : IDisposable
{
    private static readonly byte[] Newline = [(byte)'\n'];
    private readonly DurableFileWriter _durable;
    private readonly FileStream _file;
    private readonly Stream _stream;
    private readonly Utf8JsonWriter _json;
    private bool _completed;

    /// <summary>Records written.</summary>
    public long Count { get; private set; }

    /// <param name="path">Final path; ".gz" compresses.</param>
    public JsonlWriter(string path)
    {
        _durable = DurableFile.Create(path);
        _file = _durable.Stream;
        _stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(_file, CompressionLevel.Fastest, leaveOpen: true) : _file;
        _json = new Utf8JsonWriter(_stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
    }

    /// <summary>Writes one record: id, text (under <paramref name="textField"/>), <paramref name="extra"/> fields, then metadata.</summary>
    public void Write(Document doc, string textField, Action<Utf8JsonWriter>? extra = null)
    {
        _json.WriteStartObject();
        _json.WriteString("id", doc.Id);
        _json.WriteString(textField, doc.Text);
        extra?.Invoke(_json);
        if (doc.MetadataJson is { } raw)
        {
            // The source's members verbatim, then the closing brace the writer would have written.
            _json.Flush();
            _stream.WriteByte((byte)',');
            _stream.Write(raw);
            _stream.Write("}\n"u8);
            _json.Reset();
            Count++;
            return;
        }
        if (doc.Metadata != null)
            foreach (var (key, value) in doc.Metadata)
            {
                if (key == "id" || key == textField) continue;
                _json.WritePropertyName(key);
                if (value is null) _json.WriteNullValue();
                else value.WriteTo(_json);
            }
        _json.WriteEndObject();
        _json.Flush();
        _stream.Write(Newline);
        _json.Reset();
        Count++;
    }

    /// <summary>Copies a file of whole JSON lines.</summary>
    public void CopyFrom(Stream lines) => lines.CopyTo(_stream);

    /// <summary>Writes bytes that already form whole JSON lines (each ending in '\n').</summary>
    public void WriteLines(ReadOnlySpan<byte> lines)
    {
        _stream.Write(lines);
        Count += lines.Count((byte)'\n');
    }

    /// <summary>Writes one JSON line held as bytes (without its '\n'), adding <paramref name="members"/> (UTF-8 JSON members, comma-separated) before its closing brace.</summary>
    public void WriteLine(ReadOnlySpan<byte> line, ReadOnlySpan<byte> members = default)
    {
        if (members.IsEmpty) _stream.Write(line);
        else
        {
            int close = line.LastIndexOf((byte)'}');
            if (close < 0) throw new InvalidDataException("A spooled record is not a JSON object; delete the shard folder and run it again.");
            _stream.Write(line[..close]);
            _stream.WriteByte((byte)',');
            _stream.Write(members);
            _stream.Write(line[close..]);
        }
        _stream.Write(Newline);
        Count++;
    }

    /// <summary>Bytes written so far to the uncompressed stream (the spool offsets of the records).</summary>
    public long Position => _stream == _file ? _file.Position : throw new NotSupportedException("Position is known only for an uncompressed file.");

    /// <summary>Writes a raw JSON object line.</summary>
    public void WriteRaw(JsonObject record)
    {
        record.WriteTo(_json);
        _json.Flush();
        _stream.Write(Newline);
        _json.Reset();
        Count++;
    }

    /// <summary>Flushes, fsyncs and renames to the final path.</summary>
    public void Complete()
    {
        _json.Flush();
        if (_stream != _file) _stream.Dispose();     // writes the gzip trailer; the file stays open (leaveOpen)
        _durable.Commit();
        _completed = true;
    }

    /// <summary>Without <see cref="Complete"/>: closes and deletes the temporary file, so no partial output remains.</summary>
    public void Dispose()
    {
        if (_completed) return;
        _completed = true;
        // Best effort: this runs while another exception is propagating, which must not be masked.
        try { _json.Dispose(); } catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        try { _stream.Dispose(); } catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        _durable.Dispose();
    }
}
