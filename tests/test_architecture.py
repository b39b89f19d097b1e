"""The layout rules of docs/architecture.md, checked: no import cycle inside the package, and every
import (at module level, inside a function, or for type checking only) goes to the same layer or a
lower one of :data:`LAYERS`."""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "ollama_nb"


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: pathlib.Path, modules: dict[str, pathlib.Path]) -> set[str]:
    """Modules of the package that ``name`` imports when it is imported (imports inside functions
    and under ``if TYPE_CHECKING`` run later, or never)."""
    return {target for target, how in _every_import(name, path, modules).items() if how == "module"}


# Lowest first. A module may import from its own layer and the ones below it, never from above:
# that is what keeps the flow one way (Client -> Reply -> turn runner -> view -> render).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("leaf", ("_version", "_terminal", "_status", "_stopper", "_display", "_hosts", "_redact", "_pacing", "_suggest", "_identity", "_models_memo",
              "tools", "_notebook", "_summary", "_codeblocks", "_settings_file")),
    ("wire", ("_errors", "_http_errors", "_wire", "_retry", "_images", "_request", "_types", "_reply", "_format", "_quota")),
    ("client", ("_session", "_policy", "_abort", "_transport", "_stream", "_client", "_async_stream", "_async",
                "_config")),
    ("conversation", ("_context", "_conversation", "_outcome", "_turn", "_pull", "_tutor", "_store", "_default")),
    ("render", ("_render",)),
    ("live", ("_live",)),
    ("views", ("_magic", "_widgets", "_reply_view")),
    ("batch", ("_map",)),  # many requests: drives the client and a progress view; Client.map calls it by a hook
    ("public", ("", "log")),  # ollama_nb itself (the names it re-exports), and ollama_nb.log
]
# The emulator is a server of its own: it may use the layers below the views, and the package
# imports nothing of it (how it names itself, which %ollama doctor reads, is the leaf _identity).
EMULATOR = "testing"
EMULATOR_NAMED: set[str] = set()


def layer_of(module: str) -> int:
    """Index in LAYERS of ``ollama_nb.x.y`` (by its first part under the package)."""
    first = module.split(".")[1] if "." in module else ""
    for index, (_, names) in enumerate(LAYERS):
        if first in names:
            return index
    raise AssertionError(f"{module} is in no layer of tests/test_architecture.py: add it to LAYERS")


def _every_import(name: str, path: pathlib.Path, modules: dict[str, pathlib.Path]) -> dict[str, str]:
    """Modules of the package that ``name`` imports anywhere -> how ("module", "function" or
    "TYPE_CHECKING")."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text("utf-8"))
    how: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                how[id(inner)] = "TYPE_CHECKING"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                how.setdefault(id(inner), "function")
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]
        else:
            continue
        for target in targets:
            if target in modules and target != name:
                found.setdefault(target, how.get(id(node), "module"))
    return found


def test_every_import_goes_down_the_layers():
    modules = _modules()
    upward = []
    for name, path in sorted(modules.items()):
        if name.split(".")[1:2] == [EMULATOR]:
            continue
        for target, how in sorted(_every_import(name, path, modules).items()):
            if target.split(".")[1:2] == [EMULATOR] and target not in EMULATOR_NAMED:
                upward.append(f"{name} imports the emulator {target} ({how})")
            elif target not in EMULATOR_NAMED and layer_of(target) > layer_of(name):
                upward.append(
                    f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} ({LAYERS[layer_of(target)][0]}) ({how})"
                )
    assert not upward, "imports that go up the layers of docs/architecture.md:\n" + "\n".join(upward)


def test_every_module_has_a_layer():
    for name in _modules():
        if name.split(".")[1:2] != [EMULATOR]:
            layer_of(name)


def test_the_layer_check_sees_function_and_type_checking_imports(tmp_path):
    pkg = tmp_path / "ollama_nb"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "_reply.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._turn import TurnRunner\n"
        "def f():\n    from ._live import LiveOutput\n"
    )
    (pkg / "_turn.py").write_text("")
    (pkg / "_live.py").write_text("")
    modules = {"ollama_nb": pkg / "__init__.py", **{f"ollama_nb.{n}": pkg / f"{n}.py" for n in ("_reply", "_turn", "_live")}}
    found = _every_import("ollama_nb._reply", pkg / "_reply.py", modules)
    assert found == {"ollama_nb._turn": "TYPE_CHECKING", "ollama_nb._live": "function"}
    assert layer_of("ollama_nb._live") > layer_of("ollama_nb._turn") > layer_of("ollama_nb._reply")


def test_no_import_cycle_in_the_package():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycles, done, path = [], set(), []

    def visit(node: str) -> None:
        if node in path:
            cycles.append([*path[path.index(node):], node])
            return
        if node in done:
            return
        path.append(node)
        for dep in sorted(graph[node]):
            visit(dep)
        path.pop()
        done.add(node)

    for name in sorted(graph):
        visit(name)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_can_fail(tmp_path, monkeypatch):
    """The walk above finds a cycle where there is one (so its silence means something)."""
    pkg = tmp_path / "ollama_nb"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("from .a import x\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", pkg)
    try:
        test_no_import_cycle_in_the_package()
    except AssertionError as exc:
        assert "ollama_nb.a -> ollama_nb.b -> ollama_nb.a" in str(exc)
    else:
        raise AssertionError("a cycle went unnoticed")
