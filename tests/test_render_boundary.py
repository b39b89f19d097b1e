"""Only the render layer turns text into HTML, and nothing emits Markdown (issue 9).

A static check of ollama_nb/ outside ollama_nb/_render/ (and the emulator in ollama_nb/testing/,
which plays a server and writes a server's pages):

- no ``text/markdown`` bundle, no ``_repr_markdown_``, no ``IPython.display.Markdown``: a trusted
  Markdown output is rendered raw by JupyterLab;
- a string with HTML markup in it (an f-string, a ``+`` chain, ``%`` or ``.format``) interpolates
  only safe values: constants, numbers, calls into the render layer (``chrome.esc(...)``,
  ``chrome.code(...)``, ``model_html(...)``), the number formatters of ollama_nb._format, and names
  bound only to such values in the same function;
- a ``"text/html"`` entry of a bundle is a call (into the render layer), never a literal or a
  string built in place;
- and, stricter than all of the above: no string literal outside ``_render/`` holds an HTML tag at
  all (:func:`test_no_html_tag_literal_outside_the_render_layer`), so a view asks a builder of
  ``ollama_nb._render.chrome`` for every piece of markup, escaped there.
"""

from __future__ import annotations

import ast
import pathlib
import re
from collections.abc import Iterator

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "ollama_nb"
EXEMPT = ("_render", "testing")
# HTML elements (lower case, as we write them); "<Stream chat of 'x'>" in a repr is not markup.
MARKUP = re.compile(
    r"</?(a|abbr|audio|b|blockquote|body|br|button|code|details|div|em|embed|form|h[1-6]|head|hr|html|i|iframe"
    r"|img|input|kbd|li|link|math|meta|object|ol|p|picture|pre|s|script|small|source|span|strong|style|sub"
    r"|summary|sup|svg|table|tbody|td|textarea|th|thead|tr|u|ul|video)(\s|>|/)"
)
# ollama_nb._format helpers that turn numbers and times into units; never echo their input.
NUMBER_FORMATTERS = {"size", "duration", "rate", "speed", "ago", "expires_in"}
SAFE_BUILTINS = {"int", "len", "float", "round", "min", "max", "abs", "sum"}


def modules() -> list[pathlib.Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in EXEMPT)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


class Checker:
    """Finds the problems of one module (see the module docstring)."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(), str(path))
        self.docstrings = _docstrings(self.tree)
        self.render_names, self.format_names = self._imports()
        self.problems: list[str] = []

    def _imports(self) -> tuple[set[str], set[str]]:
        render, formats = set(), set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                mod = ("." * node.level) + (node.module or "")
                for alias in node.names:
                    bound = alias.asname or alias.name
                    full = f"{mod}.{alias.name}" if node.module else f"{mod}{alias.name}"
                    if re.search(r"(^|\.)_render(\.|$)", full) or re.search(r"(^|\.)_render(\.|$)", mod):
                        render.add(bound)
                    if re.search(r"(^|\.)_format$", full) or (mod.endswith("_format") and alias.name in NUMBER_FORMATTERS):
                        formats.add(bound)
        return render, formats

    def report(self, node: ast.AST, what: str) -> None:
        self.problems.append(f"{self.path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}: {what}")

    # ---------------------------------------------------------------- value safety

    def safe(self, node: ast.AST, scope: dict[str, list[ast.AST]], depth: int = 0) -> bool:
        if depth > 8:
            return False
        rec = lambda n: self.safe(n, scope, depth + 1)  # noqa: E731
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(rec(v) for v in node.values)
        if isinstance(node, ast.FormattedValue):
            spec = node.format_spec
            text = "".join(v.value for v in getattr(spec, "values", []) if isinstance(v, ast.Constant))
            if spec is not None and re.fullmatch(r"[<>^=+ 0-9,_.-]*[bcdeEfFgGnoxX%]", text):
                return True  # a number format
            return rec(node.value)
        if isinstance(node, ast.IfExp):
            return rec(node.body) and rec(node.orelse)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return rec(node.left) and rec(node.right)
        if isinstance(node, ast.Call):
            func = node.func
            root = func
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in self.render_names:
                return True
            if isinstance(func, ast.Attribute) and isinstance(root, ast.Name) and root.id in self.format_names:
                return func.attr in NUMBER_FORMATTERS
            if isinstance(func, ast.Name) and (func.id in SAFE_BUILTINS or func.id in self.format_names & NUMBER_FORMATTERS):
                return True
            if isinstance(func, ast.Attribute) and func.attr == "join" and isinstance(func.value, ast.Constant):
                arg = node.args[0] if node.args else None
                if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
                    return rec(arg.elt)
                return arg is not None and rec(arg)
            return False
        if isinstance(node, ast.Name):
            bound = scope.get(node.id)
            return bool(bound) and all(rec(b) for b in bound)
        if isinstance(node, (ast.List, ast.Tuple)):
            return all(rec(e) for e in node.elts)
        return False

    def _scope(self, func: ast.AST) -> dict[str, list[ast.AST]]:
        """Name -> every value bound to it in ``func`` (assignments, += and loop targets)."""
        scope: dict[str, list[ast.AST]] = {}
        for node in ast.walk(func):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        scope.setdefault(target.id, []).append(node.value)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name) and node.value:
                scope.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name):
                it = node.iter
                scope.setdefault(node.target.id, []).append(it if isinstance(it, (ast.List, ast.Tuple)) else ast.Name("<loop>"))
            elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Tuple) \
                    and isinstance(node.iter, (ast.List, ast.Tuple)) \
                    and all(isinstance(e, ast.Tuple) and len(e.elts) == len(node.target.elts) for e in node.iter.elts):
                # for title, key in (("Parameters", "parameters"), ...): each name takes its column
                for i, name in enumerate(node.target.elts):
                    if isinstance(name, ast.Name):
                        scope.setdefault(name.id, []).extend(e.elts[i] for e in node.iter.elts)  # type: ignore[attr-defined]
            elif isinstance(node, (ast.For, ast.comprehension)):
                for name in ast.walk(node.target):
                    if isinstance(name, ast.Name):
                        scope.setdefault(name.id, []).append(ast.Name("<loop>"))
            elif isinstance(node, ast.arg):
                scope.setdefault(node.arg, []).append(ast.Name("<argument>"))
            elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                scope.setdefault(node.target.id, []).append(node.value)
        return scope

    # ---------------------------------------------------------------- the rules

    def _markup(self, node: ast.AST) -> bool:
        parts = [node] if isinstance(node, ast.Constant) else list(ast.walk(node))
        return any(isinstance(p, ast.Constant) and isinstance(p.value, str) and id(p) not in self.docstrings
                   and MARKUP.search(p.value) for p in parts)

    def check(self) -> list[str]:
        functions = [n for n in ast.walk(self.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        owner: dict[int, ast.AST] = {}
        for func in functions:
            for node in ast.walk(func):
                owner.setdefault(id(node), func)
        scopes: dict[int, dict[str, list[ast.AST]]] = {}

        def scope_of(node: ast.AST) -> dict[str, list[ast.AST]]:
            func = owner.get(id(node), self.tree)
            if id(func) not in scopes:
                scopes[id(func)] = self._scope(func)
            return scopes[id(func)]

        seen_strings: set[int] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant) and node.value == "text/markdown" and id(node) not in self.docstrings:
                self.report(node, "a text/markdown bundle (JupyterLab renders trusted Markdown raw)")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "_repr_markdown_":
                self.report(node, "_repr_markdown_ (emit sanitized text/html from ollama_nb._render)")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names]
                if isinstance(node, ast.ImportFrom) and node.module == "IPython.display" and "Markdown" in names:
                    self.report(node, "IPython.display.Markdown")
            # strings with markup: every interpolated value must be safe
            built = None
            if (isinstance(node, ast.JoinedStr) and id(node) not in seen_strings) or (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)) and self._markup(node)) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                    and self._markup(node.func.value)):
                built = node
            if built is not None:
                for inner in ast.walk(built):
                    seen_strings.add(id(inner))
                if self._markup(built) and not self._safe_markup(built, scope_of(built)):
                    self.report(built, f"HTML built from a value that is not escaped: {ast.unparse(built)[:120]}")
            # bundles: "text/html" must be a render-layer call
            pairs: list[tuple[ast.AST, ast.AST]] = []
            if isinstance(node, ast.Dict):
                pairs = [(k, v) for k, v in zip(node.keys, node.values) if k is not None]
            elif isinstance(node, ast.Assign):
                pairs = [(t.slice, node.value) for t in node.targets if isinstance(t, ast.Subscript)]
            for key, value in pairs:
                if isinstance(key, ast.Constant) and key.value == "text/html" and not self._render_call(value):
                    self.report(value, f"a text/html entry not made by the render layer: {ast.unparse(value)[:100]}")
        return self.problems

    def _safe_markup(self, built: ast.AST, scope: dict[str, list[ast.AST]]) -> bool:
        if isinstance(built, ast.JoinedStr):
            return all(self.safe(v, scope) for v in built.values)
        if isinstance(built, ast.BinOp) and isinstance(built.op, ast.Mod):
            return self.safe(built.right, scope)
        if isinstance(built, ast.Call):
            return all(self.safe(a, scope) for a in [*built.args, *(k.value for k in built.keywords)])
        return self.safe(built, scope)

    def _render_call(self, value: ast.AST) -> bool:
        if not isinstance(value, ast.Call):
            return False
        root = value.func
        while isinstance(root, ast.Attribute):
            root = root.value
        # a render-layer function, or a method of ours that returns one (checked where it is built)
        return isinstance(root, ast.Name) and (root.id in self.render_names or root.id == "self")


def _all_problems() -> Iterator[str]:
    for path in modules():
        yield from Checker(path).check()


def test_no_view_builds_html_or_markdown_from_text():
    problems = list(_all_problems())
    assert not problems, "HTML or Markdown made outside ollama_nb/_render/:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source, complaint",
    [
        ('display({"text/markdown": reply.content}, raw=True)', "text/markdown"),
        ("class R:\n    def _repr_markdown_(self):\n        return self.text", "_repr_markdown_"),
        ('def f(model):\n    return f"<sub>{model}</sub>"', "not escaped"),
        ('def f(model):\n    return "<b>" + model + "</b>"', "not escaped"),
        ('def f(m):\n    return "<i>%s</i>" % m', "not escaped"),
        ('def f(m):\n    return "<i>{}</i>".format(m)', "not escaped"),
        ('def f(m):\n    x = m.name\n    return f"<p>{x}</p>"', "not escaped"),
        ('def f(info):\n    for t, k in (("A", "a"), (info, "b")):\n        yield f"<p>{t}</p>"', "not escaped"),
        ('def f(text):\n    return {"text/html": text, "text/plain": text}', "text/html entry"),
        ('def f(text):\n    return {"text/html": f"<p>{text}</p>"}', "text/html entry"),
    ],
)
def test_the_check_catches_each_pattern(tmp_path, source, complaint):
    path = PACKAGE / "_magic" / "_boundary_probe.py"  # a path inside the package, never written
    checker = Checker.__new__(Checker)
    checker.path = path
    checker.tree = ast.parse(source)
    checker.docstrings = _docstrings(checker.tree)
    checker.render_names, checker.format_names = checker._imports()
    checker.problems = []
    assert any(complaint in p for p in checker.check()), (source, checker.problems)


def test_the_check_accepts_escaped_and_rendered_values():
    source = (
        "from .._render import chrome, model_html\nfrom .. import _format as fmt_\n"
        "def f(model, n, rows):\n"
        "    title = 'Models'\n"
        "    cells = ''.join(f'<td>{chrome.esc(r)}</td>' for r in rows)\n"
        "    body = f'<p><b>{title}</b> {chrome.esc(model)} ({len(rows)}) {fmt_.size(n)} {n:.1f}</p>{cells}'\n"
        "    return {'text/html': chrome.page(body, model_html(model)), 'text/plain': model}\n"
    )
    checker = Checker.__new__(Checker)
    checker.path = PACKAGE / "_magic" / "_boundary_probe.py"
    checker.tree = ast.parse(source)
    checker.docstrings = _docstrings(checker.tree)
    checker.render_names, checker.format_names = checker._imports()
    checker.problems = []
    assert checker.check() == []


# The emulator plays a server and the models behind it; these are the only tags it writes, each
# something a real server or model sends, never our own chrome.
TAG_LITERALS_ALLOWED = {
    "testing/_server.py": "the body of a redirect, as an HTTP server writes one",
    "testing/_scenarios.py": "a model answer with hostile HTML in it, for the payload tests",
}


def _tag_literals(path: pathlib.Path) -> list[str]:
    """``file:line: text`` of each string literal (docstrings aside) with an HTML tag in it."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    docstrings = _docstrings(tree)
    return [
        f"{path.relative_to(path.parents[1])}:{node.lineno}: {node.value[:80]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
        and MARKUP.search(node.value)
    ]


def test_no_html_tag_literal_outside_the_render_layer():
    found, allowed_seen = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where.startswith("_render/"):
            continue
        hits = _tag_literals(path)
        if where in TAG_LITERALS_ALLOWED:
            if hits:
                allowed_seen.add(where)
            continue
        found += hits
    assert not found, "HTML tags outside ollama_nb/_render/ (add a builder to _render/chrome.py):\n" + "\n".join(found)
    # An exception that no longer has a tag to excuse goes too.
    assert allowed_seen == set(TAG_LITERALS_ALLOWED), set(TAG_LITERALS_ALLOWED) - allowed_seen


def test_the_tag_literal_check_sees_every_kind_of_string(tmp_path):
    probe = tmp_path / "pkg" / "probe.py"
    probe.parent.mkdir()
    for source in ('x = "<div>"', 'x = f"<span>{y}</span>"', 'def f():\n    return "<td>" + y', 'x = "</table>"'):
        probe.write_text(source)
        assert _tag_literals(probe), source
    probe.write_text('"""<div> in a docstring is prose."""\nx = "<image sent to the model>"\ny = "a < b"')
    assert _tag_literals(probe) == []
