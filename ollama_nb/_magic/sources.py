"""Where each setting comes from, for ``%ollama config`` and ``%ollama doctor``: the cell, the
environment, a config file or the default. Secrets (keys, passwords, header values) are never
shown: a header is listed by name, a host without its ``user:password@``.

Usage::

    rows = config_rows()   # [{"setting": "host", "value": "http://127.0.0.1:11434", "from": "default"}, ...]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .._config import settings
from .._hosts import parse_host, split_userinfo
from .._policy import DEFAULT_TIMEOUT
from .._settings_file import env_headers, file_settings, line_of
from .._tutor import course_prompt

__all__ = ["config_problems", "config_rows", "file_options", "host_origin", "options_in_force"]


def _origin(cell: Any, env: str | None, key: str) -> str:
    if cell:
        return "cell (%ollama config)"
    if env and os.environ.get(env):
        return f"environment ({env})"
    source = file_settings().source_of(key)
    return f"config file {source}" if source else "default"


def host_origin(*, short: bool = False) -> str:
    """Where the host comes from: the cell, OLLAMA_HOST, a config file or the default (``short``:
    as doctor says it, ``OLLAMA_HOST`` / ``%ollama config``)."""
    origin = _origin(settings.host, "OLLAMA_HOST", "host")
    shorter = {"cell (%ollama config)": "%ollama config", "environment (OLLAMA_HOST)": "OLLAMA_HOST"}
    return shorter.get(origin, origin) if short else origin


def _host_row() -> dict[str, str]:
    text, credentials = split_userinfo(settings.host_text())
    try:
        shown = parse_host(text)
    except ValueError:
        shown = "cannot be read (see %ollama doctor)"
    if credentials:
        shown += " (with a user name and password, not shown)"
    return {"setting": "host", "value": shown, "from": host_origin()}


def _headers_row() -> dict[str, str]:
    names = sorted(settings.headers())
    env = bool(os.environ.get("OLLAMA_HEADERS"))
    source = file_settings().source_of("headers")
    origin = " and ".join(
        [*(["environment (OLLAMA_HEADERS)"] if env else []), *([f"config file {source}"] if source else [])]
    )
    value = ", ".join(names) + " (values not shown)" if names else "none"
    return {"setting": "headers", "value": value, "from": origin or "default"}


def config_rows() -> list[dict[str, str]]:
    """Every setting, its value (never a secret's) and where it came from."""
    files = file_settings().values
    tutor = course_prompt()
    rows = [
        _host_row(),
        {
            "setting": "model",
            "value": settings.resolved_model() or "not set",
            "from": _origin(settings.model, "OLLAMA_NB_MODEL", "model"),
        },
        {"setting": "api_key", "value": settings.key_source(), "from": "—"},  # never the key itself
        _headers_row(),
        {
            "setting": "timeout",
            "value": f"{settings.resolved_timeout():g} s"
            if settings.resolved_timeout()
            else f"default ({DEFAULT_TIMEOUT[1]:g} s between chunks)",
            "from": _origin(settings.timeout, None, "timeout"),
        },
        _options_row(),
        {
            "setting": "course prompt",
            "value": f"{len(tutor.text):,} characters (%ollama tutor shows it)" if tutor else "none",
            "from": tutor.source if tutor else "—",
        },
    ]
    rows += _log_rows()
    for key in ("hosts", "models"):
        if key in files:
            value = files[key]
            shown = ", ".join(split_userinfo(v)[0] for v in value) if key == "hosts" else str(value)
            rows.append({"setting": key, "value": shown, "from": f"config file {file_settings().source_of(key)}"})
    return rows


def _log_rows() -> list[dict[str, str]]:
    """The log's file and whether cells answer from it, each with where it came from."""
    from .. import _store
    from .._store.db import ENV
    from .args import cache_default

    where = _store.path()
    cache = cache_default()
    return [
        {"setting": "store", "value": str(where) if where else "off", "from": _origin(settings.store, ENV, "store")},
        {
            "setting": "cache",
            "value": "on" if cache else "off",
            "from": _origin(settings.cache is not None, None, "cache"),
        },
    ]


def _options_row() -> dict[str, str]:
    """Each option in force, as it is sent, and where each came from (the file's under
    ``%ollama config``'s); a mistake in the file's is said here, where a teacher looks first."""
    from IPython.core.error import UsageError

    try:
        options, mistake = options_in_force(), ""
    except UsageError as exc:  # every cell and chat message stops on it: say so before a student meets it
        options, mistake = settings.resolved_options(), f" (nothing is sent until it is fixed: {exc})"
    cell = [k for k in options if k in settings.options]
    filed = [k for k in options if k not in settings.options]
    origins = [f"{_origin(True, None, 'options')}: {', '.join(cell)}"] if cell else []
    if filed:
        origins.append(f"{_origin(False, None, 'options')}: {', '.join(filed)}")
    return {
        "setting": "options",
        "value": (", ".join(f"{k}={v!r}" for k, v in options.items()) or "none") + mistake,
        "from": "; ".join(origins) or "default",
    }


def options_in_force(own: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The options a request sends: the config file's, under ``%ollama config``'s, under ``own``
    (a cell's ``-o``, a chat widget's ``options=`` and slider). The one path for the magic and the
    widget; a mistake in the file is a UsageError naming its line."""
    return {**file_options(), **settings.options, **(own or {})}


def file_options() -> dict[str, Any]:
    """The config file's options, typed as a cell's are; a mistake names the file and its line."""
    from IPython.core.error import UsageError

    from .options import coerce_option

    files = file_settings()
    typed: dict[str, Any] = {}
    for name, value in files.values.get("options", {}).items():
        try:
            typed[name] = coerce_option(name, value)
        except UsageError as exc:
            path = files.source_of("options")
            raise UsageError(f"Config file {path}, line {line_of(path, name)}: {exc} Fix it there.") from None
    return typed


def config_problems() -> list[str]:
    """What could not be used: a bad config file, a bad ``OLLAMA_HEADERS``."""
    problems = list(file_settings().problems)
    problem = env_headers()[1]
    if problem:
        problems.append(problem)
    return problems
