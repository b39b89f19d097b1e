"""A class set up once: the config file a teacher or a JupyterHub image provides.

Files read, later ones winning key by key: ``ollama_nb.toml`` / ``ollama_nb.json`` in each of
Jupyter's config folders (``jupyter_core.paths.jupyter_config_path()``, system first, the user's
last), then the file named by ``OLLAMA_NB_CONFIG``. The file is the lowest layer: the environment
(``OLLAMA_HOST``, ``OLLAMA_HEADERS``, ``OLLAMA_NB_MODEL``...) wins over it, and the cell
(``%ollama config``, options) over both.

A file with a mistake (not JSON/TOML, an unknown key, a value of the wrong type, a header with a
newline) is ignored whole, and one message names the file and the line; the extension still loads.

Usage (``~/.jupyter/ollama_nb.toml``)::

    host = "https://ollama.school.example"
    model = "llama3.2"
    models = ["llama3.2", "qwen3"]        # the models the class may use
    system = "Give hints, not full solutions."
    [headers]
    X-Course = "ml101"
    [options]
    temperature = 0
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import re
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["KEYS", "FileSettings", "check_headers", "env_headers", "file_settings", "line_of"]

#: Every key a file may set, and what it must be.
KEYS: dict[str, str] = {
    "host": "text",
    "hosts": "list of text",
    "model": "text",
    "models": "list of text",
    "headers": "table of text",
    "cache": "true or false",
    "store": "text",
    "system": "text",
    "options": "table",
    "timeout": "number",
}
FILE_NAMES = ("ollama_nb.toml", "ollama_nb.json")
# RFC 9110 token characters: a header name outside them is refused by any server.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass
class FileSettings:
    """What the config files set: ``values`` by key, the file each came from, the problems found."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def source_of(self, key: str) -> str:
        return self.sources.get(key, "")


class _Bad(Exception):
    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def check_headers(value: Any, where: str) -> dict[str, str]:
    """Headers as given (a table of text); refuses names that are not tokens and values with a
    line break (they would smuggle another header in). ``where`` starts the message."""
    if not isinstance(value, Mapping):
        raise _Bad(f"{where} must be a table of header names to text", "headers")
    out: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise _Bad(f"{where}: {name!r} is not a valid header name", str(name))
        if not isinstance(text, str):
            raise _Bad(f"{where}: the value of {name} must be text, not {type(text).__name__}", name)
        if any(c in text for c in "\r\n\0"):
            raise _Bad(f"{where}: the value of {name} contains a line break", name)
        out[name] = text
    return out


def env_headers() -> tuple[dict[str, str], str | None]:
    """``OLLAMA_HEADERS`` (a JSON object of header names to text): the headers and, if it cannot
    be used, why (its values are never in the message)."""
    text = os.environ.get("OLLAMA_HEADERS", "").strip()
    if not text:
        return {}, None
    try:
        return check_headers(json.loads(text), "OLLAMA_HEADERS"), None
    except json.JSONDecodeError as exc:
        return {}, f'OLLAMA_HEADERS is not a JSON object (line {exc.lineno}); write it as {{"X-Name": "value"}}.'
    except _Bad as exc:
        return {}, f"{exc}. OLLAMA_HEADERS was ignored."


def _check(key: str, value: Any) -> Any:
    kind = KEYS.get(key)
    if kind is None:
        close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(KEYS)})"
        raise _Bad(f"unknown key {key!r}{hint}", key)
    if key == "headers":
        return check_headers(value, "headers")
    ok = {
        "text": isinstance(value, str),
        "list of text": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "true or false": isinstance(value, bool),
        "table": isinstance(value, dict),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0,
    }[kind]
    if not ok:
        raise _Bad(f"{key} must be {kind}, not {type(value).__name__}", key)
    if key == "options":
        # Typed (and typos named) by the magic that sends them: ollama_nb._magic.sources.file_options.
        for name, v in value.items():
            if not isinstance(v, (str, int, float, bool)) and not (
                isinstance(v, list) and all(isinstance(i, str) for i in v)
            ):
                raise _Bad(f"options: {name} must be text, a number, true/false or a list of text", name)
    return value


def line_of(path: str, key: str) -> int:
    """The line of the config file ``path`` that names ``key`` (1 when it cannot be read)."""
    try:
        return _line_of(Path(path).read_text(encoding="utf-8"), key)
    except (OSError, UnicodeDecodeError):
        return 1


def _line_of(text: str, key: str) -> int:
    """The first line that names ``key`` (as a JSON string or a TOML key), else 1."""
    pattern = re.compile(rf'"{re.escape(key)}"|^\s*{re.escape(key)}\s*=', re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _parse(path: Path, text: str) -> dict[str, Any]:
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _Bad(f"line {exc.lineno}: not valid JSON ({exc.msg})") from None
    else:
        if sys.version_info < (3, 11):
            raise _Bad("TOML needs Python 3.11 or later; write the same settings as ollama_nb.json")
        tomllib = importlib.import_module("tomllib")  # by name: mypy checks for Python 3.10 too
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _Bad(f"not valid TOML: {exc}") from None  # tomllib's message names the line
    if not isinstance(data, dict):
        raise _Bad("line 1: the file must hold an object of settings")
    return data


def _read(path: Path) -> dict[str, Any]:
    """The checked settings of one file; raises ``ValueError`` naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Config file {path} cannot be read ({type(exc).__name__}).") from None
    try:
        data = _parse(path, text)
        return {key: _check(key, value) for key, value in data.items()}
    except _Bad as exc:
        where = f"line {_line_of(text, exc.key)}: " if exc.key else ""
        raise ValueError(
            f"Config file {path}, {where}{exc}. The file was ignored until it is fixed (it is read again once saved)."
        ) from None


#: What jupyter_core reads to find its config folders.
_JUPYTER_ENV = (
    "JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH", "JUPYTER_PREFER_ENV_PATH", "JUPYTER_NO_CONFIG",
    "JUPYTER_PLATFORM_DIRS", "HOME", "XDG_CONFIG_HOME", "CONDA_PREFIX", "VIRTUAL_ENV", "APPDATA", "PROGRAMDATA",
)  # fmt: skip
_candidates: dict[tuple[str | None, ...], list[Path]] = {}


def _candidate_files() -> list[Path]:
    """Where config files may be, lowest priority first; remembered per value of the variables
    jupyter_core reads (asking it costs ~0.25 ms, and every cell asks for its settings)."""
    from jupyter_core.paths import jupyter_config_path

    key = tuple(os.environ.get(name) for name in _JUPYTER_ENV)
    if key not in _candidates:
        _candidates.clear()
        _candidates[key] = [Path(d) / name for d in reversed(jupyter_config_path()) for name in FILE_NAMES]
    return _candidates[key]


def config_paths() -> list[Path]:
    """The files to read, lowest priority first."""
    found = _candidate_files()
    paths = [p for p in found if p.is_file()]
    named = os.environ.get("OLLAMA_NB_CONFIG", "").strip()
    if named:
        paths.append(Path(named).expanduser())
    return paths


def _load() -> FileSettings:
    loaded = FileSettings()
    for path in config_paths():
        if not path.is_file():
            loaded.problems.append(f"OLLAMA_NB_CONFIG names {path}, which is not a file. Nothing was read from it.")
            continue
        try:
            values = _read(path)
        except ValueError as exc:
            loaded.problems.append(str(exc))
            continue
        loaded.values.update(values)
        loaded.sources.update(dict.fromkeys(values, str(path)))
    return loaded


_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _signature() -> tuple[Any, ...]:
    sig: list[Any] = []
    for path in config_paths():
        try:
            stat = path.stat()
            sig.append((str(path), stat.st_mtime_ns, stat.st_size))
        except OSError:
            sig.append((str(path), None))
    return tuple(sig)


def file_settings() -> FileSettings:
    """The config files' settings, read again when a file (or ``OLLAMA_NB_CONFIG``) changes."""
    sig = _signature()
    with _lock:
        if _cache.get("sig") != sig:
            _cache["sig"], _cache["settings"] = sig, _load()
        settings: FileSettings = _cache["settings"]
        return settings
