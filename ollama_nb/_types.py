"""The wire types: what the server sends and what a request carries, under ollama-python's names.

Each is a :class:`Chunk` (a dict read by key or by attribute, with ``model_dump()``) that declares
its own fields, as ollama-python's pydantic models do: an absent field reads as ``None`` through
attributes, any other absent name raises ``AttributeError`` (so duck typing is not fooled), and a
nested object reads as its own type. No pydantic; ollama-python's objects of these names are
accepted as arguments too, by duck typing. ``Image`` holds a value the client encodes on sending.

Timestamps: :func:`parse_time` is the one reader of the server's RFC 3339 text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "ChatResponse",
    "Chunk",
    "EmbedResponse",
    "EmbeddingsResponse",
    "GenerateResponse",
    "Image",
    "ListResponse",
    "Message",
    "ModelDump",
    "Options",
    "ProcessResponse",
    "ProgressResponse",
    "ShowResponse",
    "StatusResponse",
    "Tool",
    "WebFetchResponse",
    "WebSearchResponse",
    "parse_time",
]

#: Timestamps ollama-python turns into datetimes. ``created_at`` stays text there, and here.
_TIMES = frozenset(("modified_at", "expires_at"))
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def parse_time(text: Any) -> datetime | None:
    """Go's RFC 3339 text (up to nanoseconds; ``Z`` or an offset, none meaning UTC) -> an aware
    datetime (Python keeps microseconds); None for anything else."""
    if not isinstance(text, str):
        return None
    m = _RFC3339.match(text.strip())
    if not m:
        return None
    frac = (m.group(2) or ".0")[:7]
    zone = m.group(3) or "Z"
    try:
        return datetime.fromisoformat(f"{m.group(1)}{frac}{'+00:00' if zone == 'Z' else zone}")
    except ValueError:
        return None


def _dump(value: Any, mode: str, exclude_none: bool, key: str = "") -> Any:
    """A deep, plain copy for model_dump: dicts, lists, datetimes for timestamps (mode "python")."""
    if isinstance(value, dict):
        return {k: _dump(v, mode, exclude_none, k) for k, v in value.items() if not (exclude_none and v is None)}
    if isinstance(value, (list, tuple)):
        return [_dump(v, mode, exclude_none) for v in value]
    if key in _TIMES and mode == "python":
        when = parse_time(value)
        return value if when is None else when
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return value.model_dump(mode=mode, exclude_none=exclude_none)
    return value


class ModelDump:
    """ollama-python's pydantic helpers on our plain objects (no pydantic needed)."""

    __slots__ = ()

    def _plain(self) -> dict[str, Any]:
        raise NotImplementedError

    def model_dump(
        self,
        *,
        mode: str = "python",
        exclude_none: bool = False,
        include: Any = None,
        exclude: Any = None,
        **_ignored: Any,  # by_alias, exclude_unset...: our objects hold only what the server sent
    ) -> dict[str, Any]:
        """A plain dict of the fields the server sent (``modified_at``/``expires_at`` as datetimes)."""
        out: dict[str, Any] = _dump(self._plain(), mode, exclude_none)
        if include is not None:
            out = {k: v for k, v in out.items() if k in include}
        if exclude is not None:
            out = {k: v for k, v in out.items() if k not in exclude}
        return out

    def model_dump_json(self, *, indent: int | None = None, exclude_none: bool = False, **kw: Any) -> str:
        """The same as JSON text (timestamps as the server wrote them)."""
        return json.dumps(
            self.model_dump(mode="json", exclude_none=exclude_none, **kw),
            indent=indent,
            ensure_ascii=False,
            default=str,
        )


class Chunk(ModelDump, dict[str, Any]):
    """One JSON object from the server: a dict that also reads as attributes.

    ``part["message"]["content"]``, ``part.get("done")`` and ``part.message.content`` all work, as in
    ollama-python, and so do ``model_dump()`` / ``model_dump_json()``. A field of the type left out
    reads as ``None`` through attributes (and raises ``KeyError`` through ``[...]``, like a dict).
    ``modified_at`` / ``expires_at`` read as datetimes through attributes, as ollama-python gives
    them, and stay the server's text through ``[...]`` (so the dict is still plain JSON).
    """

    __slots__ = ()
    #: This type's fields: the type a nested object (or list of them) reads as, None for values.
    FIELDS: ClassVar[Mapping[str, type[Chunk] | None]] = {}
    #: Other attribute names for fields (ollama-python's ``modelinfo`` for ``model_info``).
    ALIASES: ClassVar[Mapping[str, str]] = {}

    def __getattr__(self, name: str) -> Any:
        cls = type(self)
        name = cls.ALIASES.get(name, name)
        try:
            value = self[name]
        except KeyError:
            if name in cls.FIELDS:
                return None
            raise AttributeError(name) from None
        # Wrap nested objects lazily: the hot path only pays for what a user actually reads.
        if type(value) is dict:
            value = self[name] = (cls.FIELDS.get(name) or Chunk)(value)
        elif type(value) is list and value and type(value[0]) is dict:
            kind = cls.FIELDS.get(name) or Chunk
            value = self[name] = [kind(v) if type(v) is dict else v for v in value]
        elif name in _TIMES:
            when = parse_time(value)
            return value if when is None else when
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # msg.content = "..." as on ollama-python's models: the field, not an attribute.
        self[name] = value

    def _plain(self) -> dict[str, Any]:
        return self

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {k for k in self if isinstance(k, str)} | set(type(self).FIELDS))


def _fields(*names: str, **nested: type[Chunk]) -> dict[str, type[Chunk] | None]:
    """A FIELDS mapping: plain value fields, then fields holding objects of the given types."""
    return {**dict.fromkeys(names), **nested}


# -- request side ---------------------------------------------------------------------------------
class Options(Chunk):
    """Model options: ``Options(temperature=0, num_ctx=8192, stop=["\\n\\n"])`` (a dict; any
    option the server knows may be given, see ollama-api.md §7)."""

    __slots__ = ()
    FIELDS = _fields(
        "numa", "num_ctx", "num_batch", "num_gpu", "main_gpu", "low_vram", "f16_kv", "logits_all",
        "vocab_only", "use_mmap", "use_mlock", "embedding_only", "num_thread", "num_keep", "seed",
        "num_predict", "top_k", "top_p", "min_p", "tfs_z", "typical_p", "repeat_last_n", "temperature",
        "repeat_penalty", "presence_penalty", "frequency_penalty", "mirostat", "mirostat_tau",
        "mirostat_eta", "penalize_newline", "stop",
    )  # fmt: skip


class Tool(Chunk):
    """A tool definition: ``Tool(function=Tool.Function(name=..., description=..., parameters=...))``.

    ``type`` defaults to ``"function"``, as in ollama-python.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.setdefault("type", "function")

    class Function(Chunk):
        """``name``, ``description`` and ``parameters`` (a JSON schema) of a tool."""

        __slots__ = ()

        class Parameters(Chunk):
            """``type`` ("object"), ``properties``, ``required`` of a tool's arguments."""

            __slots__ = ()

            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                self.setdefault("type", "object")

            class Property(Chunk):
                """One argument: ``type``, ``description``, optional ``enum`` / ``items``."""

                __slots__ = ()
                FIELDS = _fields("type", "description", "enum", "items")

            FIELDS = _fields("type", "required", "defs", "items", properties=Chunk)

        FIELDS = _fields("name", "description", parameters=Parameters)

    FIELDS = _fields("type", function=Function)


class Message(Chunk):
    """A chat message: ``Message(role="user", content="Hi", images=[...])``, a dict as the server
    wants it, read by key or attribute (``Message.ToolCall`` and ``Message.ToolCall.Function``
    build the parts of ``tool_calls`` the same way)."""

    __slots__ = ()

    class ToolCall(Chunk):
        """One tool call: ``function`` (``name``, ``arguments``), optional ``id``."""

        __slots__ = ()

        class Function(Chunk):
            """The called function's ``name`` and ``arguments`` (a dict)."""

            __slots__ = ()
            FIELDS = _fields("name", "arguments", "index")

        FIELDS = _fields("id", function=Function)

    FIELDS = _fields("role", "content", "thinking", "images", "tool_name", "tool_call_id", tool_calls=ToolCall)


# -- answers ----------------------------------------------------------------------------------------
class _ResponseType(type):
    """``isinstance(reply, ChatResponse)`` is true for a chat :class:`~ollama_nb.Reply` too (a Reply
    is our non-streamed ChatResponse/GenerateResponse, but not a dict): the one check a type of
    this module makes beyond its own class, for the two answer types only."""

    def __instancecheck__(cls, obj: Any) -> bool:
        if type.__instancecheck__(cls, obj):
            return True
        kind = cls.__dict__.get("KIND")
        return kind is not None and getattr(type(obj), "IS_REPLY", False) and getattr(obj, "kind", None) == kind


class Logprob(Chunk):
    """One token's log-probability, with the ``top_logprobs`` alternatives."""

    __slots__ = ()
    FIELDS = _fields("token", "logprob", "bytes")


Logprob.FIELDS = {**Logprob.FIELDS, "top_logprobs": Logprob}

#: The fields every chat/generate answer (and streamed chunk) has.
_ANSWER = (
    "model", "created_at", "done", "done_reason", "total_duration", "load_duration", "prompt_eval_count",
    "prompt_eval_duration", "eval_count", "eval_duration", "remote_model", "remote_host",
)  # fmt: skip


class ChatResponse(Chunk, metaclass=_ResponseType):
    """A chat answer or a streamed chat chunk (a non-streamed chat returns a :class:`~ollama_nb.Reply`,
    which also counts as one)."""

    __slots__ = ()
    KIND = "chat"
    FIELDS = _fields(*_ANSWER, message=Message, logprobs=Logprob)


class GenerateResponse(Chunk, metaclass=_ResponseType):
    """A generate answer or a streamed generate chunk (see :class:`ChatResponse`)."""

    __slots__ = ()
    KIND = "generate"
    FIELDS = _fields(
        *_ANSWER, "response", "thinking", "context", "images", "image", "width", "height", "steps",
        tool_calls=Message.ToolCall, logprobs=Logprob,
    )  # fmt: skip


class EmbedResponse(Chunk):
    """``embeddings`` from :meth:`Client.embed`."""

    __slots__ = ()
    FIELDS = _fields("model", "embeddings", "total_duration", "load_duration", "prompt_eval_count")


class EmbeddingsResponse(Chunk):
    """``embedding`` from the legacy :meth:`Client.embeddings`."""

    __slots__ = ()
    FIELDS = _fields("embedding")


class ModelDetails(Chunk):
    """``details`` of a model in a list, ``ps`` or ``show`` answer."""

    __slots__ = ()
    FIELDS = _fields("parent_model", "format", "family", "families", "parameter_size", "quantization_level")


class ListResponse(Chunk):
    """``models`` from :meth:`Client.list`."""

    __slots__ = ()

    class Model(Chunk):
        """One installed model."""

        __slots__ = ()
        FIELDS = _fields("model", "name", "modified_at", "digest", "size", "remote_model", "remote_host",
                         details=ModelDetails)  # fmt: skip

    FIELDS = _fields(models=Model)


class ShowResponse(Chunk):
    """Details of one model from :meth:`Client.show` (``modelinfo`` reads ``model_info``)."""

    __slots__ = ()
    FIELDS = _fields(
        "modified_at", "template", "modelfile", "license", "system", "parameters", "model_info",
        "projector_info", "tensors", "capabilities", "messages", "renderer", "parser", "requires",
        "remote_model", "remote_host", details=ModelDetails,
    )  # fmt: skip
    ALIASES: ClassVar[Mapping[str, str]] = {"modelinfo": "model_info"}


class ProcessResponse(Chunk):
    """``models`` in memory from :meth:`Client.ps`."""

    __slots__ = ()

    class Model(Chunk):
        """One model loaded in memory."""

        __slots__ = ()
        FIELDS = _fields("model", "name", "digest", "expires_at", "size", "size_vram", "context_length",
                         details=ModelDetails)  # fmt: skip

    FIELDS = _fields(models=Model)


class StatusResponse(Chunk):
    """``status`` of copy/delete (and the base of progress lines)."""

    __slots__ = ()
    FIELDS = _fields("status")


class ProgressResponse(StatusResponse):
    """One pull/push/create status line (``status``, ``digest``, ``total``, ``completed``)."""

    __slots__ = ()
    FIELDS = _fields("status", "digest", "total", "completed")


class WebSearchResponse(Chunk):
    """``results`` (title, url, content) from :meth:`Client.web_search`."""

    __slots__ = ()

    class Result(Chunk):
        """One search result."""

        __slots__ = ()
        FIELDS = _fields("title", "url", "content")

    FIELDS = _fields(results=Result)


class WebFetchResponse(Chunk):
    """``title``, ``content``, ``links`` from :meth:`Client.web_fetch`."""

    __slots__ = ()
    FIELDS = _fields("title", "content", "links")


class Image:
    """An image for a vision model: ``Image(value=...)`` with bytes, a path or base64 text.

    The value is encoded when the request is sent (see :func:`ollama_nb._images.encode_image`).
    """

    __slots__ = ("value",)

    def __init__(self, value: str | bytes | Path) -> None:
        self.value = value

    def model_dump(self, **_: Any) -> str:
        """The base64 text the server receives (as ollama-python serializes an Image)."""
        from ._images import encode_image

        return encode_image(self.value)

    def __repr__(self) -> str:
        shown = repr(self.value)
        return f"Image(value={shown if len(shown) <= 44 else shown[:40] + '...'})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Image) and other.value == self.value

    __hash__ = None  # type: ignore[assignment]
