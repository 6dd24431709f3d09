// Builds the syntax tree from tokens with jinja2's grammar and precedence (jinja2/parser.py, 3.1), lowest
// first: conditional "a if b else c" → or → and → not → comparisons (==, !=, <, >, <=, >=, in, not in) →
// + - → ~ → * / // % → ** → unary - + → primary with postfix ".x", "[k]", "(args)" and then filters "|f"
// and tests "is t". (So "-2 ** 2" is 4 and "-x|abs" filters the negation, as in jinja2.)
// Statements: if/elif/else, for (target unpacking, "if" filter, else), set (name, tuple, namespace
// attribute, block set with filters), macro, filter blocks, break/continue (HF loads jinja2.ext.loopcontrols),
// and HF's "generation" block.
using System.Globalization;

namespace Loom.Inference.Templates;

internal sealed class JinjaParser
{
    private readonly List<JinjaToken> _tokens;
    private readonly string _source;
    private int _pos;
    private int _nesting;

    // A template comes from a model's files: nesting (brackets, "not not ...", blocks) is capped so a
    // hostile one is an error, not a stack overflow that would take the whole process down.
    private const int MaxNesting = 200;

    private void Enter(int line)
    {
        if (++_nesting > MaxNesting) throw Error(line, $"the template nests more than {MaxNesting} levels deep");
    }

    private JinjaParser(List<JinjaToken> tokens, string source)
    {
        _tokens = tokens;
        _source = source;
    }

    public static List<JinjaNode> Parse(string template, string sourceName)
    {
        var parser = new JinjaParser(JinjaLexer.Tokenize(template, sourceName), sourceName);
        var body = parser.ParseBody(out string? end);
        if (end is not null) throw parser.Error(parser.Current.Line, $"unexpected '{end}'");
        return body;
    }

    private JinjaToken Current => _tokens[_pos];

    private JinjaToken Peek(int ahead = 1) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];

    private JinjaToken Next() => _tokens[_pos++];

    private TemplateException Error(int line, string reason) => new(_source, line, reason);

    private JinjaToken Expect(JinjaTokenKind kind, string? value = null)
    {
        var t = Current;
        if (t.Kind != kind || (value is not null && t.Value != value))
        {
            string wanted = value is not null ? $"'{value}'" : kind switch
            {
                JinjaTokenKind.Name => "a name",
                JinjaTokenKind.BlockEnd => "'%}'",
                JinjaTokenKind.VariableEnd => "'}}'",
                _ => kind.ToString(),
            };
            throw Error(t.Line, $"expected {wanted}, found {t}");
        }
        _pos++;
        return t;
    }

    private bool SkipOperator(string op)
    {
        if (!Current.IsOperator(op)) return false;
        _pos++;
        return true;
    }

    private bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        _pos++;
        return true;
    }

    // Parses nodes until a block tag whose keyword is not a statement this body can open: returns that
    // keyword in "end" (with the parser positioned after the keyword), or null at the end of the template.
    private List<JinjaNode> ParseBody(out string? end)
    {
        var body = new List<JinjaNode>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case JinjaTokenKind.End:
                    end = null;
                    return body;
                case JinjaTokenKind.Text:
                    _pos++;
                    body.Add(new JinjaNode.Text(t.Line, t.Value));
                    break;
                case JinjaTokenKind.VariableBegin:
                    _pos++;
                    var expr = ParseTuple(withConditional: true);
                    Expect(JinjaTokenKind.VariableEnd);
                    body.Add(new JinjaNode.Output(t.Line, expr));
                    break;
                case JinjaTokenKind.BlockBegin:
                    _pos++;
                    var keyword = Expect(JinjaTokenKind.Name);
                    var statement = ParseStatement(keyword);
                    if (statement is null)
                    {
                        end = keyword.Value;
                        return body;
                    }
                    body.Add(statement);
                    break;
                default:
                    throw Error(t.Line, $"unexpected {t}");
            }
        }
    }

    private List<JinjaNode> ParseUntil(int line, string opener, params string[] ends)
    {
        var body = ParseBody(out string? end);
        if (end is null) throw Error(line, $"'{opener}' is never closed; expected {string.Join(" or ", ends.Select(e => $"'{e}'"))}");
        if (Array.IndexOf(ends, end) < 0) throw Error(_tokens[_pos - 1].Line, $"unexpected '{end}' inside '{opener}'; expected {string.Join(" or ", ends.Select(e => $"'{e}'"))}");
        return body;
    }

    private JinjaNode? ParseStatement(JinjaToken keyword)
    {
        Enter(keyword.Line);
        try
        {
            return ParseStatementBody(keyword);
        }
        finally
        {
            _nesting--;
        }
    }

    private JinjaNode? ParseStatementBody(JinjaToken keyword)
    {
        int line = keyword.Line;
        switch (keyword.Value)
        {
            case "if": return ParseIf(line);
            case "for": return ParseFor(line);
            case "set": return ParseSet(line);
            case "macro": return ParseMacro(line);
            case "filter":
            {
                var filters = ParseFilterChain(line);
                Expect(JinjaTokenKind.BlockEnd);
                var body = ParseUntil(line, "filter", "endfilter");
                Expect(JinjaTokenKind.BlockEnd);
                return new JinjaNode.FilterBlock(line, filters, body);
            }
            case "generation":
            {
                Expect(JinjaTokenKind.BlockEnd);
                var body = ParseUntil(line, "generation", "endgeneration");
                Expect(JinjaTokenKind.BlockEnd);
                return new JinjaNode.Scope(line, body);
            }
            case "break":
                Expect(JinjaTokenKind.BlockEnd);
                return new JinjaNode.Break(line);
            case "continue":
                Expect(JinjaTokenKind.BlockEnd);
                return new JinjaNode.Continue(line);
            case "endif" or "endfor" or "else" or "elif" or "endset" or "endmacro" or "endfilter" or "endgeneration":
                return null;
            default:
                throw Error(line, $"unknown tag '{keyword.Value}'");
        }
    }

    private JinjaNode ParseIf(int line)
    {
        var branches = new List<(JinjaNode, List<JinjaNode>)>();
        List<JinjaNode>? elseBody = null;
        var test = ParseTuple(withConditional: true);
        Expect(JinjaTokenKind.BlockEnd);
        while (true)
        {
            var body = ParseUntil(line, "if", "elif", "else", "endif");
            branches.Add((test, body));
            string end = _tokens[_pos - 1].Value;
            if (end == "elif")
            {
                test = ParseTuple(withConditional: true);
                Expect(JinjaTokenKind.BlockEnd);
                continue;
            }
            if (end == "else")
            {
                Expect(JinjaTokenKind.BlockEnd);
                elseBody = ParseUntil(line, "if", "endif");
            }
            Expect(JinjaTokenKind.BlockEnd);
            return new JinjaNode.If(line, branches, elseBody);
        }
    }

    private JinjaNode ParseFor(int line)
    {
        var target = ParseAssignTarget(allowNamespace: false);
        Expect(JinjaTokenKind.Name, "in");
        var iterable = ParseTuple(withConditional: false);
        JinjaNode? filter = null;
        if (SkipName("if")) filter = ParseTuple(withConditional: true);
        if (Current.IsName("recursive")) throw Error(Current.Line, "recursive for loops are not supported");
        Expect(JinjaTokenKind.BlockEnd);
        var body = ParseUntil(line, "for", "endfor", "else");
        List<JinjaNode>? elseBody = null;
        if (_tokens[_pos - 1].Value == "else")
        {
            Expect(JinjaTokenKind.BlockEnd);
            elseBody = ParseUntil(line, "for", "endfor");
        }
        Expect(JinjaTokenKind.BlockEnd);
        return new JinjaNode.For(line, target, iterable, filter, body, elseBody);
    }

    private JinjaNode ParseSet(int line)
    {
        var target = ParseAssignTarget(allowNamespace: true);
        if (SkipOperator("="))
        {
            var value = ParseTuple(withConditional: true);
            Expect(JinjaTokenKind.BlockEnd);
            return new JinjaNode.Set(line, target, value);
        }
        var filters = Current.IsOperator("|") ? ParseFilterChain(line) : [];
        Expect(JinjaTokenKind.BlockEnd);
        var body = ParseUntil(line, "set", "endset");
        Expect(JinjaTokenKind.BlockEnd);
        return new JinjaNode.SetBlock(line, target, body, filters);
    }

    private List<JinjaNode.Filter> ParseFilterChain(int line)
    {
        var filters = new List<JinjaNode.Filter>();
        SkipOperator("|");
        do
        {
            var f = (JinjaNode.Filter)ParseFilter(null, line);
            filters.Add(f);
        }
        while (SkipOperator("|"));
        return filters;
    }

    private JinjaNode ParseMacro(int line)
    {
        string name = Expect(JinjaTokenKind.Name).Value;
        Expect(JinjaTokenKind.Operator, "(");
        var parameters = new List<(string, JinjaNode?)>();
        while (!SkipOperator(")"))
        {
            if (parameters.Count > 0) Expect(JinjaTokenKind.Operator, ",");
            if (SkipOperator(")")) break;
            string p = Expect(JinjaTokenKind.Name).Value;
            JinjaNode? def = SkipOperator("=") ? ParseExpression(withConditional: true) : null;
            parameters.Add((p, def));
        }
        Expect(JinjaTokenKind.BlockEnd);
        var body = ParseUntil(line, "macro", "endmacro");
        if (Current.Kind == JinjaTokenKind.Name) _pos++; // "{% endmacro name %}"
        Expect(JinjaTokenKind.BlockEnd);
        return new JinjaNode.Macro(line, name, parameters, body);
    }

    // A for/set target: a name, "a, b", "(a, b)", or (set only) "ns.attr".
    private JinjaNode ParseAssignTarget(bool allowNamespace)
    {
        int line = Current.Line;
        var items = new List<JinjaNode>();
        bool parenthesised = SkipOperator("(");
        while (true)
        {
            var name = Expect(JinjaTokenKind.Name);
            if (allowNamespace && SkipOperator("."))
            {
                string attr = Expect(JinjaTokenKind.Name).Value;
                items.Add(new JinjaNode.GetAttr(name.Line, new JinjaNode.Name(name.Line, name.Value), attr));
            }
            else
            {
                items.Add(new JinjaNode.Name(name.Line, name.Value));
            }
            if (!SkipOperator(",")) break;
            if (Current.Kind != JinjaTokenKind.Name) break;
        }
        if (parenthesised) Expect(JinjaTokenKind.Operator, ")");
        return items.Count == 1 && !parenthesised ? items[0] : new JinjaNode.TupleLiteral(line, items);
    }

    // ---- expressions ----

    // jinja2's parse_tuple: "a, b" without brackets is a tuple where a statement allows it.
    private JinjaNode ParseTuple(bool withConditional)
    {
        int line = Current.Line;
        var first = ParseExpression(withConditional);
        if (!Current.IsOperator(",")) return first;
        var items = new List<JinjaNode> { first };
        while (SkipOperator(","))
        {
            if (IsTupleEnd()) break;
            items.Add(ParseExpression(withConditional));
        }
        return new JinjaNode.TupleLiteral(line, items);
    }

    private bool IsTupleEnd() =>
        Current.Kind is JinjaTokenKind.VariableEnd or JinjaTokenKind.BlockEnd or JinjaTokenKind.End
        || Current.IsOperator(")") || Current.IsOperator("]") || Current.IsOperator("}")
        || Current.IsName("if") || Current.IsName("in");

    private JinjaNode ParseExpression(bool withConditional)
    {
        Enter(Current.Line);
        try
        {
            return withConditional ? ParseConditional() : ParseOr();
        }
        finally
        {
            _nesting--;
        }
    }

    private JinjaNode ParseConditional()
    {
        var expr = ParseOr();
        while (Current.IsName("if"))
        {
            int line = Next().Line;
            var test = ParseOr();
            JinjaNode? otherwise = SkipName("else") ? ParseConditional() : null;
            expr = new JinjaNode.Conditional(line, test, expr, otherwise);
        }
        return expr;
    }

    private JinjaNode ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            int line = Next().Line;
            left = new JinjaNode.Binary(line, "or", left, ParseAnd());
        }
        return left;
    }

    private JinjaNode ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            int line = Next().Line;
            left = new JinjaNode.Binary(line, "and", left, ParseNot());
        }
        return left;
    }

    private JinjaNode ParseNot()
    {
        if (Current.IsName("not"))
        {
            int line = Next().Line;
            Enter(line);
            try
            {
                return new JinjaNode.Unary(line, "not", ParseNot());
            }
            finally
            {
                _nesting--;
            }
        }
        return ParseCompare();
    }

    private JinjaNode ParseCompare()
    {
        int line = Current.Line;
        var first = ParseMath1();
        var rest = new List<(string, JinjaNode)>();
        while (true)
        {
            var t = Current;
            if (t.Kind == JinjaTokenKind.Operator && t.Value is "==" or "!=" or "<" or ">" or "<=" or ">=")
            {
                _pos++;
                rest.Add((t.Value, ParseMath1()));
            }
            else if (t.IsName("in"))
            {
                _pos++;
                rest.Add(("in", ParseMath1()));
            }
            else if (t.IsName("not") && Peek().IsName("in"))
            {
                _pos += 2;
                rest.Add(("notin", ParseMath1()));
            }
            else break;
        }
        return rest.Count == 0 ? first : new JinjaNode.Compare(line, first, rest);
    }

    private JinjaNode ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var op = Next();
            left = new JinjaNode.Binary(op.Line, op.Value, left, ParseConcat());
        }
        return left;
    }

    private JinjaNode ParseConcat()
    {
        int line = Current.Line;
        var first = ParseMath2();
        if (!Current.IsOperator("~")) return first;
        var parts = new List<JinjaNode> { first };
        while (SkipOperator("~")) parts.Add(ParseMath2());
        return new JinjaNode.Concat(line, parts);
    }

    private JinjaNode ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == JinjaTokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new JinjaNode.Binary(op.Line, op.Value, left, ParsePow());
        }
        return left;
    }

    private JinjaNode ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            var op = Next();
            left = new JinjaNode.Binary(op.Line, "**", left, ParseUnary(withFilter: true));
        }
        return left;
    }

    private JinjaNode ParseUnary(bool withFilter)
    {
        var t = Current;
        JinjaNode node;
        if (t.IsOperator("-") || t.IsOperator("+"))
        {
            _pos++;
            Enter(t.Line);
            try
            {
                node = new JinjaNode.Unary(t.Line, t.Value, ParseUnary(withFilter: false));
            }
            finally
            {
                _nesting--;
            }
        }
        else
        {
            node = ParsePrimary();
        }
        node = ParsePostfix(node);
        if (withFilter) node = ParseFilterExpression(node);
        return node;
    }

    private JinjaNode ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case JinjaTokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new JinjaNode.Const(t.Line, true),
                    "false" or "False" => new JinjaNode.Const(t.Line, false),
                    "none" or "None" => new JinjaNode.Const(t.Line, null),
                    _ => new JinjaNode.Name(t.Line, t.Value),
                };
            case JinjaTokenKind.String:
            {
                // Adjacent string literals join, as in Python.
                string s = t.Value;
                while (Current.Kind == JinjaTokenKind.String) s += Next().Value;
                return new JinjaNode.Const(t.Line, s);
            }
            case JinjaTokenKind.Integer:
                if (!long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long l))
                    throw Error(t.Line, $"the integer {t.Value} is too large");
                return new JinjaNode.Const(t.Line, l);
            case JinjaTokenKind.Float:
                return new JinjaNode.Const(t.Line, double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture));
            case JinjaTokenKind.Operator when t.Value == "(":
            {
                if (SkipOperator(")")) return new JinjaNode.TupleLiteral(t.Line, []);
                var first = ParseExpression(withConditional: true);
                if (SkipOperator(")")) return first;
                var items = new List<JinjaNode> { first };
                while (SkipOperator(","))
                {
                    if (Current.IsOperator(")")) break;
                    items.Add(ParseExpression(withConditional: true));
                }
                Expect(JinjaTokenKind.Operator, ")");
                return new JinjaNode.TupleLiteral(t.Line, items);
            }
            case JinjaTokenKind.Operator when t.Value == "[":
            {
                var items = new List<JinjaNode>();
                while (!SkipOperator("]"))
                {
                    if (items.Count > 0) Expect(JinjaTokenKind.Operator, ",");
                    if (SkipOperator("]")) break;
                    items.Add(ParseExpression(withConditional: true));
                }
                return new JinjaNode.ListLiteral(t.Line, items);
            }
            case JinjaTokenKind.Operator when t.Value == "{":
            {
                var pairs = new List<(JinjaNode, JinjaNode)>();
                while (!SkipOperator("}"))
                {
                    if (pairs.Count > 0) Expect(JinjaTokenKind.Operator, ",");
                    if (SkipOperator("}")) break;
                    var key = ParseExpression(withConditional: true);
                    Expect(JinjaTokenKind.Operator, ":");
                    pairs.Add((key, ParseExpression(withConditional: true)));
                }
                return new JinjaNode.DictLiteral(t.Line, pairs);
            }
            default:
                throw Error(t.Line, $"unexpected {t}");
        }
    }

    private JinjaNode ParsePostfix(JinjaNode node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("."))
            {
                _pos++;
                var attr = Next();
                if (attr.Kind == JinjaTokenKind.Name) node = new JinjaNode.GetAttr(t.Line, node, attr.Value);
                else if (attr.Kind == JinjaTokenKind.Integer) node = new JinjaNode.GetItem(t.Line, node, new JinjaNode.Const(t.Line, long.Parse(attr.Value, CultureInfo.InvariantCulture)));
                else throw Error(t.Line, $"expected an attribute name after '.', found {attr}");
            }
            else if (t.IsOperator("["))
            {
                _pos++;
                node = new JinjaNode.GetItem(t.Line, node, ParseSubscript());
                Expect(JinjaTokenKind.Operator, "]");
            }
            else if (t.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else return node;
        }
    }

    private JinjaNode ParseSubscript()
    {
        int line = Current.Line;
        JinjaNode? start = null, stop = null, step = null;
        if (!Current.IsOperator(":"))
        {
            start = ParseExpression(withConditional: true);
            if (!Current.IsOperator(":")) return start;
        }
        Expect(JinjaTokenKind.Operator, ":");
        if (!Current.IsOperator("]") && !Current.IsOperator(":")) stop = ParseExpression(withConditional: true);
        if (SkipOperator(":") && !Current.IsOperator("]")) step = ParseExpression(withConditional: true);
        return new JinjaNode.Slice(line, start, stop, step);
    }

    private JinjaNode ParseCall(JinjaNode callee)
    {
        int line = Current.Line;
        var (args, kwargs) = ParseArguments();
        return new JinjaNode.Call(line, callee, args, kwargs);
    }

    private (List<JinjaNode>, List<(string, JinjaNode)>) ParseArguments()
    {
        Expect(JinjaTokenKind.Operator, "(");
        var args = new List<JinjaNode>();
        var kwargs = new List<(string, JinjaNode)>();
        while (!SkipOperator(")"))
        {
            if (args.Count + kwargs.Count > 0)
            {
                Expect(JinjaTokenKind.Operator, ",");
                if (SkipOperator(")")) break;
            }
            if (Current.Kind == JinjaTokenKind.Name && Peek().IsOperator("="))
            {
                string name = Next().Value;
                _pos++;
                kwargs.Add((name, ParseExpression(withConditional: true)));
            }
            else
            {
                if (kwargs.Count > 0) throw Error(Current.Line, "a positional argument follows a keyword argument");
                args.Add(ParseExpression(withConditional: true));
            }
        }
        return (args, kwargs);
    }

    private JinjaNode ParseFilterExpression(JinjaNode node)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                int line = Next().Line;
                node = ParseFilter(node, line);
            }
            else if (Current.IsName("is"))
            {
                node = ParseTest(node);
            }
            else if (Current.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else return node;
        }
    }

    private JinjaNode ParseFilter(JinjaNode? target, int line)
    {
        var name = Expect(JinjaTokenKind.Name);
        string filterName = name.Value;
        while (SkipOperator(".")) filterName += "." + Expect(JinjaTokenKind.Name).Value;
        if (!JinjaInterpreter.FilterNames.Contains(filterName)) throw Error(name.Line, $"No filter named '{filterName}'.");
        var args = new List<JinjaNode>();
        var kwargs = new List<(string, JinjaNode)>();
        if (Current.IsOperator("(")) (args, kwargs) = ParseArguments();
        return new JinjaNode.Filter(name.Line, target, filterName, args, kwargs);
    }

    private JinjaNode ParseTest(JinjaNode target)
    {
        int line = Next().Line; // "is"
        bool negated = SkipName("not");
        var name = Expect(JinjaTokenKind.Name);
        string testName = name.Value;
        if (!JinjaInterpreter.TestNames.Contains(testName)) throw Error(name.Line, $"No test named '{testName}'.");
        var args = new List<JinjaNode>();
        if (Current.IsOperator("("))
        {
            var (a, _) = ParseArguments();
            args = a;
        }
        else if (Current.Kind is JinjaTokenKind.Name or JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float
                 || Current.IsOperator("[") || Current.IsOperator("{"))
        {
            // jinja2: "x is divisibleby 3", "x is sameas false" take one argument without parentheses.
            if (!(Current.Kind == JinjaTokenKind.Name && Current.Value is "else" or "or" or "and"))
            {
                var arg = ParsePostfix(ParsePrimary());
                args.Add(arg);
            }
        }
        return new JinjaNode.Test(line, target, testName, args, negated);
    }
}
