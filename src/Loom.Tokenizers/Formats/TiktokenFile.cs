// The .tiktoken rank file: one "base64(token bytes) rank" per line (tiktoken's load_tiktoken_bpe).
using System.Text;

namespace Loom.Tokenizers.Formats;

/// <summary>Reads and writes tiktoken rank files.</summary>
public static class TiktokenFile
{
    /// <summary>Reads (bytes, rank) pairs; <paramref name="source"/> names the file in errors.</summary>
    public static List<(byte[] Bytes, int Id, int Rank)> Read(Stream stream, string source)
    {
        var tokens = new List<(byte[], int, int)>();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
        int lineNo = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1)
                throw new FormatException($"{source}:{lineNo}: expected \"<base64 token> <rank>\", got \"{Truncate(line)}\".");
            byte[] bytes;
            try { bytes = Convert.FromBase64String(line[..space]); }
            catch (FormatException) { throw new FormatException($"{source}:{lineNo}: \"{Truncate(line[..space])}\" is not valid base64."); }
            if (!int.TryParse(line.AsSpan(space + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int rank))
                throw new FormatException($"{source}:{lineNo}: the rank \"{Truncate(line[(space + 1)..])}\" is not a non-negative integer.");
            tokens.Add((bytes, rank, rank));
        }
        if (tokens.Count == 0) throw new FormatException($"{source}: the file holds no tokens.");
        return tokens;
    }

    /// <summary>Writes tokens as a rank file, in rank order.</summary>
    public static void Write(Stream stream, IEnumerable<(byte[] Bytes, int Rank)> tokens)
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        foreach (var (bytes, rank) in tokens.OrderBy(t => t.Rank))
            writer.WriteLine($"{Convert.ToBase64String(bytes)} {rank}");
    }

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
