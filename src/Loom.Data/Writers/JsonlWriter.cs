// JSON Lines output, optionally gzipped, one record per document: id, the text under the input's
// field name, then the source record's other fields. Written to "<path>.tmp" and renamed on
// Complete, so a crash never leaves a truncated file under the final name.
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Data.Documents;

namespace Loom.Data.Writers;

/// <summary>Writes documents as JSON lines.</summary>
public sealed class JsonlWriter : IDisposable
{
    private static readonly byte[] Newline = [(byte)'\n'];
    private readonly string _path, _tmp;
    private readonly Stream _file;
    private readonly Stream _stream;
    private readonly Utf8JsonWriter _json;
    private bool _completed;

    /// <summary>Records written.</summary>
    public long Count { get; private set; }

    /// <param name="path">Final path; ".gz" compresses.</param>
    public JsonlWriter(string path)
    {
        _path = path;
        _tmp = path + ".tmp";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _file = new FileStream(_tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        _stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(_file, CompressionLevel.Fastest) : _file;
        _json = new Utf8JsonWriter(_stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
    }

    /// <summary>Writes one record: id, text (under <paramref name="textField"/>), <paramref name="extra"/> fields, then metadata.</summary>
    public void Write(Document doc, string textField, Action<Utf8JsonWriter>? extra = null)
    {
        _json.WriteStartObject();
        _json.WriteString("id", doc.Id);
        _json.WriteString(textField, doc.Text);
        extra?.Invoke(_json);
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
        _stream.Flush();
        if (_stream != _file) _stream.Dispose();
        ((FileStream)_file).Flush(flushToDisk: true);
        _file.Dispose();
        File.Move(_tmp, _path, overwrite: true);
        _completed = true;
    }

    public void Dispose()
    {
        if (_completed) return;
        _json.Dispose();
        _stream.Dispose();
        _file.Dispose();
        try { File.Delete(_tmp); } catch (IOException) { }
    }
}
