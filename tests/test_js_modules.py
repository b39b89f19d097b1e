"""The widgets' front end keeps its shape (issue 18): small ES modules, one DOM helper that refuses
to turn a string into markup, a handler or a URL, and markup made nowhere else.

Read as text (the sources in js/), and dom.js run in Node against a stand-in document.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess

import pytest

JS = pathlib.Path(__file__).resolve().parents[1] / "js"
SOURCES = sorted(p for p in JS.rglob("*.js") if "node_modules" not in p.parts and p.name != "build.mjs")
# markdown/ is the one place that parses and sanitizes model Markdown (parse.js decodes a link in an
# inert element, code.js puts highlight.js's sanitized spans in, render.js reads a fragment's HTML);
# dom.js is h() itself.
MARKUP_HOMES = {"markdown/parse.js", "markdown/code.js", "markdown/render.js", "dom.js"}


def test_modules_are_small():
    big = {p.relative_to(JS).as_posix(): n for p in SOURCES if (n := len(p.read_text().splitlines())) > 500}
    assert not big, big


def test_elements_are_made_only_by_the_one_helper():
    made = []
    for path in SOURCES:
        if path.relative_to(JS).as_posix() in MARKUP_HOMES:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"createElement\(|\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write", line):
                made.append(f"{path.relative_to(JS)}:{n}: {line.strip()}")
    assert not made, "\n".join(made)


def test_the_helper_refuses_what_could_run_or_load():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run js/dom.js (apt-get install nodejs)")
    script = """
      globalThis.Node = class {};
      globalThis.document = { createElement: (tag) => ({ tag, dataset: {}, style: {}, attrs: {},
        setAttribute(k, v) { this.attrs[k] = v; }, append() {} }), createTextNode: (t) => t };
      const { h } = await import(process.argv[1]);
      const refused = [];
      for (const key of ["innerHTML", "outerHTML", "onclick", "onerror", "ONLOAD", "src", "href", "srcdoc",
                         "action", "formaction", "xlink:href"]) {
        try { h("div", { [key]: "x" }); } catch (e) { refused.push(key); }
      }
      const ok = h("a", { class: "c", text: "t", title: "x", "aria-label": "y", data: { name: "n" } });
      console.log(JSON.stringify({ refused, ok: [ok.className, ok.textContent, ok.attrs, ok.dataset] }));
    """
    out = subprocess.run([node, "--input-type=module", "-e", script, str(JS / "dom.js")],
                         capture_output=True, text=True, check=True, timeout=60)
    got = json.loads(out.stdout)
    assert got["refused"] == ["innerHTML", "outerHTML", "onclick", "onerror", "ONLOAD", "src", "href", "srcdoc",
                              "action", "formaction", "xlink:href"]
    assert got["ok"] == ["c", "t", {"title": "x", "aria-label": "y"}, {"name": "n"}]
