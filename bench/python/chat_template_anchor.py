#!/usr/bin/python3
"""Anchor for the `templates` bench suite: renders one chat template with Python's jinja2 in transformers'
environment (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, tojson with
ensure_ascii=False) for about SECONDS seconds and prints renders per second and the rendered text's length.
usage: chat_template_anchor.py TEMPLATE.jinja CASE.json SECONDS [cpu]
("cpu" times by process CPU time, as the suite's --cpu-time does; otherwise wall time.)
CASE.json holds {"messages", "tools", "add_generation_prompt", "variables"}."""
import json
import sys
import time

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


def main():
    source = open(sys.argv[1], encoding="utf-8").read()
    case = json.load(open(sys.argv[2], encoding="utf-8"))
    seconds = float(sys.argv[3])
    clock = time.process_time if len(sys.argv) > 4 and sys.argv[4] == "cpu" else time.perf_counter

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda f: time.strftime(f)
    start = time.perf_counter()
    template = env.from_string(source)
    compile_seconds = time.perf_counter() - start
    variables = dict(case["variables"])
    variables.update(messages=case["messages"], tools=case["tools"], documents=None, add_generation_prompt=case["add_generation_prompt"])
    text = template.render(**variables)
    n = 0
    start = clock()
    while True:
        template.render(**variables)
        n += 1
        elapsed = clock() - start
        if elapsed >= seconds:
            break
    print(json.dumps({"renders_per_second": n / elapsed, "compile_seconds": compile_seconds, "chars": len(text)}))


if __name__ == "__main__":
    main()
