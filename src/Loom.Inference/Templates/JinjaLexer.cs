// Splits a Jinja template into tokens the way jinja2's lexer does (jinja2/lexer.py, 3.1) with the settings
// Hugging Face uses for chat templates (transformers' _compile_jinja_template: trim_blocks=True,
// lstrip_blocks=True, keep_trailing_newline=False):
//   - "{%-", "{{-", "{#-" strip all whitespace before the tag; "-%}", "-}}", "-#}" strip all after it;
//   - lstrip_blocks: spaces and tabs between the start of a line and "{%" or "{#" are removed ("{%+" keeps them);
//   - trim_blocks: one newline right after "%}" or "#}" is removed ("+%}" keeps it);
//   - "\r\n" and "\r" become "\n", and a single trailing newline of the template is dropped;
//   - string literals decode Python's escapes (jinja2 decodes them with "unicode-escape");
//   - "}}" and "%}" end a tag only when every bracket opened inside it is closed (jinja2's balancing stack).
// It is not a general Jinja lexer: line statements, custom delimiters and "{% raw %}" are not supported.
using System.Globalization;
using System.Text;

namespace Loom.Inference.Templates;

internal static class JinjaLexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"];

    public static List<JinjaToken> Tokenize(string source, string sourceName)
    {
        string src = source.Replace("\r\n", "\n").Replace('\r', '\n');
        // keep_trailing_newline=False: jinja2 drops one final newline of the source.
        if (src.EndsWith('\n')) src = src[..^1];
        var tokens = new List<JinjaToken>();
        int pos = 0, line = 1;
        while (pos < src.Length)
        {
            int open = FindOpen(src, pos);
            if (open < 0)
            {
                Emit(tokens, JinjaTokenKind.Text, src[pos..], ref line);
                break;
            }
            char kind = src[open + 1];
            char sign = open + 2 < src.Length ? src[open + 2] : '\0';
            string text = src[pos..open];
            if (sign == '-')
            {
                text = text.TrimEnd(PythonText.WhitespaceChars);
            }
            else if (sign != '+' && kind != '{')
            {
                // lstrip_blocks: only whitespace between the last newline (or a line start) and the tag.
                int lineStart = text.LastIndexOf('\n') + 1;
                bool lineStarting = lineStart > 0 || pos == 0 || src[pos - 1] == '\n';
                if (lineStarting && lineStart < text.Length && IsAllWhitespace(text, lineStart))
                    text = text[..lineStart];
            }
            // Lines are counted on the raw source, so stripped whitespace still counts.
            int rawLineAdvance = CountNewlines(src, pos, open);
            if (text.Length > 0) tokens.Add(new JinjaToken(JinjaTokenKind.Text, text, line));
            line += rawLineAdvance;
            int p = open + 2 + (sign is '-' or '+' ? 1 : 0);
            if (kind == '#')
            {
                int close = src.IndexOf("#}", p, StringComparison.Ordinal);
                if (close < 0) throw new TemplateException(sourceName, line, "a comment '{#' is never closed with '#}'");
                bool stripAfter = close > p && src[close - 1] == '-';
                bool keep = close > p && src[close - 1] == '+';
                line += CountNewlines(src, open, close);
                pos = close + 2;
                pos = AfterTag(src, pos, stripAfter, trimNewline: !keep, ref line);
                continue;
            }
            bool isBlock = kind == '%';
            tokens.Add(new JinjaToken(isBlock ? JinjaTokenKind.BlockBegin : JinjaTokenKind.VariableBegin, isBlock ? "{%" : "{{", line));
            pos = LexInside(src, p, isBlock, tokens, sourceName, ref line);
        }
        tokens.Add(new JinjaToken(JinjaTokenKind.End, "", line));
        return tokens;
    }

    private static int FindOpen(string src, int from)
    {
        int i = from;
        while (true)
        {
            i = src.IndexOf('{', i);
            if (i < 0 || i + 1 >= src.Length) return -1;
            char c = src[i + 1];
            if (c is '{' or '%' or '#') return i;
            i++;
        }
    }

    private static int LexInside(string src, int p, bool isBlock, List<JinjaToken> tokens, string sourceName, ref int line)
    {
        int depth = 0;
        while (true)
        {
            while (p < src.Length && PythonText.IsWhitespace(src[p]))
            {
                if (src[p] == '\n') line++;
                p++;
            }
            if (p >= src.Length)
                throw new TemplateException(sourceName, line, isBlock ? "a tag '{%' is never closed with '%}'" : "an expression '{{' is never closed with '}}'");
            if (depth == 0)
            {
                string close = isBlock ? "%}" : "}}";
                bool minus = string.CompareOrdinal(src, p, "-" + close, 0, 3) == 0;
                bool plus = isBlock && string.CompareOrdinal(src, p, "+" + close, 0, 3) == 0;
                if (minus || plus || string.CompareOrdinal(src, p, close, 0, 2) == 0)
                {
                    tokens.Add(new JinjaToken(isBlock ? JinjaTokenKind.BlockEnd : JinjaTokenKind.VariableEnd, close, line));
                    p += minus || plus ? 3 : 2;
                    return AfterTag(src, p, minus, trimNewline: isBlock && !plus, ref line);
                }
            }
            char c = src[p];
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int s = p;
                while (p < src.Length && (char.IsAsciiLetterOrDigit(src[p]) || src[p] == '_')) p++;
                tokens.Add(new JinjaToken(JinjaTokenKind.Name, src[s..p], line));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                p = LexNumber(src, p, tokens, line);
                continue;
            }
            if (c is '\'' or '"')
            {
                p = LexString(src, p, tokens, sourceName, ref line);
                continue;
            }
            string? op = null;
            foreach (string candidate in Operators)
            {
                if (string.CompareOrdinal(src, p, candidate, 0, candidate.Length) == 0) { op = candidate; break; }
            }
            if (op is null) throw new TemplateException(sourceName, line, $"unexpected character '{c}'");
            if (op is "(" or "[" or "{") depth++;
            else if (op is ")" or "]" or "}")
            {
                if (depth == 0) throw new TemplateException(sourceName, line, $"unexpected '{op}'");
                depth--;
            }
            tokens.Add(new JinjaToken(JinjaTokenKind.Operator, op, line));
            p += op.Length;
        }
    }

    private static int AfterTag(string src, int p, bool stripAll, bool trimNewline, ref int line)
    {
        if (stripAll)
        {
            while (p < src.Length && PythonText.IsWhitespace(src[p]))
            {
                if (src[p] == '\n') line++;
                p++;
            }
        }
        else if (trimNewline && p < src.Length && src[p] == '\n')
        {
            line++;
            p++;
        }
        return p;
    }

    private static int LexNumber(string src, int p, List<JinjaToken> tokens, int line)
    {
        int s = p;
        p = Digits(src, p);
        bool isFloat = false;
        if (p + 1 < src.Length && src[p] == '.' && char.IsAsciiDigit(src[p + 1]))
        {
            isFloat = true;
            p = Digits(src, p + 1);
        }
        if (p < src.Length && (src[p] is 'e' or 'E'))
        {
            int q = p + 1;
            if (q < src.Length && src[q] is '+' or '-') q++;
            if (q < src.Length && char.IsAsciiDigit(src[q]))
            {
                isFloat = true;
                p = Digits(src, q);
            }
        }
        string text = src[s..p].Replace("_", "");
        tokens.Add(new JinjaToken(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, text, line));
        return p;
    }

    private static int Digits(string src, int p)
    {
        while (p < src.Length && (char.IsAsciiDigit(src[p]) || (src[p] == '_' && p + 1 < src.Length && char.IsAsciiDigit(src[p + 1])))) p++;
        return p;
    }

    private static int LexString(string src, int p, List<JinjaToken> tokens, string sourceName, ref int line)
    {
        char quote = src[p];
        int startLine = line;
        var sb = new StringBuilder();
        p++;
        while (true)
        {
            if (p >= src.Length) throw new TemplateException(sourceName, startLine, "a string literal is never closed");
            char c = src[p];
            if (c == quote) { p++; break; }
            if (c == '\n') line++;
            if (c != '\\') { sb.Append(c); p++; continue; }
            if (p + 1 >= src.Length) throw new TemplateException(sourceName, startLine, "a string literal is never closed");
            p = DecodeEscape(src, p, sb);
        }
        tokens.Add(new JinjaToken(JinjaTokenKind.String, sb.ToString(), startLine));
        return p;
    }

    // Python's "unicode-escape" codec, which jinja2 applies to string literals: \\ \' \" \a \b \f \n \r \t \v,
    // \ooo, \xhh, \uXXXX, \UXXXXXXXX, backslash-newline; any other escape keeps its backslash.
    private static int DecodeEscape(string src, int p, StringBuilder sb)
    {
        char e = src[p + 1];
        switch (e)
        {
            case '\\': sb.Append('\\'); return p + 2;
            case '\'': sb.Append('\''); return p + 2;
            case '"': sb.Append('"'); return p + 2;
            case 'a': sb.Append('\a'); return p + 2;
            case 'b': sb.Append('\b'); return p + 2;
            case 'f': sb.Append('\f'); return p + 2;
            case 'n': sb.Append('\n'); return p + 2;
            case 'r': sb.Append('\r'); return p + 2;
            case 't': sb.Append('\t'); return p + 2;
            case 'v': sb.Append('\v'); return p + 2;
            case '\n': return p + 2;
            case 'x': return Hex(src, p, 2, sb);
            case 'u': return Hex(src, p, 4, sb);
            case 'U': return Hex(src, p, 8, sb);
        }
        if (e is >= '0' and <= '7')
        {
            int q = p + 1, value = 0;
            while (q < src.Length && q < p + 4 && src[q] is >= '0' and <= '7') value = value * 8 + (src[q++] - '0');
            sb.Append((char)value);
            return q;
        }
        sb.Append('\\').Append(e);
        return p + 2;
    }

    private static int Hex(string src, int p, int digits, StringBuilder sb)
    {
        int start = p + 2;
        if (start + digits > src.Length || !int.TryParse(src.AsSpan(start, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value))
        {
            sb.Append('\\').Append(src[p + 1]);
            return p + 2;
        }
        sb.Append(char.ConvertFromUtf32(value));
        return start + digits;
    }

    private static bool IsAllWhitespace(string text, int from)
    {
        for (int i = from; i < text.Length; i++) if (!PythonText.IsWhitespace(text[i])) return false;
        return true;
    }

    private static int CountNewlines(string src, int from, int to)
    {
        int n = 0;
        for (int i = from; i < to; i++) if (src[i] == '\n') n++;
        return n;
    }

    private static void Emit(List<JinjaToken> tokens, JinjaTokenKind kind, string text, ref int line)
    {
        if (text.Length > 0) tokens.Add(new JinjaToken(kind, text, line));
        line += CountNewlines(text, 0, text.Length);
    }
}
