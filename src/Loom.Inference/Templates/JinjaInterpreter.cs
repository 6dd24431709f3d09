// Renders a parsed template: walks the statements in order, writing text into one StringBuilder, and
// evaluates expressions with Python's semantics (JinjaValues). The globals are those of Hugging Face's
// chat-template environment (transformers' _compile_jinja_template on jinja2's ImmutableSandboxedEnvironment):
// jinja2's range, dict, namespace, cycler-free defaults plus HF's raise_exception(msg) and strftime_now(fmt)
// (the clock is injectable so a test can fix the date). Errors become TemplateException with the line of the
// statement that was running. Every render carries a JinjaBudget (ChatTemplateOptions' limits): loop
// iterations, macro calls and range() items spend steps, repetition and concatenation are sized before
// they are built, and the text written is bounded, so a hostile template fails instead of hanging.
namespace Loom.Inference.Templates;

internal sealed partial class JinjaInterpreter
{
    private enum Flow { Normal, Break, Continue }

    private readonly string _source;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, object?> _globals;
    private readonly JinjaBudget _budget;
    private int _depth;

    public JinjaInterpreter(string source, TimeProvider clock, JinjaBudget budget)
    {
        _source = source;
        _clock = clock;
        _budget = budget;
        _globals = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["range"] = new JinjaCallable("range", Range),
            ["dict"] = new JinjaCallable("dict", (a, k, _) =>
            {
                var d = new JinjaDict();
                if (a.Count > 0) foreach (var p in (JinjaDict)a[0]!) d[p.Key] = p.Value;
                foreach (var p in k) d[p.Key] = p.Value;
                return d;
            }),
            ["namespace"] = new JinjaCallable("namespace", (a, k, _) =>
            {
                var ns = new JinjaNamespace();
                if (a.Count > 0 && a[0] is JinjaDict init) foreach (var p in init) ns.Values[p.Key] = p.Value;
                foreach (var p in k) ns.Values[p.Key] = p.Value;
                return ns;
            }),
            ["raise_exception"] = new JinjaCallable("raise_exception", (a, _, line) =>
                throw new TemplateException(_source, line, a.Count > 0 ? PythonText.Str(a[0]) : "", raisedByTemplate: true)),
            ["strftime_now"] = new JinjaCallable("strftime_now", (a, _, _) =>
                PythonStrftime.Format(_clock.GetLocalNow(), JinjaValues.AsString(a.Count > 0 ? a[0] : null, "strftime_now's format"))),
        };
    }

    public string Render(List<JinjaNode> body, JinjaScope root)
    {
        var sb = new System.Text.StringBuilder();
        Execute(body, root, sb);
        return sb.ToString();
    }

    private object? Range(List<object?> a, Dictionary<string, object?> k, int line)
    {
        long start = 0, stop, step = 1;
        if (a.Count == 1) stop = JinjaValues.AsInt(a[0], "range() argument");
        else if (a.Count is 2 or 3)
        {
            start = JinjaValues.AsInt(a[0], "range() argument");
            stop = JinjaValues.AsInt(a[1], "range() argument");
            if (a.Count == 3) step = JinjaValues.AsInt(a[2], "range() step");
        }
        else throw new JinjaError($"range expected 1 to 3 arguments, got {a.Count}");
        if (step == 0) throw new JinjaError("range() arg 3 must not be zero");
        var list = new List<object?>();
        // jinja2's sandbox caps range() at MAX_RANGE = 100000 items.
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (list.Count >= 100_000) throw new JinjaError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
            _budget.Step();
            list.Add(i);
        }
        return list;
    }

    private Flow Execute(List<JinjaNode> body, JinjaScope scope, System.Text.StringBuilder sb)
    {
        foreach (var node in body)
        {
            Flow flow;
            try
            {
                flow = ExecuteOne(node, scope, sb);
            }
            catch (JinjaError e)
            {
                throw new TemplateException(_source, node.Line, e.Message);
            }
            catch (OverflowException)
            {
                throw new TemplateException(_source, node.Line, "an integer is too large");
            }
            catch (ArgumentOutOfRangeException)
            {
                // A method or global called with too few arguments ("x.startswith()").
                throw new TemplateException(_source, node.Line, "a function or method was called with too few arguments");
            }
            catch (InvalidCastException)
            {
                throw new TemplateException(_source, node.Line, "a function or method was called with an argument of the wrong type");
            }
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow ExecuteOne(JinjaNode node, JinjaScope scope, System.Text.StringBuilder sb)
    {
        switch (node)
        {
            case JinjaNode.Text t:
                sb.Append(t.Value);
                _budget.Output(sb.Length);
                return Flow.Normal;
            case JinjaNode.Output o:
                PythonText.AppendStr(sb, Evaluate(o.Expression, scope));
                _budget.Output(sb.Length);
                return Flow.Normal;
            case JinjaNode.If i:
                foreach (var (test, branch) in i.Branches)
                {
                    if (JinjaValues.IsTrue(Evaluate(test, scope))) return Execute(branch, scope, sb);
                }
                return i.Else is null ? Flow.Normal : Execute(i.Else, scope, sb);
            case JinjaNode.For f:
                ExecuteFor(f, scope, sb);
                return Flow.Normal;
            case JinjaNode.Set s:
                Assign(s.Target, Evaluate(s.Value, scope), scope);
                return Flow.Normal;
            case JinjaNode.SetBlock sbk:
            {
                var inner = new System.Text.StringBuilder();
                Execute(sbk.Body, scope, inner);
                object? value = inner.ToString();
                foreach (var f in sbk.Filters) value = ApplyFilter(f, value, scope);
                Assign(sbk.Target, value, scope);
                return Flow.Normal;
            }
            case JinjaNode.Macro m:
                scope.Set(m.MacroName, MakeMacro(m, scope));
                return Flow.Normal;
            case JinjaNode.FilterBlock fb:
            {
                var inner = new System.Text.StringBuilder();
                Execute(fb.Body, scope, inner);
                object? value = inner.ToString();
                foreach (var f in fb.Filters) value = ApplyFilter(f, value, scope);
                PythonText.AppendStr(sb, value);
                _budget.Output(sb.Length);
                return Flow.Normal;
            }
            case JinjaNode.Scope sc:
                return Execute(sc.Body, scope, sb);
            case JinjaNode.Break:
                return Flow.Break;
            case JinjaNode.Continue:
                return Flow.Continue;
            default:
                throw new JinjaError($"cannot execute {node.GetType().Name}");
        }
    }

    private void ExecuteFor(JinjaNode.For f, JinjaScope scope, System.Text.StringBuilder sb)
    {
        var source = JinjaValues.Iterate(Evaluate(f.Iterable, scope));
        IReadOnlyList<object?> items = source;
        if (f.Condition is not null)
        {
            // jinja2 filters before counting: loop.length and loop.last see only the kept items.
            var kept = new List<object?>();
            foreach (var item in source)
            {
                _budget.Step();
                var probe = new JinjaScope(scope);
                Assign(f.Target, item, probe);
                if (JinjaValues.IsTrue(Evaluate(f.Condition, probe))) kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0)
        {
            if (f.Else is not null) Execute(f.Else, scope, sb);
            return;
        }
        var loop = new JinjaLoop(items);
        for (int i = 0; i < items.Count; i++)
        {
            _budget.Step();
            loop.Index0 = i;
            var iteration = new JinjaScope(scope);
            iteration.Set("loop", loop);
            Assign(f.Target, items[i], iteration);
            if (Execute(f.Body, iteration, sb) == Flow.Break) break;
        }
    }

    private void Assign(JinjaNode target, object? value, JinjaScope scope)
    {
        switch (target)
        {
            case JinjaNode.Name n:
                scope.Set(n.Identifier, value);
                return;
            case JinjaNode.TupleLiteral t:
            {
                var items = JinjaValues.Iterate(value);
                if (items.Count != t.Items.Count)
                    throw new JinjaError(items.Count > t.Items.Count
                        ? $"too many values to unpack (expected {t.Items.Count})"
                        : $"not enough values to unpack (expected {t.Items.Count}, got {items.Count})");
                for (int i = 0; i < items.Count; i++) Assign(t.Items[i], items[i], scope);
                return;
            }
            case JinjaNode.GetAttr { Target: JinjaNode.Name ns } a:
            {
                var holder = Lookup(ns.Identifier, scope);
                if (holder is not JinjaNamespace space) throw new JinjaError("can only set attributes on namespace objects");
                space.Values[a.Attribute] = value;
                return;
            }
            default:
                throw new JinjaError("cannot assign to this target");
        }
    }

    private JinjaCallable MakeMacro(JinjaNode.Macro m, JinjaScope defining) =>
        new(m.MacroName, (args, kwargs, line) =>
        {
            if (args.Count > m.Parameters.Count) throw new JinjaError($"macro '{m.MacroName}' takes not more than {m.Parameters.Count} argument(s)");
            var scope = new JinjaScope(defining);
            for (int i = 0; i < m.Parameters.Count; i++)
            {
                var (name, def) = m.Parameters[i];
                object? value;
                if (i < args.Count) value = args[i];
                else if (kwargs.TryGetValue(name, out var kv)) value = kv;
                else value = def is null ? new JinjaUndefined($"parameter '{name}' was not provided") : Evaluate(def, scope);
                scope.Set(name, value);
            }
            foreach (var key in kwargs.Keys)
            {
                if (!m.Parameters.Exists(p => p.Name == key)) throw new JinjaError($"macro '{m.MacroName}' takes no keyword argument '{key}'");
            }
            _budget.Step();
            if (++_depth > 200) throw new JinjaError("macros call each other too deeply (more than 200 levels)");
            try
            {
                var sb = new System.Text.StringBuilder();
                Execute(m.Body, scope, sb);
                return sb.ToString();
            }
            finally
            {
                _depth--;
            }
        });

    private object? Lookup(string name, JinjaScope scope)
    {
        if (scope.TryGet(name, out var value)) return value;
        if (_globals.TryGetValue(name, out value)) return value;
        return new JinjaUndefined($"'{name}' is undefined");
    }

    private object? Evaluate(JinjaNode node, JinjaScope scope)
    {
        switch (node)
        {
            case JinjaNode.Const c:
                return c.Value;
            case JinjaNode.Name n:
                return Lookup(n.Identifier, scope);
            case JinjaNode.ListLiteral l:
            {
                var list = new List<object?>(l.Items.Count);
                foreach (var item in l.Items) list.Add(Evaluate(item, scope));
                return list;
            }
            case JinjaNode.TupleLiteral t:
            {
                var tuple = new object?[t.Items.Count];
                for (int i = 0; i < tuple.Length; i++) tuple[i] = Evaluate(t.Items[i], scope);
                return tuple;
            }
            case JinjaNode.DictLiteral d:
            {
                var dict = new JinjaDict();
                foreach (var (k, v) in d.Pairs)
                {
                    var key = Evaluate(k, scope);
                    if (key is null or JinjaUndefined or List<object?> or JinjaDict) throw new JinjaError($"unhashable or undefined dict key: {JinjaValues.TypeName(key)}");
                    dict[key] = Evaluate(v, scope);
                }
                return dict;
            }
            case JinjaNode.GetAttr a:
                return JinjaValues.GetAttribute(Evaluate(a.Target, scope), a.Attribute);
            case JinjaNode.GetItem g:
            {
                var target = Evaluate(g.Target, scope);
                if (g.Key is JinjaNode.Slice s)
                {
                    return JinjaValues.Slice(target,
                        s.Start is null ? null : Evaluate(s.Start, scope),
                        s.Stop is null ? null : Evaluate(s.Stop, scope),
                        s.Step is null ? null : Evaluate(s.Step, scope));
                }
                return JinjaValues.GetItem(target, Evaluate(g.Key, scope));
            }
            case JinjaNode.Call call:
            {
                var callee = Evaluate(call.Callee, scope);
                var (args, kwargs) = EvaluateArguments(call.Args, call.Kwargs, scope);
                return Built(callee switch
                {
                    JinjaCallable f => f.Function(args, kwargs, call.Line),
                    JinjaUndefined u => throw JinjaValues.Undefined(u),
                    _ => throw new JinjaError($"'{JinjaValues.TypeName(callee)}' object is not callable"),
                }, "a call");
            }
            case JinjaNode.Filter f:
                return Built(ApplyFilter(f, Evaluate(f.Target!, scope), scope), $"the filter '{f.FilterName}'");
            case JinjaNode.Test t:
            {
                bool result = ApplyTest(t.TestName, Evaluate(t.Target, scope), t.Args.ConvertAll(a => Evaluate(a, scope)));
                return t.Negated ? !result : result;
            }
            case JinjaNode.Unary u:
            {
                var v = Evaluate(u.Operand, scope);
                return u.Operator switch
                {
                    "not" => !JinjaValues.IsTrue(v),
                    "-" => JinjaValues.Negate(v),
                    _ => JinjaValues.IsNumber(v) ? (v is bool b ? (b ? 1L : 0L) : v) : v is JinjaUndefined un ? throw JinjaValues.Undefined(un) : throw new JinjaError($"bad operand type for unary +: '{JinjaValues.TypeName(v)}'"),
                };
            }
            case JinjaNode.Binary b:
            {
                if (b.Operator == "and")
                {
                    var left = Evaluate(b.Left, scope);
                    return JinjaValues.IsTrue(left) ? Evaluate(b.Right, scope) : left;
                }
                if (b.Operator == "or")
                {
                    var left = Evaluate(b.Left, scope);
                    return JinjaValues.IsTrue(left) ? left : Evaluate(b.Right, scope);
                }
                var l = Evaluate(b.Left, scope);
                var r = Evaluate(b.Right, scope);
                SizeArithmetic(b.Operator, l, r);
                return JinjaValues.Arithmetic(b.Operator, l, r);
            }
            case JinjaNode.Compare c:
            {
                var left = Evaluate(c.First, scope);
                foreach (var (op, operand) in c.Rest)
                {
                    var right = Evaluate(operand, scope);
                    bool ok = op switch
                    {
                        "==" => JinjaValues.PyEquals(left, right),
                        "!=" => !JinjaValues.PyEquals(left, right),
                        "<" => JinjaValues.Compare(left, right, op) < 0,
                        ">" => JinjaValues.Compare(left, right, op) > 0,
                        "<=" => JinjaValues.Compare(left, right, op) <= 0,
                        ">=" => JinjaValues.Compare(left, right, op) >= 0,
                        "in" => JinjaValues.Contains(right, left),
                        "notin" => !JinjaValues.Contains(right, left),
                        _ => throw new JinjaError($"unknown comparison {op}"),
                    };
                    if (!ok) return false;
                    left = right;
                }
                return true;
            }
            case JinjaNode.Concat cc:
            {
                // Each part is turned into text first so the sum is checked before the result is built.
                var parts = new string[cc.Parts.Count];
                long total = 0;
                for (int i = 0; i < parts.Length; i++) { parts[i] = PythonText.Str(Evaluate(cc.Parts[i], scope)); total += parts[i].Length; }
                _budget.Value(total, "the '~' concatenation");
                return string.Concat(parts);
            }
            case JinjaNode.Conditional cond:
                if (JinjaValues.IsTrue(Evaluate(cond.Condition, scope))) return Evaluate(cond.Then, scope);
                return cond.Else is null ? new JinjaUndefined("the conditional expression had no else branch") : Evaluate(cond.Else, scope);
            default:
                throw new JinjaError($"cannot evaluate {node.GetType().Name}");
        }
    }

    // Sizes the result of + and * on strings and lists before JinjaValues.Arithmetic builds it
    // (count × length can overflow a long: Int128, saturated).
    private void SizeArithmetic(string op, object? a, object? b)
    {
        long Length(object? v) => v switch { string s => s.Length, List<object?> l => l.Count, object?[] t => t.Length, _ => -1 };
        long la = Length(a), lb = Length(b);
        if (op == "+" && la >= 0 && lb >= 0) _budget.Value(la + lb, a is string ? "the '+' of two strings" : "the '+' of two lists");
        else if (op == "*")
        {
            long length = la >= 0 && b is long or bool ? la : lb >= 0 && a is long or bool ? lb : -1;
            if (length < 0) return;
            long count = la >= 0 ? JinjaValues.ToLong(b) : JinjaValues.ToLong(a);
            if (count <= 0 || length == 0) return;
            Int128 size = (Int128)length * count;
            _budget.Value(size > long.MaxValue ? long.MaxValue : (long)size, a is string || b is string ? "the string repetition" : "the list repetition");
        }
    }

    // Bounds what a filter, method or global produced (a replace or join whose size is known only after).
    private object? Built(object? value, string what)
    {
        switch (value)
        {
            case string s when s.Length > _budget.MaxValueLength: _budget.Value(s.Length, what); break;
            case List<object?> l when l.Count > _budget.MaxValueLength: _budget.Value(l.Count, what + " list"); break;
        }
        return value;
    }

    private (List<object?>, Dictionary<string, object?>) EvaluateArguments(List<JinjaNode> args, List<(string Name, JinjaNode Value)> kwargs, JinjaScope scope)
    {
        var a = new List<object?>(args.Count);
        foreach (var arg in args) a.Add(Evaluate(arg, scope));
        var k = new Dictionary<string, object?>(kwargs.Count, StringComparer.Ordinal);
        foreach (var (name, value) in kwargs) k[name] = Evaluate(value, scope);
        return (a, k);
    }
}
