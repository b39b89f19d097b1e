"""``%ollama doctor``: a classroom preflight. Every check says what it found and what to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _format as fmt_
from .._config import settings
from .._errors import OllamaError
from .._hosts import is_cloud
from .._identity import emulator_name
from .._render import chrome
from .._suggest import close_models, command
from ._shared import client_for, display_html

OK, WARN, FAIL = "✓", "!", "✗"


def _names(models: list[dict[str, Any]]) -> set[str]:
    out = set()
    for m in models:
        for name in (m.get("name"), m.get("model")):
            if name:
                out.add(name)
                if name.endswith(":latest"):
                    out.add(name[: -len(":latest")])
    return out


def is_emulator(version: Any) -> bool:
    """True when the server's ``/api/version`` answer says it is the built-in emulator."""
    return bool(emulator_name(version))


Add = Callable[..., None]  # add(check, status, found, todo="")


def checks() -> list[dict[str, str]]:
    """The rows ``%ollama doctor`` shows: check, status (✓ ! ✗), found, what to do."""
    rows: list[dict[str, str]] = []

    def add(check: str, status: str, found: str, todo: str = "") -> None:
        rows.append({"check": check, "": status, "found": found, "what to do": todo})

    host = settings.resolved_host()
    from .sources import config_problems, host_origin

    where = f"{host} ({host_origin(short=True)})"
    for problem in config_problems():
        add("config", WARN, problem, "Until it is fixed the defaults, the environment and %ollama config apply.")
    reached = _reach(add, where)
    if reached is None:
        return rows
    client, info = reached
    _host_row(add, where, info)
    add("server version", OK, f"Ollama {info.get('version', '?')}")
    installed = _installed(client)
    _listed(add, installed)
    _default_model(add, host, installed if isinstance(installed, list) else [])
    _loaded(add, client)
    if not is_cloud(host):
        _cloud_models(client, add)
    _key(add, host)
    return rows


def _reach(add: Add, where: str) -> tuple[Any, Any] | None:
    """The client and the server's ``/api/version`` answer; None (with the row that says why) when
    it cannot be asked."""
    try:
        client = client_for()
    except OllamaError as err:
        add("host", FAIL, where, f"{err.message} {err.hint}")
        return None
    try:
        info = client.version()
    except OllamaError as err:
        add("host reachable", FAIL, f"{where}: {err.message}", err.hint)
        add("cloud key", OK if settings.resolved_key() else WARN, settings.key_source(), "")
        return None
    return client, info


def _host_row(add: Add, where: str, info: Any) -> None:
    if is_emulator(info):
        add(
            "host reachable",
            WARN,
            f"{where} is the built-in emulator (ollama_nb.testing), not a real Ollama",
            "Fine for tests and demos: answers are canned. For real answers start Ollama and point OLLAMA_HOST "
            "(or `%ollama config host=...`) at it.",
        )
    else:
        add("host reachable", OK, where)


def _installed(client: Any) -> list[dict[str, Any]] | OllamaError:
    """The models the host has, or why it could not list them."""
    try:
        return list(client.list().get("models", []))
    except OllamaError as err:
        return err


def _listed(add: Add, installed: list[dict[str, Any]] | OllamaError) -> None:
    if isinstance(installed, OllamaError):
        add("installed models", FAIL, installed.message, installed.hint)
    elif installed:
        names = _names(installed)
        shown = ", ".join(sorted(names - {n for n in names if n.endswith(":latest")}))[:300]
        add("installed models", OK, f"{len(installed)}: {shown}")
    else:
        pull = "Pull one: `%ollama pull llama3.2` (or a small one: `%ollama pull smollm2:135m`)."
        add("installed models", WARN, "none", pull)


def _default_model(add: Add, host: str, installed: list[dict[str, Any]]) -> None:
    model = settings.resolved_model()
    if not model:
        todo = "Set OLLAMA_NB_MODEL, or run `%ollama config model=NAME`, or pass `-m NAME` to each %%ollama cell."
        add("default model", WARN, "not set", todo)
    elif installed and model not in _names(installed) and not is_cloud(host):
        close = close_models(model, sorted(_names(installed)))
        guess = (
            f"Did you mean `{close[0]}`? Set it with `%ollama config model={close[0]}`; or pull " if close else "Pull "
        )
        add("default model", FAIL, f"{model} is not installed", f"{guess}it: `{command('%ollama', 'pull', model)}`.")
    else:
        add("default model", OK, model)


def _loaded(add: Add, client: Any) -> None:
    try:
        running = client.ps().get("models", [])
    except OllamaError as err:
        add("loaded models", WARN, err.message, err.hint)
        return
    if not running:
        add("loaded models", OK, "none loaded", "The first answer waits while the model loads (seconds to a minute).")
        return
    found = ", ".join(
        f"{m.get('name')} ({fmt_.size(m.get('size'))}, expires {fmt_.expires_in(m.get('expires_at'))})"
        for m in running
    )
    add("loaded models", OK, found)


def _key(add: Add, host: str) -> None:
    key = settings.key_source()
    if is_cloud(host) and not settings.resolved_key():
        add(
            "cloud key",
            FAIL,
            key,
            "Run `%ollama login` (asks for a key from https://ollama.com/settings/keys without showing or "
            "saving it), or set OLLAMA_API_KEY before starting Jupyter.",
        )
        return
    status = OK if settings.resolved_key() or not is_cloud(host) else WARN
    add("cloud key", status, key, "" if settings.resolved_key() else "Only needed for Ollama Cloud (https://ollama.com).")


def _cloud_models(client: Any, add: Any) -> None:
    """Whether this local server can run cloud models (``gpt-oss:120b-cloud``): switched on, signed in."""
    from .._errors import SigninRequired

    try:
        status = client._json("GET", "/api/status").get("cloud") or {}
    except OllamaError:
        return  # an older server without /api/status: nothing to say
    if status.get("disabled"):
        add(
            "cloud models",
            OK,
            "disabled on this server",
            "Only local models here; that is fine for a class without accounts.",
        )
        return
    try:
        me = client._json("POST", "/api/me", {})
    except SigninRequired:
        add(
            "cloud models",
            WARN,
            "the server is not signed in to ollama.com",
            "To use cloud models (`gpt-oss:120b-cloud`), run `ollama signin` on the server once.",
        )
        return
    except OllamaError as err:
        add("cloud models", WARN, err.message, err.hint)
        return
    add(
        "cloud models",
        OK,
        f"signed in as {me.get('name') or '?'} ({me.get('plan') or 'plan unknown'})",
        "Students share this account's cloud quota: `%ollama usage` shows it.",
    )


def run_doctor() -> list[dict[str, str]]:
    from .line import _plain_table  # the same settings table as `%ollama config`
    from .sources import config_rows

    rows = checks()
    cols = ["check", "", "found", "what to do"]
    failed = [r for r in rows if r[""] == FAIL]
    head = "Ready." if not failed else f"{len(failed)} problem{'s' if len(failed) > 1 else ''} to fix before class."
    plain = "\n".join(
        f"{r['']} {r['check']}: {r['found']}" + (f" -> {r['what to do']}" if r["what to do"] else "") for r in rows
    )
    display_html(
        ("Ready.\n" if not failed else "Problems found.\n") + plain,
        chrome.title(head),
        chrome.table(rows, cols, hint_columns=["what to do"]),
    )
    settings_rows, settings_cols = config_rows(), ["setting", "value", "from"]
    display_html(
        "Settings:\n" + _plain_table(settings_rows, settings_cols),
        chrome.title("Settings, and where each comes from"),
        chrome.table(settings_rows, settings_cols),
    )
    return rows
