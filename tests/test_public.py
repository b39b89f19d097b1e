"""The public surface is checked, not hoped for (design.md lists these names)."""

from __future__ import annotations

import ollama_nb
from ollama_nb import _errors as errors


def test_all_is_the_public_surface():
    assert set(ollama_nb.__all__) == {
        "Client", "Stream", "Reply", "Chunk", "Progress", "Conversation", "ChatWidget", "ModelBrowser",
        "OllamaError", "ServerUnreachable", "InvalidRequest", "InsecureKeyError", "RequestError", "ResponseError",
        "ModelNotFound", "AuthenticationError", "StreamError", "ServerStreamError", "StreamCut",
        "MalformedChunk", "StallTimeout", "load_ipython_extension", "unload_ipython_extension",
        "SigninRequired", "CloudDisabled", "HostRefused", "ServerBusy", "RateLimited", "UsageLimit", "ProxyError",
        "RetryCancelled", "Retry",
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
    which ollama-python also leaves out so that `import *` cannot shadow list(). Submodules are
    the package's layout (``ollama_nb.testing`` is public by design), not names it defines."""
    import json
    import subprocess
    import sys

    code = (
        "import json, types, ollama_nb as o; from ollama_nb import _default;"
        "print(json.dumps([sorted(n for n, v in vars(o).items() if not n.startswith('_')"
        " and not isinstance(v, types.ModuleType)), list(_default.NAMES)]))"
    )
    names, functions = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    lazy = {"ChatWidget", "ModelBrowser"}  # imported on first use, so they are not there yet
    assert set(names) == set(ollama_nb.__all__) - lazy | set(functions)
    assert not set(functions) & set(ollama_nb.__all__)
