// Augmentation against its sources of truth: WordNet synonyms as the Princeton WordNet 3.0 database
// lists them (Fixtures/wordnet: verbatim lines, make_wordnet_subset.py), EDA's operations by their
// definitions in Wei & Zou 2019 (what each may and may not change), and the dataset run's promises —
// labels kept, no duplicate of the input, provenance per record — including back-translation and
// paraphrase through a fake chat-completions endpoint on loopback.
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Loom.Training.Augmentation;

namespace Loom.Training.Tests.Augmentation;

public sealed class AugmentationTests
{
    private static readonly Lazy<WordNet> s_wordNet = new(() => WordNet.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "wordnet")));
    private static WordNet Wn => s_wordNet.Value;

    [Fact]
    public void SynonymsAreTheOtherLemmasOfTheMostFrequentPartOfSpeechsFirstSenses()
    {
        // data.noun 06613686: movie film picture moving_picture moving-picture_show motion_picture ... flick
        Assert.Equal(["film", "picture", "moving picture", "moving-picture show", "motion picture", "motion-picture show", "picture show", "pic", "flick"], Wn.Synonyms("movie"));
        // "tell": index.verb has 8 tagged senses, index.noun 0 → verb synonyms; "run": verb (29) over noun (7)
        Assert.Equal(WordNetPos.Verb, Wn.MainPos("tell"));
        Assert.Equal(WordNetPos.Verb, Wn.MainPos("run"));
        Assert.Equal(WordNetPos.Adjective, Wn.MainPos("good"));
        // an explicit part of speech overrides: "good" as an adverb (00011093 "well good")
        Assert.Contains("well", Wn.Synonyms("good", WordNetPos.Adverb));
        // the adjective marker "(p)" of 01048762 "well(p)" is stripped
        Assert.DoesNotContain(Wn.Synonyms("good", WordNetPos.Adjective, senses: 21), s => s.Contains('('));
        Assert.Empty(Wn.Synonyms("zyzzyva"));
    }

    [Fact]
    public void EdaOperationsChangeOnlyWhatTheirDefinitionsAllow()
    {
        var eda = new EasyDataAugmentation(Wn);
        const string text = "The movie was good and the music was wonderful, a happy story told fast.";
        var words = text.Split(' ');
        for (int seed = 0; seed < 20; seed++)
        {
            var swap = EasyDataAugmentation.Swap(text, 0.1, new Random(seed))!;
            Assert.Equal(words.Order(), swap.Text.Split(' ').Order());   // a permutation

            var del = EasyDataAugmentation.Delete(text, 0.3, new Random(seed));
            if (del != null)
            {
                var kept = del.Text.Split(' ');
                Assert.True(kept.Length >= 1 && kept.Length < words.Length);
                int at = 0;   // a subsequence, in order
                foreach (var w in kept) { while (words[at] != w) at++; at++; }
            }

            var sr = eda.ReplaceSynonyms(text, 0.1, new Random(seed))!;   // n = max(1, ⌊0.1·14⌋) = 1
            var after = sr.Text.Split(' ');
            Assert.Single(sr.Changes);
            var change = sr.Changes[0].Split('→');
            Assert.Contains(change[1], Wn.Synonyms(change[0].ToLowerInvariant()));

            var ri = eda.Insert(text, 0.1, new Random(seed))!;
            Assert.Equal(words.Length + 1, ri.Text.Split(' ').Length - (ri.Changes[0].Count(c => c == ' ')));
        }
        Assert.Null(EasyDataAugmentation.Swap("one", 0.1, new Random(1)));
        Assert.Null(eda.ReplaceSynonyms("the and of", 0.1, new Random(1)));   // stop words only
    }

    [Fact]
    public async Task ADatasetRunKeepsLabelsDropsDuplicatesAndRecordsProvenance()
    {
        string[] input =
        [
            """{"text": "a good movie", "label": "pos", "id": 1}""",
            """{"text": "a good film", "label": "pos", "id": 2}""",   // what "a good movie" may become: a duplicate
            """{"text": "the plot was boring", "label": "neg", "id": 3}""",
        ];
        var output = new StringWriter();
        var summary = await new Augmenter(new AugmentationOptions { Method = "synonym", PerRecord = 6, Alpha = 0.5, Seed = 2 }, new EasyDataAugmentation(Wn))
            .RunAsync(input, "in.jsonl", output);
        var records = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(summary.Written, records.Count);
        Assert.True(records.Count > 0 && summary.Duplicates > 0, $"{summary}");
        var inputs = input.Select(l => (string)JsonNode.Parse(l)!["text"]!).ToHashSet();
        Assert.Equal(records.Count, records.Select(r => (string)r["text"]!).Distinct().Count());
        foreach (var r in records)
        {
            Assert.DoesNotContain((string)r["text"]!, inputs);
            var source = JsonNode.Parse(input[(int)r["augmentation"]!["source_line"]! - 1])!;
            Assert.Equal((string)source["label"]!, (string)r["label"]!);
            Assert.Equal((int)source["id"]!, (int)r["id"]!);
            Assert.Equal("synonym", (string)r["augmentation"]!["method"]!);
            Assert.NotEmpty(r["augmentation"]!["changes"]!.AsArray());
        }
    }

    [Fact]
    public async Task BackTranslationAndParaphraseGoThroughTheEndpoint()
    {
        // a fake endpoint: "French" translation = upper case, back to English = lower case + " indeed", paraphrase = reversed words
        using var server = new FakeChat(req =>
        {
            string system = (string)req["messages"]![0]!["content"]!, user = (string)req["messages"]![1]!["content"]!;
            if (system.StartsWith("Translate the user's text into French", StringComparison.Ordinal)) return user.ToUpperInvariant();
            if (system.StartsWith("Translate the user's text from French", StringComparison.Ordinal)) return "\"" + user.ToLowerInvariant() + " indeed\"\nextra line";
            return string.Join(' ', user.Split(' ').Reverse());
        });
        using var rewriter = new EndpointRewriter(server.BaseUrl);
        string[] input = ["""{"text": "Great film", "label": 1}"""];
        var output = new StringWriter();
        await new Augmenter(new AugmentationOptions { Method = "backtranslate" }, rewriter: rewriter).RunAsync(input, "in", output);
        var r = JsonNode.Parse(output.ToString())!;
        Assert.Equal("great film indeed", (string)r["text"]!);
        Assert.Equal(1, (int)r["label"]!);
        Assert.Equal("via French: GREAT FILM", (string)r["augmentation"]!["changes"]![0]!);
        output = new StringWriter();
        await new Augmenter(new AugmentationOptions { Method = "paraphrase", KeepOriginal = true }, rewriter: rewriter).RunAsync(input, "in", output);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal("film Great", (string)JsonNode.Parse(lines[1])!["text"]!);
        await Assert.ThrowsAsync<ArgumentException>(() => new Augmenter(new AugmentationOptions { Method = "paraphrase" }).RunAsync(input, "in", new StringWriter()));
    }

    private sealed class FakeChat : IDisposable
    {
        private readonly HttpListener _listener = new();
        public Uri BaseUrl { get; }

        public FakeChat(Func<JsonNode, string> answer)
        {
            for (int attempt = 0; ; attempt++)
            {
                int port = Random.Shared.Next(20000, 60000);
                try { _listener.Prefixes.Clear(); _listener.Prefixes.Add($"http://127.0.0.1:{port}/"); _listener.Start(); BaseUrl = new Uri($"http://127.0.0.1:{port}/v1"); break; }
                catch (HttpListenerException) when (attempt < 20) { }
            }
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext ctx;
                    try { ctx = await _listener.GetContextAsync(); } catch { return; }
                    var req = JsonNode.Parse(new StreamReader(ctx.Request.InputStream).ReadToEnd())!;
                    var body = new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer(req) } }) };
                    var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
                    ctx.Response.ContentType = "application/json";
                    ctx.Response.OutputStream.Write(bytes);
                    ctx.Response.Close();
                }
            });
        }

        public void Dispose() { _listener.Stop(); _listener.Close(); }
    }
}
