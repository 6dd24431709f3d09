// RFC 4180 CSV: fields quoted when they hold a comma, quote, CR or LF; quotes doubled. The reader
// accepts what spreadsheets write back (quoted newlines, CRLF, a UTF-8 BOM).
using System.Text;

namespace Loom.Evaluation.Review;

internal static class Csv
{
    public static string Field(string s) =>
        s.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    public static string Row(IEnumerable<string> fields) => string.Join(',', fields.Select(Field));

    public static List<List<string>> Parse(string text, string path)
    {
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        int line = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else quoted = false;
                }
                else { if (c == '\n') line++; field.Append(c); }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0: quoted = true; any = true; break;
                case ',': row.Add(field.ToString()); field.Clear(); any = true; break;
                case '\r': break;
                case '\n':
                    line++;
                    if (any || field.Length > 0) { row.Add(field.ToString()); rows.Add(row); }
                    row = []; field.Clear(); any = false;
                    break;
                default: field.Append(c); any = true; break;
            }
        }
        if (quoted) throw new InvalidDataException($"{path}:{line}: a quoted field is not closed.");
        if (any || field.Length > 0) { row.Add(field.ToString()); rows.Add(row); }
        return rows;
    }
}
