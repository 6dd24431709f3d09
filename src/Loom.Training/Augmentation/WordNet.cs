// Princeton WordNet 3.0 in its database format (wndb(5WN)): index.{noun,verb,adj,adv} lines
//   lemma pos synset_cnt p_cnt [ptr_symbol]{p_cnt} sense_cnt tagsense_cnt synset_offset{synset_cnt}
// (senses ordered by frequency), and data.{pos} lines
//   synset_offset lex_filenum ss_type w_cnt(2 hex) [word lex_id(1 hex)]{w_cnt} p_cnt(3 dec) ... | gloss
// Words use '_' for spaces; adjectives may carry a syntactic marker "(a)", "(p)", "(ip)". License
// header lines start with two spaces. Files may be gzip-compressed (../shared/data/wordnet). A synset
// is found by the offset its line starts with, not by seeking, so a subset of lines (the test
// fixture) reads the same as the whole database.
using System.IO.Compression;

namespace Loom.Training.Augmentation;

/// <summary>A WordNet part of speech.</summary>
public enum WordNetPos { Noun, Verb, Adjective, Adverb }

/// <summary>Lemma → senses and synset → words, for synonym lookup.</summary>
public sealed class WordNet
{
    private static readonly (WordNetPos Pos, string File)[] Files = [(WordNetPos.Noun, "noun"), (WordNetPos.Verb, "verb"), (WordNetPos.Adjective, "adj"), (WordNetPos.Adverb, "adv")];

    private readonly Dictionary<(string Lemma, WordNetPos Pos), (int TaggedSenses, long[] Synsets)> _index = new();
    private readonly Dictionary<(WordNetPos Pos, long Offset), string[]> _synsets = new();

    /// <summary>Synsets read.</summary>
    public int SynsetCount => _synsets.Count;

    private WordNet() { }

    /// <summary>Reads index.* and data.* (optionally .gz) from <paramref name="directory"/>.</summary>
    public static WordNet Open(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"WordNet directory {directory} does not exist; give the folder holding index.noun and data.noun (e.g. ../shared/data/wordnet).");
        var wn = new WordNet();
        foreach (var (pos, name) in Files)
        {
            string? index = Find(directory, "index." + name), data = Find(directory, "data." + name);
            if (index is null || data is null) continue;
            int lineNo = 0;
            foreach (var line in ReadLines(index))
            {
                lineNo++;
                if (line.StartsWith("  ", StringComparison.Ordinal) || line.Length == 0) continue;
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                try
                {
                    int synsetCount = int.Parse(f[2]), pointers = int.Parse(f[3]);
                    int at = 4 + pointers;
                    int tagged = int.Parse(f[at + 1]);
                    var offsets = f.Skip(at + 2).Take(synsetCount).Select(long.Parse).ToArray();
                    wn._index[(f[0], pos)] = (tagged, offsets);
                }
                catch (Exception e) when (e is FormatException or IndexOutOfRangeException)
                {
                    throw new InvalidDataException($"{index}:{lineNo} is not a WordNet index line (lemma pos synset_cnt p_cnt ...): \"{Shorten(line)}\".", e);
                }
            }
            lineNo = 0;
            foreach (var line in ReadLines(data))
            {
                lineNo++;
                if (line.StartsWith("  ", StringComparison.Ordinal) || line.Length == 0) continue;
                var f = line.Split(' ', 5 + 2 * 255, StringSplitOptions.RemoveEmptyEntries);
                try
                {
                    long offset = long.Parse(f[0]);
                    int count = Convert.ToInt32(f[3], 16);
                    var words = new string[count];
                    for (int i = 0; i < count; i++)
                    {
                        string w = f[4 + 2 * i];
                        int paren = w.IndexOf('(');
                        if (paren > 0) w = w[..paren];   // adjective marker
                        words[i] = w.Replace('_', ' ');
                    }
                    wn._synsets[(pos, offset)] = words;
                }
                catch (Exception e) when (e is FormatException or IndexOutOfRangeException or ArgumentException)
                {
                    throw new InvalidDataException($"{data}:{lineNo} is not a WordNet data line (offset lex_filenum ss_type w_cnt words...): \"{Shorten(line)}\".", e);
                }
            }
        }
        if (wn._index.Count == 0) throw new FileNotFoundException($"{directory} holds no WordNet index.noun/verb/adj/adv (plain or .gz) with data.* beside it.");
        return wn;
    }

    /// <summary>
    /// Synonyms of <paramref name="word"/> (lower-cased lemma form): its most frequent part of speech
    /// (most sense-tagged senses in the index; a word that is mostly a verb gets verb synonyms), or
    /// <paramref name="pos"/> when given; the other lemmas of its first <paramref name="senses"/> senses, most frequent first.
    /// </summary>
    public IReadOnlyList<string> Synonyms(string word, WordNetPos? pos = null, int senses = 2)
    {
        string lemma = word.ToLowerInvariant().Replace(' ', '_');
        (int TaggedSenses, long[] Synsets)? best = null;
        WordNetPos bestPos = default;
        foreach (var (p, _) in Files)
        {
            if (pos is { } only && only != p) continue;
            if (_index.TryGetValue((lemma, p), out var e) && (best is null || e.TaggedSenses > best.Value.TaggedSenses)) { best = e; bestPos = p; }
        }
        if (best is null) return [];
        var result = new List<string>();
        foreach (long offset in best.Value.Synsets.Take(senses))
            if (_synsets.TryGetValue((bestPos, offset), out var words))
                foreach (var w in words)
                    if (!w.Equals(word, StringComparison.OrdinalIgnoreCase) && !result.Contains(w, StringComparer.OrdinalIgnoreCase)) result.Add(w);
        return result;
    }

    /// <summary>The part of speech <see cref="Synonyms"/> would choose for a word (null when WordNet lacks it).</summary>
    public WordNetPos? MainPos(string word)
    {
        string lemma = word.ToLowerInvariant();
        return Files.Select(f => f.Pos).Where(p => _index.ContainsKey((lemma, p))).OrderByDescending(p => _index[(lemma, p)].TaggedSenses).Cast<WordNetPos?>().FirstOrDefault();
    }

    private static string? Find(string dir, string name) =>
        File.Exists(Path.Combine(dir, name)) ? Path.Combine(dir, name) : File.Exists(Path.Combine(dir, name + ".gz")) ? Path.Combine(dir, name + ".gz") : null;

    private static IEnumerable<string> ReadLines(string path)
    {
        using Stream s = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(File.OpenRead(path), CompressionMode.Decompress) : File.OpenRead(path);
        using var r = new StreamReader(s);
        while (r.ReadLine() is { } line) yield return line;
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "…";
}
