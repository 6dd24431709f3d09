// Reads the jinja2 reference renderings made by Fixtures/chat_templates/make_fixtures.py and checks one
// Loom rendering against one of them: the same text byte for byte, or an error where jinja2 raised (with
// raise_exception's own message where the template raised).
using System.Text.Json.Nodes;
using Loom.Inference.Templates;

namespace Loom.Inference.Tests.Templates;

internal static class ChatTemplateFixtures
{
    public static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "Fixtures", "chat_templates");

    /// <summary>make_fixtures.py's FIXED_NOW (2026-03-05 09:07:03), as local time.</summary>
    public sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 3, 5, 9, 7, 3, TimeSpan.Zero);

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }

    public static JsonArray Cases(string file) =>
        (JsonArray)JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, file)))!["cases"]!;

    /// <summary>Null when Loom agrees with jinja2 on <paramref name="expected"/>; otherwise what differs.</summary>
    public static string? Check(string label, JsonObject expected, Func<string> render)
    {
        string? want = expected["expected"]?.GetValue<string>();
        string? error = expected["error"]?.GetValue<string>();
        string? message = expected["message"]?.GetValue<string>();
        try
        {
            string got = render();
            if (want is null) return $"{label}: jinja2 raised {error}: {message}, Loom rendered {Show(got)}";
            if (got != want) return $"{label}: expected {Show(want)}\n   got {Show(got)}";
            return null;
        }
        catch (TemplateException e)
        {
            if (want is not null) return $"{label}: expected {Show(want)}, Loom raised {e.Message}";
            if (error == "TemplateError" && !(e.RaisedByTemplate && e.Reason == message))
                return $"{label}: jinja2's raise_exception said {Show(message!)}, Loom: {e.Message}";
            if (error != "TemplateError" && e.RaisedByTemplate)
                return $"{label}: jinja2 raised {error}, Loom reported raise_exception: {e.Message}";
            Assert.DoesNotContain("   at ", e.Message);
            return null;
        }
    }

    private static string Show(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
