"""The public surface is checked, not hoped for (design.md lists these names)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

import ollama_nb
from ollama_nb import _errors as errors

PACKAGE = pathlib.Path(ollama_nb.__file__).parent
#: The public modules (httpx's rule: everything else has a private name, itself or a parent's).
PUBLIC = ("ollama_nb", "ollama_nb.tools", "ollama_nb.testing", "ollama_nb.log")


def _module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def _is_private(name: str) -> bool:
    """The module or one of its parent packages has a private name (``__main__`` is run, not imported)."""
    return any(part.startswith("_") for part in name.split(".")[1:])


def _public_namespace(module: str, path: str = "") -> tuple[list[str], list[str]]:
    """A fresh interpreter's public names of ``module`` (not submodules), and its ``__all__``."""
    code = (
        "import importlib, json, types, sys; m = importlib.import_module(sys.argv[1]);"
        "print(json.dumps([sorted(n for n, v in vars(m).items() if not n.startswith('_')"
        " and not isinstance(v, types.ModuleType)), sorted(m.__all__)]))"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (path, os.environ.get("PYTHONPATH", "")) if p))
    out = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True, check=True, env=env)
    names, listed = json.loads(out.stdout)
    return names, listed


def test_all_is_the_public_surface():
    assert set(ollama_nb.__all__) == {
        "Client", "Stream", "Reply", "Chunk", "Progress", "Conversation", "ChatWidget", "ModelBrowser",
        "OllamaError", "ServerUnreachable", "InvalidRequest", "InsecureKeyError", "RequestError", "ResponseError",
        "ModelNotFound", "AuthenticationError", "StreamError", "ServerStreamError", "StreamCut",
        "MalformedChunk", "StallTimeout", "load_ipython_extension", "unload_ipython_extension",
        "SigninRequired", "CloudDisabled", "HostRefused", "ServerBusy", "RateLimited", "UsageLimit", "ProxyError",
        "RetryCancelled", "Retry", "RetryWait", "default_client",
        "AccountUnavailable",  # /api/me's 503 that is not a busy server (issue 23)
        "AsyncClient",  # ollama-python's async client (issue 19)
        # ollama-python's public names, so its users' imports work unchanged
        "ChatResponse", "GenerateResponse", "EmbedResponse", "EmbeddingsResponse", "ListResponse",
        "ShowResponse", "ProcessResponse", "ProgressResponse", "StatusResponse", "WebSearchResponse",
        "WebFetchResponse", "Message", "Options", "Tool", "Image",
    }
    for name in ollama_nb.__all__:
        assert getattr(ollama_nb, name) is not None


def test_every_error_is_an_ollama_error_and_exported():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.OllamaError) and getattr(ollama_nb, name) is cls
        assert cls.__doc__, f"{name} needs a one-line docstring"


def test_builtin_bases_users_may_catch():
    assert issubclass(errors.ServerUnreachable, ConnectionError)
    assert issubclass(errors.StallTimeout, TimeoutError)
    assert issubclass(errors.InvalidRequest, ValueError)
    assert issubclass(errors.ModelNotFound, errors.ResponseError)


def test_the_namespace_is_all_plus_ollama_pythons_module_functions():
    """httpx's rule, checked in a fresh interpreter (nothing else imported yet): every public name
    of the package is in __all__, except ollama-python's module functions (chat, list, ...),
    which ollama-python also leaves out so that `import *` cannot shadow list(), and our own
    ``map`` for the same reason. Submodules are
    the package's layout (``ollama_nb.testing`` is public by design), not names it defines."""
    code = (
        "import json, types, ollama_nb as o; from ollama_nb import _default;"
        "print(json.dumps([sorted(n for n, v in vars(o).items() if not n.startswith('_')"
        " and not isinstance(v, types.ModuleType)), [*_default.NAMES, *_default.OURS]]))"
    )
    names, functions = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    lazy = {"ChatWidget", "ModelBrowser"}  # imported on first use, so they are not there yet
    assert set(names) == set(ollama_nb.__all__) - lazy | set(functions)
    assert not set(functions) & set(ollama_nb.__all__)


def test_every_module_is_public_or_private_by_name():
    offenders = [
        name
        for name in _module_names()
        if name not in PUBLIC and not _is_private(name)
    ]
    assert not offenders, f"neither a public module nor a private name: {offenders} (name it _{{...}})"
    assert _is_private("ollama_nb._render.answer") and _is_private("ollama_nb._widgets")
    assert not _is_private("ollama_nb.answers") and _is_private("ollama_nb.testing.__main__")


@pytest.mark.parametrize("module", [m for m in PUBLIC if m != "ollama_nb"])
def test_a_public_modules_all_is_its_public_namespace(module):
    """``ollama_nb`` itself is held above (its ollama-python module functions stay out of __all__)."""
    names, listed = _public_namespace(module)
    assert names == listed


def test_the_namespace_check_sees_an_imported_helper(tmp_path):
    """The check above fails on a public module that leaks an imported name (so it can fail)."""
    (tmp_path / "leaky.py").write_text("from typing import Any\n__all__ = ['f']\ndef f() -> Any: ...\n")
    names, listed = _public_namespace("leaky", str(tmp_path))
    assert names == ["Any", "f"] and listed == ["f"]


def test_notebooks_and_readme_import_only_public_names():
    root = PACKAGE.parent
    texts = {p.name: p.read_text("utf-8") for p in [root / "README.md", *sorted((root / "notebooks").glob("*.ipynb"))]}
    private = re.compile(r"ollama_nb(?:\.\w+)*\._(?!_)\w+")
    found = {name: sorted(set(private.findall(text))) for name, text in texts.items()}
    assert not {name: hits for name, hits in found.items() if hits}
