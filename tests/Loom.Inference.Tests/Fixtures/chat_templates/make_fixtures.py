#!/usr/bin/python3
"""Reference renderings of chat templates by Python's jinja2, for Loom's ChatTemplate tests.

Run with Debian's python3 and python3-jinja2 (3.1.x):
    /usr/bin/python3 tests/Loom.Inference.Tests/Fixtures/chat_templates/make_fixtures.py

The environment is the one transformers builds for apply_chat_template
(src/transformers/utils/chat_template_utils.py, _compile_jinja_template):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]) with
tojson overridden to json.dumps(..., ensure_ascii=False), raise_exception raising TemplateError and
strftime_now reading datetime.now() (fixed here to FIXED_NOW). The render call passes messages, tools,
documents, add_generation_prompt, the special tokens and extra variables, as apply_chat_template does.
(transformers' AssistantTracker extension only adds the {% generation %} tag, rendered as its body.)

Writes:
  templates.json    every (template, conversation, settings) case with the expected text or error
  interpreter.json  small templates that pin single language rules (precedence, whitespace control,
                    loop variables, set scoping vs namespace, undefined, escapes, filters, tests)
The templates' text is in templates/*.jinja; sources.json names the repository, commit and path each
came from.
"""
import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
FIXED_NOW = datetime.datetime(2026, 3, 5, 9, 7, 3)  # the C# tests use the same local time


class GenerationTag(jinja2.ext.Extension):
    """transformers' AssistantTracker without the tracking: {% generation %} renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.Scope(body, lineno=lineno)


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = environment()


def render(source, variables):
    try:
        return {"expected": ENV.from_string(source).render(**variables)}
    except jinja2.exceptions.TemplateSyntaxError as e:
        return {"error": "TemplateSyntaxError", "message": str(e)}
    except jinja2.exceptions.UndefinedError as e:
        return {"error": "UndefinedError", "message": str(e)}
    except jinja2.exceptions.SecurityError as e:
        return {"error": "SecurityError", "message": str(e)}
    except jinja2.exceptions.TemplateError as e:
        # raise_exception(msg) raises exactly this class; Loom must raise with the same message.
        return {"error": "TemplateError", "message": str(e)}
    except Exception as e:  # TypeError, ValueError, ... inside the template
        return {"error": type(e).__name__, "message": str(e)}


# ---- conversations ----
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location — in °C or °F",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and country, e.g. \"Paris, FR\""},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 14, "default": 1},
                "threshold": {"type": "number", "default": 0.5},
                "verbose": {"type": "boolean", "default": False},
            },
            "required": ["location"],
        },
    },
}
CLOCK_TOOL = {"type": "function", "function": {"name": "get_time", "description": "Current time", "parameters": {"type": "object", "properties": {}}}}

BASIC = [
    {"role": "user", "content": "Hello, how are you?"},
    {"role": "assistant", "content": "I'm doing great. How can I help you today?"},
    {"role": "user", "content": "I'd like to show off how chat templating works!"},
]
CONVERSATIONS = {
    "single_user": [{"role": "user", "content": "Hi there"}],
    "multi_turn": BASIC,
    "system_multi_turn": [{"role": "system", "content": "You are a friendly chatbot who always responds in the style of a pirate"}] + BASIC,
    "unicode_and_whitespace": [
        {"role": "system", "content": "  Réponds en français.\n"},
        {"role": "user", "content": "  héllo — 你好 🙂 \"quotes\" \\ back\\slash\ttab\n  "},
        {"role": "assistant", "content": "Ça va ! ✓\n"},
        {"role": "user", "content": "{{ not a template }} {% neither %}"},
    ],
    "ends_with_assistant": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi!"}],
    "two_users_in_a_row": [{"role": "user", "content": "One"}, {"role": "user", "content": "Two"}],
    "starts_with_assistant": [{"role": "assistant", "content": "I speak first"}, {"role": "user", "content": "ok"}],
    "system_only": [{"role": "system", "content": "Only a system prompt"}],
    "empty": [],
}
TOOL_CONVERSATION = [
    {"role": "system", "content": "You are a weather bot."},
    {"role": "user", "content": "What's the weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call9Abc1", "type": "function", "function": {"name": "get_current_weather", "arguments": {"location": "Paris, FR", "unit": "celsius", "days": 2}}}]},
    {"role": "tool", "tool_call_id": "call9Abc1", "name": "get_current_weather", "content": "{\"temperature\": 22.5, \"sky\": \"sunny\"}"},
    {"role": "assistant", "content": "It is 22.5 °C and sunny in Paris."},
    {"role": "user", "content": "Thanks!"},
]
TOOL_CONVERSATION_NO_SYSTEM = TOOL_CONVERSATION[1:]
TOOL_CALL_STRING_ARGUMENTS = [
    {"role": "user", "content": "Time?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call0Time1", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\": \"UTC\"}"}}]},
    {"role": "tool", "tool_call_id": "call0Time1", "content": "09:07"},
]

SPECIALS = {
    "chatml": {},
    "llama2": {"bos_token": "<s>", "eos_token": "</s>", "USE_DEFAULT_PROMPT": True},
    "llama31": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama32": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "zephyr": {"bos_token": "<s>", "eos_token": "</s>"},
    "mistral_v01": {"bos_token": "<s>", "eos_token": "</s>"},
    "mixtral": {"bos_token": "<s>", "eos_token": "</s>"},
    "mistral_v03": {"bos_token": "<s>", "eos_token": "</s>"},
    "mistral_nemo": {"bos_token": "<s>", "eos_token": "</s>"},
    "qwen25": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "qwen3": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "deepseek_r1": {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"},
    "hermes2pro": {"bos_token": "<|begin_of_text|>", "eos_token": "<|im_end|>"},
    "smollm3": {"bos_token": None, "eos_token": "<|im_end|>"},
    "gemma2": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "zephyr_gemma": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "phi3": {"bos_token": "<s>", "eos_token": "<|endoftext|>"},
    "command_r": {"bos_token": "<BOS_TOKEN>", "eos_token": "<|END_OF_TURN_TOKEN|>"},
}
TOOL_TEMPLATES = {"llama31", "llama32", "mistral_v03", "mistral_nemo", "qwen25", "qwen3", "hermes2pro", "smollm3", "deepseek_r1"}
EXTRA_VARIABLES = {
    "llama31": [{}, {"date_string": "02 Dec 2026"}],
    "llama32": [{}, {"tools_in_user_message": False}],
    "qwen3": [{}, {"enable_thinking": False}],
    "smollm3": [{}, {"enable_thinking": False}],
}


def random_conversations(seed, count):
    """Seeded random conversations: random role orders (so alternation checks fire or not), unicode,
    surrounding whitespace and template-like text in content, and optional tool calls."""
    import random
    rng = random.Random(seed)
    pieces = ["hello", "Grüße", "你好", "🙂", "  padded  ", "\n", "\t", "{{ x }}", "{% if %}", "\"q\"", "back\\slash", "<|im_end|>", "[INST]", "ß", "", "  "]
    roles = ["user", "assistant", "system", "tool"]
    out = {}
    for i in range(count):
        messages = []
        length = rng.randint(1, 6)
        alternate = rng.random() < 0.6
        for j in range(length):
            if alternate:
                role = ("system" if j == 0 and rng.random() < 0.5 else ["user", "assistant"][(j - (1 if messages and messages[0]["role"] == "system" else 0)) % 2])
            else:
                role = rng.choice(roles)
            content = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))
            message = {"role": role, "content": content}
            if role == "assistant" and rng.random() < 0.2:
                message["tool_calls"] = [{"id": "callR%04d" % rng.randint(0, 9999), "type": "function",
                                          "function": {"name": "get_time", "arguments": {"tz": rng.choice(["UTC", "CET"]), "n": rng.randint(0, 9)}}}]
            messages.append(message)
        out["random_%02d" % i] = messages
    return out


def template_cases():
    cases = []
    for name in sorted(SPECIALS):
        source = open(os.path.join(HERE, "templates", name + ".jinja"), encoding="utf-8").read()
        convs = dict(CONVERSATIONS)
        convs.update(random_conversations(seed=sum(map(ord, name)), count=8))
        tool_sets = [None]
        if name in TOOL_TEMPLATES:
            convs["tool_calls"] = TOOL_CONVERSATION
            convs["tool_calls_no_system"] = TOOL_CONVERSATION_NO_SYSTEM
            convs["tool_call_string_arguments"] = TOOL_CALL_STRING_ARGUMENTS
            tool_sets.append([WEATHER_TOOL, CLOCK_TOOL])
        for conv_name, messages in convs.items():
            for tools in tool_sets:
                for extra in EXTRA_VARIABLES.get(name, [{}]):
                    for agp in (False, True):
                        variables = {k: v for k, v in SPECIALS[name].items() if v is not None}
                        variables.update(extra)
                        case = {
                            "template": name,
                            "conversation": conv_name,
                            "messages": messages,
                            "tools": tools,
                            "add_generation_prompt": agp,
                            "variables": variables,
                        }
                        full = dict(variables)
                        full.update(messages=messages, tools=tools, documents=None, add_generation_prompt=agp)
                        case.update(render(source, full))
                        cases.append(case)
    return cases


# ---- single language rules ----
INTERPRETER = [
    # precedence and arithmetic
    ("precedence_unary_pow", "{{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ 2 + 3 * 4 }} {{ (2 + 3) * 4 }} {{ (1 + 2) ~ (3 + 4) }} {{ 1 ~ 2 * 3 }}", {}),
    ("concat_binds_tighter_than_plus", "{{ 1 + 2 ~ 3 + 4 }}", {}),
    ("division", "{{ 7 / 2 }} {{ 6 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7.5 // 2 }} {{ 2 ** -1 }}", {}),
    ("logic", "{{ not 1 == 2 }} {{ 1 and 0 }} {{ 0 or 'x' }} {{ none or [] }} {{ true and 'y' }} {{ not none }}", {}),
    ("comparisons", "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'a' }}", {}),
    ("membership", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 3 not in (1, 2) }}", {}),
    ("conditional_expression", "{{ 'yes' if x else 'no' }}|{{ 'only' if false }}|{{ 1 if 0 else 2 if 1 else 3 }}", {"x": [0]}),
    ("filter_binds_after_unary", "{{ -3|abs }} {{ (-3)|abs }} {{ 'ab' ~ 'cd'|upper }}", {}),
    # literals and printing
    ("print_values", "{{ none }}|{{ true }}|{{ 1.0 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ 1.5e300 }}|{{ 0.1 + 0.2 }}|{{ 10 / 3 }}", {}),
    ("print_containers", "{{ [1, 'a', \"b'\", none, true, 2.5] }}|{{ {'a': 1, 'b': [2]} }}|{{ (1,) }}|{{ () }}|{{ ('x', 'y') }}", {}),
    ("string_escapes", "{{ 'a\\nb' }}|{{ \"tab\\there\" }}|{{ 'q\\'s' }}|{{ \"u\\u00e9\\x41\" }}|{{ 'back\\\\slash' }}|{{ 'unknown\\q' }}|{{ 'adj' 'acent' }}", {}),
    ("repr_of_strings", "{{ ['it\\'s', 'say \"hi\"', 'both \\' \"', 'nl\\n'] }}", {}),
    # whitespace control
    ("whitespace_minus", "a  {{- 'b' -}}  c\n  {%- if true -%}  d  {%- endif %}\ne", {}),
    ("trim_and_lstrip_blocks", "line1\n    {% if true %}\n    inside\n    {% endif %}\nline2\n  {{ 'var keeps indent' }}\n", {}),
    ("plus_disables_lstrip", "x\n    {%+ if true %}kept{% endif %}\n", {}),
    ("comments", "a {# a comment #}b\n{# whole line #}\nc {#- trims -#} d", {}),
    ("trailing_newline_dropped", "text\n", {}),
    ("two_trailing_newlines", "text\n\n", {}),
    ("crlf_newlines", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc", {}),
    # loops
    ("loop_variables", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", {}),
    ("loop_prev_next_cycle", "{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('o', 'e') }},{% endfor %}", {}),
    ("loop_else_and_filter", "{% for x in [] %}no{% else %}empty{% endfor %}|{% for x in range(10) if x is odd %}{{ x }}{{ '' if loop.last else ',' }}{% endfor %}", {}),
    ("loop_unpacking", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for (a, b) in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", {"d": {"z": 1, "a": 2, "m": 3}}),
    ("loop_over_dict", "{% for k in d %}{{ k }}{% endfor %}|{% for k, v in d|items %}{{ v }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("loop_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    # scoping
    ("set_in_loop_does_not_leak", "{% set x = 0 %}{% for i in [1, 2] %}[{{ x }}]{% set x = i %}({{ x }}){% endfor %}{{ x }}", {}),
    ("set_in_loop_fresh_each_iteration", "{% for i in [1, 2] %}[{{ y }}]{% set y = i %}{% endfor %}[{{ y }}]", {}),
    ("namespace_carries_out", "{% set ns = namespace(x=0, items=[]) %}{% for i in [1, 2, 3] %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}", {}),
    ("set_in_if_leaks", "{% if true %}{% set y = 3 %}{% endif %}{{ y }}", {}),
    ("set_tuple_and_block", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set blk %}  in {{ a }} block  {% endset %}[{{ blk }}]{% set t | trim | upper %}  shout  {% endset %}[{{ t }}]", {}),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', punct='?') }} {{ greet('Cy', '.') }}", {}),
    ("messages_variable_reassigned", "{% set messages = messages[1:] %}{{ messages|length }}{% for m in messages %}{{ m.role }}{% endfor %}", {"messages": [{"role": "system"}, {"role": "user"}, {"role": "assistant"}]}),
    # undefined
    ("undefined_prints_empty", "[{{ nope }}][{{ nope|default('d') }}][{{ nope is defined }}][{{ nope|length }}][{{ 'a' ~ nope ~ 'b' }}][{{ nope|trim }}]", {}),
    ("missing_attribute_is_undefined", "[{{ d.missing }}][{{ d['missing'] }}][{{ l[5] }}][{{ none.x }}][{{ d.missing is defined }}]", {"d": {"a": 1}, "l": [1]}),
    ("attribute_of_undefined_raises", "{{ nope.attr }}", {}),
    ("item_of_undefined_raises", "{{ nope['x'] }}", {}),
    ("call_of_undefined_raises", "{{ nope() }}", {}),
    ("undefined_plus_raises", "{{ nope + 1 }}", {}),
    ("default_boolean", "{{ ''|default('e') }}|{{ ''|default('e', true) }}|{{ none|default('n') }}|{{ 0|d('z', true) }}", {}),
    # access
    ("subscripts_and_slices", "{{ l[-1] }} {{ l[1:] }} {{ l[:2] }} {{ l[::-1] }} {{ l[::2] }} {{ s[1:3] }} {{ s[-2:] }} {{ s[::-1] }} {{ l[5:] }}", {"l": [1, 2, 3, 4], "s": "héllo"}),
    ("attribute_vs_item", "{{ d.items is defined }} {{ d['items'] }} {{ d.get('a') }} {{ d.get('zz', 'dflt') }} {{ d.get('zz') }}", {"d": {"items": "value", "a": 1}}),
    ("dict_equality", "{{ a == b }} {{ a == c }} {{ [a] == [b] }} {{ a in [c, b] }}", {"a": {"r": "u", "c": [1]}, "b": {"r": "u", "c": [1]}, "c": {"r": "u", "c": [2]}}),
    # string methods
    ("string_methods", "{{ '  x y  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  l'.lstrip() }}|{{ 'r  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ '  a  b \\n c '.split() }}|{{ 'a b c'.split(' ', 1) }}", {}),
    ("string_methods_2", "{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith(('x', 'lo')) }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'Ab'.upper() }}{{ 'Ab'.lower() }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'x</think>y'.split('</think>')[-1] }}", {}),
    # filters
    ("filters_text", "{{ '  pad  '|trim }}|{{ 'xxpadxx'|trim('x') }}|{{ 'hello WORLD'|capitalize }}|{{ 'hello-world foo(bar'|title }}|{{ 'abcabc'|replace('b', 'B') }}|{{ 'text'|upper }}|{{ 'TEXT'|lower }}", {}),
    ("filters_sequences", "{{ [3, 1, 2]|first }} {{ [3, 1, 2]|last }} {{ [3, 1, 2]|length }} {{ 'abc'|list }} {{ [1, 2]|join(', ') }} {{ [3, 1, 2]|sort }} {{ [1, 2, 1]|unique|list }} {{ [1, 2]|reverse|list }} {{ [1, 2, 3]|sum }} {{ [4, 9]|max }}", {}),
    ("filters_select_map", "{{ msgs|selectattr('role', 'equalto', 'user')|list|length }} {{ msgs|rejectattr('role', 'equalto', 'user')|map(attribute='role')|join(',') }} {{ msgs|map(attribute='content')|map('upper')|join('/') }} {{ [0, 1, 2]|select|list }} {{ [1, 2, 3, 4]|select('even')|list }}", {"msgs": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]}),
    ("filter_string_and_int", "{{ 5|string ~ 'x' }} {{ '42'|int + 1 }} {{ '2.5'|float }} {{ 3|float }} {{ 2.7|int }} {{ 'x'|int }}", {}),
    ("filter_items_and_dictsort", "{{ d|items|list }} {{ d|dictsort }}", {"d": {"b": 2, "a": 1}}),
    ("tojson_default", "{{ v|tojson }}", {"v": {"s": "é \"q\" \\ \n\t\u0001", "i": 1, "f": 2.0, "g": 0.1, "b": True, "n": None, "l": [1, [2, {}], []], "u": "你好 🙂"}}),
    ("tojson_indent", "{{ v|tojson(indent=4) }}\n{{ v|tojson(indent=2, sort_keys=true) }}\n{{ v|tojson(separators=(',', ':')) }}\n{{ [1, [], {}]|tojson(indent=1) }}", {"v": {"z": [1, {"k": "v"}], "a": {}, "m": [], "x": 1.5}}),
    ("tojson_ensure_ascii", "{{ 'é你🙂'|tojson(ensure_ascii=true) }}", {}),
    ("tojson_string_and_tuple", "{{ 'plain'|tojson }} {{ (1, 'a')|tojson }} {{ none|tojson }}", {}),
    # tests
    ("tests", "{{ 'a' is string }} {{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ {} is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ none is none }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 1 is sameas true }} {{ [] is sequence }} {{ x is not defined }}", {}),
    ("test_in_and_eq", "{{ 'a' is in 'cat' }} {{ 2 is eq 2 }} {{ 2 is ne 3 }} {{ 3 is gt 2 }} {{ 2 is lt 1 }}", {}),
    # globals
    ("range_and_namespace", "{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(5, 0, -2)|list }} {% set ns = namespace(a=1) %}{% set ns.b = 2 %}{{ ns.a + ns.b }}", {}),
    ("raise_exception_message", "{% if true %}{{ raise_exception('Roles must alternate: ' ~ 3) }}{% endif %}", {}),
    ("strftime_now", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%A %B %-d %j %I%p %y') }}", {}),
    # sandbox and errors
    ("sandbox_refuses_append", "{% set l = [1] %}{{ l.append(2) }}", {}),
    ("type_error_string_plus_int", "{{ 'a' + 1 }}", {}),
    ("syntax_error_unclosed_if", "{% if true %}open", {}),
    ("syntax_error_unknown_tag", "line1\n{% frobnicate %}", {}),
    ("syntax_error_unclosed_expression", "{{ 1 + }}", {}),
    ("unknown_filter", "{{ 1|frobnicate }}", {}),
    # more edges real templates touch
    ("repetition_and_concat", "{{ 'ab' * 3 }}|{{ [1] * 2 }}|{{ 'x' ~ 1 ~ none ~ true }}|{{ 3 * 'z' }}|{{ [1] + [2] }}|{{ 'a' + 'b' }}", {}),
    ("literals_trailing_commas", "{{ [1, 2,] }}|{{ {'a': 1,} }}|{{ (1) }}|{{ ((1, 2)) }}|{{ - 1 }}|{{ not not 1 }}|{{ 1_000 }}|{{ 2.5e-3 }}", {}),
    ("string_indexing", "{{ 'abc'[0] }}{{ 'abc'[-1] }}|{{ 'abc'|first }}{{ 'abc'|last }}|{{ 'abc'|length }}|{{ '🙂x'|length }}|{{ '🙂x'[0] }}", {}),
    ("string_ordering", "{{ 'B' < 'a' }} {{ 'a' < 'B' }} {{ 'é' > 'z' }} {{ [1, 'a'] == [1, 'a'] }} {{ 3 in [3.0] }} {{ 1 in [true] }}", {}),
    ("nested_undefined_raises", "{{ d.a.b }}", {"d": {}}),
    ("undefined_test_chain", "{{ d.a is defined and d.a.b }}|{{ d.x is not defined }}|{{ (d.a or {}).b is defined }}", {"d": {}}),
    ("in_undefined_is_false", "{{ 'x' in nope }}|{% for i in nope %}x{% endfor %}|{{ nope|list }}|{{ nope|join(',') }}", {}),
    ("content_types", "{% for m in messages %}{{ m.content is string }}{{ m.content is iterable }}{{ m.content is mapping }}{{ m.content is none }};{% endfor %}", {"messages": [{"content": "s"}, {"content": [{"type": "text", "text": "t"}]}, {"content": {"k": 1}}, {"content": None}]}),
    ("content_parts", "{% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}{% for p in m.content if p.type == 'text' %}{{ p.text }}{% endfor %}{% endif %}|{% endfor %}", {"messages": [{"content": "plain"}, {"content": [{"type": "image"}, {"type": "text", "text": "A"}, {"type": "text", "text": "B"}]}]}),
    ("loop_length_with_filter", "{% for m in messages if m.role != 'system' %}{{ loop.index }}/{{ loop.length }}{{ m.role[0] }}{% if loop.last %}!{% endif %} {% endfor %}", {"messages": [{"role": "system"}, {"role": "user"}, {"role": "assistant"}, {"role": "user"}]}),
    ("namespace_in_nested_loops", "{% set ns = namespace(n=0, last='') %}{% for a in [1, 2] %}{% for b in [3, 4] %}{% set ns.n = ns.n + a * b %}{% set ns.last = a ~ b %}{% endfor %}{% endfor %}{{ ns.n }} {{ ns.last }}", {}),
    ("macro_sees_outer_and_loops", "{% set sep = '; ' %}{% macro render(items) %}{% for i in items %}{{ i }}{% if not loop.last %}{{ sep }}{% endif %}{% endfor %}{% endmacro %}[{{ render([1, 2, 3]) }}]", {}),
    ("whitespace_mixed", "A\n  {%- if true %}\n\tB\n\t{%- endif -%}\n   C  {{- ' D ' -}}  E\n  {# c #}\n  F {{ 'G' }}\n", {}),
    ("lstrip_tabs_and_first_line", "\t {% if true %}x{% endif %}\n \t{% for i in [1] %}{{ i }}{% endfor %} tail", {}),
    ("trim_blocks_only_one_newline", "{% if true %}\n\nA{% endif %}\n\nB", {}),
    ("variable_end_keeps_newline", "{{ 'a' }}\nb{{ 'c' -}}\n\nd", {}),
    ("set_whitespace_control", "x\n{%- set a = 1 -%}\n  y{{ a }}\n{% set b = 2 %}\nz{{ b }}", {}),
    ("tojson_nested_indent_unicode", "{{ tools|tojson(indent=2) }}", {"tools": [{"name": "f", "description": "Ünïcode — ok", "parameters": {"type": "object", "properties": {"x": {"type": "number", "default": -0.5}, "y": {"enum": [1, 2.0, "3"]}}}}]}),
    ("tojson_floats", "{{ [1.0, 1e-7, 123456789.123, 1e22, -0.0, 100.0, 0.5]|tojson }}", {}),
    ("items_of_dict_literal", "{% for k, v in {'b': 1, 'a': [2]}.items() %}{{ k }}{{ v }}{% endfor %}|{{ {'x': 1}.keys()|list }}|{{ {'x': 1}.values()|list }}", {}),
    ("split_and_strip_chains", "{{ ('<think>a</think>\n\nanswer'.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')) }}|{{ 'a\n\nb'.split('\n') }}|{{ ' x '.strip(' x') }}", {}),
    ("comparison_chain_types", "{{ 1 < 2.5 }} {{ 2 == 2.0 }} {{ 'a' == 1 }} {{ none == none }} {{ [] == [] }} {{ {} == {} }}", {}),
    ("compare_incompatible_raises", "{{ 'a' < 1 }}", {}),
    ("default_none_is_not_undefined", "{{ x|default('d') }}|{{ y|default('d') }}", {"x": None}),
    ("length_of_number_raises", "{{ 5|length }}", {}),
    ("dict_method_on_list_undefined", "[{{ [1].keys is defined }}][{{ 'abc'.nope is defined }}]", {}),
    ("range_negative_and_empty", "{{ range(0)|list }}{{ range(3, 1)|list }}{{ range(-2, 2)|list }}", {}),
    ("ints_stay_ints", "{{ 10 // 3 }} {{ 2 ** 10 }} {{ 7 - 10 }} {{ -(3) }} {{ 1 + true }} {{ [1, 2][-1] + 1 }} {{ 3 * -1 }}", {}),
    ("break_in_nested_loop_only_inner", "{% for a in [1, 2] %}{% for b in [1, 2, 3] %}{% if b == 2 %}{% break %}{% endif %}{{ a }}{{ b }} {% endfor %}{% endfor %}", {}),
    ("loop_variable_shadowing", "{% for x in [1, 2] %}{% for x in ['a'] %}{{ x }}{% endfor %}{{ x }}{% endfor %}{{ x }}", {}),
    ("outer_loop_via_set", "{% for a in 'ab' %}{% set outer = loop %}{% for b in 'xy' %}{{ outer.index }}{{ loop.index }} {% endfor %}{% endfor %}", {}),
    ("is_test_after_filter", "{{ messages|length is even }} {{ 'x'|upper is upper }} {{ not messages|length > 1 }}", {"messages": [1, 2]}),
    ("equalto_on_missing_attribute", "{{ msgs|selectattr('tool_calls', 'defined')|list|length }} {{ msgs|selectattr('role', 'in', ['user', 'tool'])|list|length }}", {"msgs": [{"role": "user"}, {"role": "assistant", "tool_calls": []}, {"role": "tool"}]}),
    ("round_indent_splitlines", "{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 1.25|round(1, 'floor') }} {{ 7|round }}|{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(first=true) }}|{{ 'a\\n\\nb'|indent('> ', blank=true) }}|{{ 'x\\r\\ny\\rz\\n'.splitlines() }}", {}),
    ("method_missing_argument", "{{ 'x'.startswith() }}", {}),
    ("dict_of_non_mapping", "{{ dict(5) }}", {}),
    ("generation_block", "{% for m in messages %}{% generation %}[{{ m }}]{% endgeneration %}{% endfor %}", {"messages": ["a", "b"]}),
]


def interpreter_cases():
    cases = []
    for name, source, variables in INTERPRETER:
        case = {"name": name, "template": source, "variables": variables}
        case.update(render(source, variables))
        cases.append(case)
    return cases


def main():
    if not jinja2.__version__.startswith("3."):
        sys.exit(f"jinja2 3.x expected, found {jinja2.__version__}")
    meta = {"jinja2": jinja2.__version__, "fixed_now": FIXED_NOW.isoformat()}
    with open(os.path.join(HERE, "templates.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "cases": template_cases()}, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(HERE, "interpreter.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "cases": interpreter_cases()}, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
