// RFC 4180 CSV records for labelled data: a header row names the columns; a field may be quoted
// ("..."), a quoted field may hold commas, doubled quotes ("") and line breaks. Each record keeps the
// line it starts on, so an error can name file:line. A ragged row (other width than the header), an
// unbalanced quote or text after a closing quote is an error, never a guess: a mis-split row would
// silently pair a text with another row's label.
using System.Text;

namespace Loom.Training.Classification;

/// <summary>Reads a CSV file's records with their starting line numbers.</summary>
public static class CsvRecords
{
    /// <summary>A quoted field may span at most this many lines before the quote is taken as unbalanced.</summary>
    public const int MaxQuotedLines = 1_000;

    /// <summary>The records after the header, as (line, fields); <paramref name="header"/> receives the column names.</summary>
    public static IEnumerable<(long Line, string[] Fields)> Read(TextReader reader, string source, Action<string[]> header)
    {
        long line = 0;
        string[]? columns = null;
        while (true)
        {
            string? first = reader.ReadLine();
            if (first is null) yield break;
            line++;
            long start = line;
            if (first.Length == 0 && columns != null) continue;   // a blank line between records holds no record
            var fields = new List<string>();
            var field = new StringBuilder();
            string text = first;
            int i = 0;
            bool done = false;
            while (!done)
            {
                field.Clear();
                if (i < text.Length && text[i] == '"')
                {
                    i++;
                    int lines = 0;
                    while (true)
                    {
                        if (i >= text.Length)
                        {
                            string? next = ++lines > MaxQuotedLines ? null : reader.ReadLine();
                            if (next is null)
                                throw new InvalidDataException($"{source}:{start}: a quoted field is never closed (unbalanced \"); close the quote or double any \" inside the field.");
                            line++;
                            field.Append('\n');
                            text = next;
                            i = 0;
                            continue;
                        }
                        char c = text[i++];
                        if (c != '"') { field.Append(c); continue; }
                        if (i < text.Length && text[i] == '"') { field.Append('"'); i++; continue; }
                        break;   // the closing quote
                    }
                    if (i < text.Length && text[i] != ',')
                        throw new InvalidDataException($"{source}:{line}: text after a closing quote (\"{text[i..Math.Min(text.Length, i + 20)]}\"); RFC 4180 quotes a whole field, and a \" inside it is written \"\".");
                }
                else
                {
                    int comma = text.IndexOf(',', i);
                    int end = comma < 0 ? text.Length : comma;
                    if (text.AsSpan(i, end - i).Contains('"'))
                        throw new InvalidDataException($"{source}:{line}: a \" inside an unquoted field; quote the field and write the \" as \"\" (RFC 4180).");
                    field.Append(text, i, end - i);
                    i = end;
                }
                fields.Add(field.ToString());
                if (i < text.Length && text[i] == ',') i++;
                else done = true;
            }
            var row = fields.ToArray();
            if (columns is null)
            {
                columns = row;
                header(row);
                continue;
            }
            if (row.Length != columns.Length)
                throw new InvalidDataException($"{source}:{start}: the row has {row.Length} field(s) but the header has {columns.Length} ({string.Join(", ", columns)}); a ragged row cannot be matched to its columns. Quote fields that hold commas.");
            yield return (start, row);
        }
    }
}
