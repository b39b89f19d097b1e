"""ollama_nb: Ollama (a local server or Ollama Cloud) in Jupyter.

Three faces over one core, and a drop-in for ollama-python
(``import ollama_nb as ollama; ollama.chat("llama3.2", messages=[...])``):

- :class:`Client` — every route of the Ollama HTTP API on ``requests``, streaming into
  :class:`Reply` objects; the code in Ollama's docs works with ``from ollama_nb import Client``.
  :class:`AsyncClient` is its ``await`` form (``await client.chat(...)``, ``async for``).
- ``%load_ext ollama_nb`` — the ``%%ollama`` / ``%ollama`` magics.
- :class:`ChatWidget` and :class:`ModelBrowser` — anywidget widgets.

The public modules are ``ollama_nb`` (this list, ``__all__``), ``ollama_nb.tools`` (tool schemas
and running tool calls) and ``ollama_nb.testing`` (the emulator); every other module is private.
:func:`default_client` is the client the magics, the widgets and the module-level functions
share; a :class:`RetryWait` is what a retry hook (``Client(on_retry=...)``) is told.

Usage::

    from ollama_nb import Client
    client = Client()   # OLLAMA_HOST, else http://127.0.0.1:11434
    print(client.chat("llama3.2", messages=[{"role": "user", "content": "Hi"}]).content)
"""

# No `from __future__ import annotations` and no bare typing imports here: each would put a
# name ("annotations", "Any") into the public namespace, which tests/test_public.py holds to __all__.
from typing import Any as _Any

from . import _default, _map, _reply_view  # noqa: F401 - they register how a Reply shows, Client.map's runner
from ._async import AsyncClient
from ._client import Client, Stream
from ._config import default_client
from ._conversation import Conversation
from ._errors import (
    AccountUnavailable,
    AuthenticationError,
    CloudDisabled,
    HostRefused,
    InsecureKeyError,
    InvalidRequest,
    MalformedChunk,
    ModelNotFound,
    OllamaError,
    ProxyError,
    RateLimited,
    RequestError,
    ResponseError,
    RetryCancelled,
    ServerBusy,
    ServerStreamError,
    ServerUnreachable,
    SigninRequired,
    StallTimeout,
    StreamCut,
    StreamError,
    UsageLimit,
)
from ._reply import Progress, Reply
from ._retry import Retry, RetryWait
from ._types import (
    ChatResponse,
    Chunk,
    EmbeddingsResponse,
    EmbedResponse,
    GenerateResponse,
    Image,
    ListResponse,
    Message,
    Options,
    ProcessResponse,
    ProgressResponse,
    ShowResponse,
    StatusResponse,
    Tool,
    WebFetchResponse,
    WebSearchResponse,
)
from ._version import __version__ as __version__

# ollama-python's module-level functions (chat, generate, list, ...) on a lazily made default
# client. Not in __all__, as in ollama-python: `from ollama_nb import *` must not shadow list().
generate = _default.bound("generate")
chat = _default.bound("chat")
embed = _default.bound("embed")
embeddings = _default.bound("embeddings")
pull = _default.bound("pull")
push = _default.bound("push")
create = _default.bound("create")
delete = _default.bound("delete")
list = _default.bound("list")
map = _default.bound("map")  # many prompts at once; not in __all__, like list
copy = _default.bound("copy")
show = _default.bound("show")
ps = _default.bound("ps")
web_search = _default.bound("web_search")
web_fetch = _default.bound("web_fetch")

# Ours and ollama-python's public names (ChatResponse, Message, Options, Tool, Image, ...), so code
# written for it imports unchanged; sorted, and held to the namespace by tests/test_public.py.
__all__ = [
    "AccountUnavailable",
    "AsyncClient",
    "AuthenticationError",
    "ChatResponse",
    "ChatWidget",
    "Chunk",
    "Client",
    "CloudDisabled",
    "Conversation",
    "EmbedResponse",
    "EmbeddingsResponse",
    "GenerateResponse",
    "HostRefused",
    "Image",
    "InsecureKeyError",
    "InvalidRequest",
    "ListResponse",
    "MalformedChunk",
    "Message",
    "ModelBrowser",
    "ModelNotFound",
    "OllamaError",
    "Options",
    "ProcessResponse",
    "Progress",
    "ProgressResponse",
    "ProxyError",
    "RateLimited",
    "Reply",
    "RequestError",
    "ResponseError",
    "Retry",
    "RetryCancelled",
    "RetryWait",
    "ServerBusy",
    "ServerStreamError",
    "ServerUnreachable",
    "ShowResponse",
    "SigninRequired",
    "StallTimeout",
    "StatusResponse",
    "Stream",
    "StreamCut",
    "StreamError",
    "Tool",
    "UsageLimit",
    "WebFetchResponse",
    "WebSearchResponse",
    "default_client",
    "load_ipython_extension",
    "unload_ipython_extension",
]

_LAZY = {"ChatWidget": "._widgets.chat", "ModelBrowser": "._widgets.models"}


def __getattr__(name: str) -> _Any:
    # The widgets pull in anywidget/ipywidgets; import them only when asked, so `import ollama_nb`
    # and `%load_ext ollama_nb` stay fast.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'ollama_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: _Any) -> None:
    """``%load_ext ollama_nb``: register ``%%ollama`` and ``%ollama``."""
    from ._magic import register

    register(ipython)


def unload_ipython_extension(ipython: _Any) -> None:
    from ._magic import unregister

    unregister(ipython)
