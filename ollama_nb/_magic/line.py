"""``%ollama SUBCOMMAND``: model management, settings, conversations and a classroom preflight.

Usage::

    %ollama list                    # installed models
    %ollama pull smollm2:135m       # live progress; Ctrl-C cancels
    %ollama config model=llama3.2 temperature=0
    %ollama doctor                  # is everything ready for this notebook?

Every subcommand shows a table or one sentence saying what it did; failures are a short red
message with what to do, never a traceback.
"""

from __future__ import annotations

import difflib
import os
import shlex
import shutil
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

from .. import _format as fmt_
from .._client import DEFAULT_TIMEOUT
from .._config import forget_clients, settings
from .._conversation import Conversation
from .._errors import OllamaError
from .._hosts import parse_host
from .._live import in_terminal
from .._redact import remember
from .._render import chrome
from .._request import check_seconds
from .._terminal import cut, terminal_text
from ._shared import DEFAULT_CHAT, client_for, display_html, show_error, show_exception
from .log import cmd_log
from .options import OPTION_TYPES, coerce_option
from .pull import cmd_pull

__all__ = ["COMMANDS", "run_line_magic"]

COMMANDS: dict[str, str] = {
    "list": "installed models: name, size, parameters, quantization, modified",
    "ps": "models loaded in memory: size, size in VRAM, context, expires in",
    "show MODEL": "details, capabilities, context length, parameters, template, license",
    "pull MODEL": "download a model, with live progress (Ctrl-C cancels)",
    "rm MODEL": "delete a model",
    "cp SRC DST": "copy a model under another name",
    "unload MODEL": "free a model's memory now",
    "embed MODEL TEXT...": 'embedding vectors (returned); quote several texts: "a" "b"',
    "config [key=value ...]": "host, model, timeout and default options (temperature=0, ...)",
    "login": "ask for an Ollama API key without showing it; kept in this kernel only",
    "logout": "forget the key given to %ollama login",
    "history [--chat NAME]": "the turns of a conversation",
    "clear [--chat NAME]": "forget a conversation",
    "log [WORDS] [-m MODEL] [--since 2d]": "search every turn asked (also: show ID, --stats, --prune --before 90d)",
    "doctor": "check host, version, default model, loaded models, cloud key",
    "usage [--host URL]": "Ollama Cloud quota: session and weekly usage (needs OLLAMA_API_KEY)",
    "help": "this list",
}


def _say(sentence: str, plain: str) -> None:
    """One sentence of our own; `backticks` (around names, escaped) become code."""
    display_html(plain, chrome.paragraph(sentence))


def _table(
    rows: list[dict[str, Any]], cols: list[str], head: str = "", *, squeeze: tuple[str, ...] = (), **kw: Any
) -> None:
    pieces = [chrome.paragraph(head)] if head else []
    plain = _plain_table(rows, cols, squeeze=squeeze)
    # `backticks` mark names as code in the HTML; a terminal shows them as written, so quotes there.
    display_html((head.replace("`", "'") + "\n" if head else "") + plain, *pieces, chrome.table(rows, cols, **kw))


def _need(args: list[str], count: int, usage: str) -> list[str]:
    if len(args) != count:
        raise UsageError(f"Usage: %ollama {usage}")
    return args


# --------------------------------------------------------------------------- models


def cmd_list(args: list[str]) -> None:
    _need(args, 0, "list")
    models = client_for().list().get("models", [])
    if not models:
        _say("No models installed. Get one with `%ollama pull llama3.2`.", "No models installed.")
        return
    rows = [
        {
            "name": fmt_.listed_name(m.get("name") or m.get("model") or ""),
            "size": fmt_.model_size(m),
            "params": (m.get("details") or {}).get("parameter_size", "–"),
            "quantization": (m.get("details") or {}).get("quantization_level", "–"),
            "modified": fmt_.ago(m.get("modified_at")),
        }
        for m in models
    ]
    cols = ["name", "size", "params", "quantization", "modified"]
    _table(rows, cols)


def cmd_ps(args: list[str]) -> None:
    _need(args, 0, "ps")
    models = client_for().ps().get("models", [])
    if not models:
        _say("No model is loaded right now.", "No model is loaded right now.")
        return
    rows = []
    for m in models:
        size, vram = m.get("size") or 0, m.get("size_vram") or 0
        where = "100% GPU" if size and vram >= size else "100% CPU" if not vram else f"{vram / size:.0%} GPU"
        rows.append(
            {
                "name": fmt_.listed_name(m.get("name") or m.get("model") or ""),
                "size": fmt_.size(size),
                "in VRAM": f"{fmt_.size(vram)} ({where})",
                "context": m.get("context_length", "–"),
                "expires": fmt_.expires_in(m.get("expires_at")),
            }
        )
    cols = ["name", "size", "in VRAM", "context", "expires"]
    _table(rows, cols)


def cmd_show(args: list[str]) -> None:
    _need(args, 1, "show MODEL")
    info = client_for().show(args[0])
    details = info.get("details") or {}
    model_info = info.get("model_info") or {}
    arch = model_info.get("general.architecture")
    context = model_info.get(f"{arch}.context_length") if arch else None
    rows = [
        {"": "family", "value": details.get("family", "–")},
        {"": "parameters", "value": details.get("parameter_size", "–")},
        {"": "quantization", "value": details.get("quantization_level", "–")},
        {"": "format", "value": details.get("format", "–")},
        {"": "capabilities", "value": ", ".join(info.get("capabilities") or []) or "–"},
        {"": "context length", "value": context or "–"},
    ]
    # The name exactly as given went to the server; it is shown so that its spaces can be seen.
    shown = fmt_.model_name(args[0])
    parts = [chrome.heading(shown, 3), chrome.table(rows, ["", "value"])]
    plain = [shown, _plain_table(rows, ["", "value"])]
    for title, key in (("Parameters", "parameters"), ("Template", "template")):
        text = str(info.get(key) or "").strip()
        if text:
            parts += [chrome.title(title), chrome.code(text)]
            plain.append(f"{title}:\n{text}")
    license_text = str(info.get("license") or "").strip()
    if license_text:
        excerpt = license_text if len(license_text) <= 400 else license_text[:400].rsplit(" ", 1)[0] + " …"
        parts += [chrome.title("License", " (excerpt)"), chrome.code(excerpt)]
        plain.append(f"License (excerpt):\n{excerpt}")
    display_html("\n\n".join(plain), *parts)


def cmd_rm(args: list[str]) -> None:
    _need(args, 1, "rm MODEL")
    client_for().delete(args[0])
    name = fmt_.model_name(args[0])
    _say(f"Deleted `{name}`.", f"Deleted {name}.")


def cmd_cp(args: list[str]) -> None:
    _need(args, 2, "cp SRC DST")
    client_for().copy(args[0], args[1])
    src, dst = fmt_.model_name(args[0]), fmt_.model_name(args[1])
    _say(f"Copied `{src}` to `{dst}`.", f"Copied {src} to {dst}.")


def cmd_unload(args: list[str]) -> None:
    _need(args, 1, "unload MODEL")
    client_for().unload(args[0])
    name = fmt_.model_name(args[0])
    _say(f"Unloaded `{name}` from memory.", f"Unloaded {name} from memory.")


class Embeddings(list[list[float]]):
    """The vectors ``%ollama embed`` returns: a plain list of lists, shown as a short summary."""

    model: str = ""

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        dims = len(self[0]) if self else 0
        head = ", ".join(f"{x:.4f}" for x in (self[0][:4] if self else []))
        p.text(
            f"<{len(self)} embedding{'s' if len(self) != 1 else ''} × {dims} dims from {self.model}: [[{head}, …], …]>"
        )


def cmd_embed(rest: str) -> Embeddings:
    """``MODEL TEXT...``: quoted texts are separate inputs; unquoted words are one text, as typed
    (so "don't" needs no quoting)."""
    parts = rest.split(None, 1)
    if len(parts) < 2:
        raise UsageError('Usage: %ollama embed MODEL TEXT...  (several texts: %ollama embed MODEL "first" "second")')
    model, text = parts[0], parts[1].strip()
    if text[:1] in ("'", '"'):
        try:
            inputs = shlex.split(text, posix=True)
        except ValueError as exc:
            raise UsageError(f"%ollama embed: cannot read the quoted texts ({exc}).") from None
    else:
        inputs = [text]
    result = client_for().embed(model, inputs)
    out = Embeddings(result.get("embeddings") or [])
    out.model = model
    return out


# --------------------------------------------------------------------------- settings


_CONFIG_KEYS = ("host", "model", "api_key", "timeout", "store", "cache")


def cmd_config(args: list[str]) -> None:
    typed_key = False
    for pair in args:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(
                "Usage: %ollama config key=value ...  (keys: host, model, timeout, or a model option; "
                "for the API key: %ollama login)"
            )
        typed_key = _set(key.strip().lower().replace("-", "_"), value.strip()) or typed_key
    from .sources import config_problems, config_rows

    rows, cols = config_rows(), ["setting", "value", "from"]
    for problem in config_problems():
        show_error(problem)
    if typed_key:
        display_html(
            f"{_plain_table(rows, cols)}\n\n{_TYPED_KEY_NOTE}",
            chrome.table(rows, cols),
            chrome.warning_line(_TYPED_KEY_NOTE),
        )
    else:
        _table(rows, cols)


def _set(key: str, value: str) -> bool:
    """Change one setting; True when it was an API key typed into the cell."""
    if key in ("key", "api_key"):
        settings.api_key = value or None
        settings.key_from_login = False
        remember(value)
        return bool(value)
    if key == "host":
        try:
            parse_host(value)  # checked now; kept as written, with a user:password@ it may carry
            settings.host = value or None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    elif key == "model":
        settings.model = value or None
    elif key == "timeout":
        try:
            settings.timeout = check_seconds(value) if value else None
        except ValueError as exc:
            raise UsageError(
                f"%ollama config: {exc} It is the silence allowed between chunks; "
                f"`timeout=` alone restores the default ({DEFAULT_TIMEOUT[1]:g} s)."
            ) from None
    elif key in ("store", "cache"):
        _set_store(key, value)
    elif key in OPTION_TYPES:
        if value:
            settings.options[key] = coerce_option(key, value)
        else:
            settings.options.pop(key, None)
    else:
        close = difflib.get_close_matches(key, [*_CONFIG_KEYS, *OPTION_TYPES], n=1, cutoff=0.6)
        raise UsageError(f"Unknown config key {key!r}." + (f" Did you mean {close[0]!r}?" if close else ""))
    return False


def _set_store(key: str, value: str) -> None:
    """``store=PATH`` / ``store=off`` / ``store=`` (the default), ``cache=on|off``."""
    if key == "store":
        settings.store = value or None
        return
    if value.lower() not in ("on", "off", "true", "false", "1", "0", "yes", "no", ""):
        raise UsageError(f"%ollama config cache={value}: write cache=on or cache=off.")
    settings.cache = None if value == "" else value.lower() in ("on", "true", "1", "yes")


_TYPED_KEY_NOTE = (
    "The key is now in this cell's source (saved with the notebook) and in IPython's history. "
    "Delete this line, and next time use `%ollama login` (it asks without showing or saving the key) "
    "or set OLLAMA_API_KEY before starting Jupyter."
)


def cmd_login(args: list[str]) -> None:
    """Ask for the key with getpass: in Jupyter a password box (an input request), so the key is
    never in a cell's source, its output, or IPython's history."""
    _need(args, 0, "login")
    import getpass

    from IPython.core.error import StdinNotImplementedError

    try:
        key = getpass.getpass("Ollama API key (https://ollama.com/settings/keys), kept in this kernel only: ")
    except StdinNotImplementedError:
        raise UsageError(
            "%ollama login: this front end cannot ask for input (a notebook run by nbclient/nbconvert?). "
            "Set OLLAMA_API_KEY in the environment Jupyter starts from instead."
        ) from None
    except (EOFError, KeyboardInterrupt):
        key = ""
    key = key.strip()
    if not key:
        raise UsageError("%ollama login: no key entered; nothing changed.")
    if any(c.isspace() for c in key):
        raise UsageError("%ollama login: that is not a key (it contains spaces); nothing changed.")
    remember(key)
    settings.api_key = key
    settings.key_from_login = True
    _say(
        "API key stored for this kernel only: it is not in the notebook, its outputs or the history. "
        "`%ollama logout` forgets it.",
        "API key stored for this kernel only. %ollama logout forgets it.",
    )


def cmd_logout(args: list[str]) -> None:
    _need(args, 0, "logout")
    had = settings.api_key is not None
    settings.api_key = None
    settings.key_from_login = False
    forget_clients()
    note = "Forgot the API key." if had else "No key was stored by `%ollama login`."
    if os.environ.get("OLLAMA_API_KEY"):
        note += " OLLAMA_API_KEY is still set in the environment, and is used."
    _say(note, note.replace("`", ""))


def _chat_name(args: list[str], usage: str) -> str:
    if not args:
        return DEFAULT_CHAT
    if len(args) == 2 and args[0] == "--chat":
        return args[1]
    raise UsageError(f"Usage: %ollama {usage}")


def cmd_history(args: list[str]) -> None:
    name = _chat_name(args, "history [--chat NAME]")
    conv = Conversation.named(name)
    turns = conv.history()
    if not turns:
        _say(f"Conversation `{name}` is empty.", f"Conversation {name!r} is empty.")
        return

    def short(text: str, n: int = 80) -> str:
        return cut(" ".join(text.split()), n)  # escaped before the cut: no sequence left open

    rows = [
        {
            "#": i,
            "you": short(t["user"]),
            "answer": short(t["assistant"]),
            "status": t["status"],
            "model": t["model"] or "–",
            "tokens": t["stats"].get("eval_count", "–"),
        }
        for i, t in enumerate(turns, 1)
    ]
    cols = ["#", "you", "answer", "status", "model", "tokens"]
    head = f"Conversation `{name}`" + (f" (system: {short(conv.system, 60)})" if conv.system else "")
    _table(rows, cols, head, squeeze=("you", "answer"))


def cmd_clear(args: list[str]) -> None:
    name = _chat_name(args, "clear [--chat NAME]")
    conv = Conversation.named(name)
    count = len(conv)
    conv.clear()
    _say(f"Cleared {count} turn{'s' if count != 1 else ''} from `{name}`.", f"Cleared {count} turns from {name!r}.")


def cmd_help(args: list[str]) -> None:
    from .args import help_text
    from .notebook import COMMANDS as NOTEBOOK_COMMANDS

    rows = [{"command": f"%ollama {k}", "what it does": v} for k, v in {**COMMANDS, **NOTEBOOK_COMMANDS}.items()]
    cols = ["command", "what it does"]
    # `%%ollama --help` needs a line below it (IPython refuses an empty cell magic), so the cell
    # magic's options are shown here too.
    cell = help_text()
    display_html(
        f"{_plain_table(rows, cols)}\n\n{cell}",
        chrome.table(rows, cols, code_columns=["command"]),
        chrome.title("%%ollama options"),
        chrome.code(cell),
    )


# --------------------------------------------------------------------------- doctor


def cmd_doctor(args: list[str]) -> None:
    from .doctor import run_doctor

    _need(args, 0, "doctor")
    run_doctor()


# --------------------------------------------------------------------------- usage


def cmd_usage(args: list[str]) -> None:
    from .._hosts import CLOUD_HOST
    from .._quota import account_rows

    host = None
    if args[:1] == ["--host"] and len(args) == 2:
        host = args[1]
    elif args:
        raise UsageError("Usage: %ollama usage [--host URL]")
    client = client_for(host)
    if host is None and not client.cloud:
        client = client_for(CLOUD_HOST)  # a local server has no quota; the account's is at ollama.com
    if not client.has_key:
        _say(
            "Ollama Cloud usage needs your API key: `%ollama login`, or set OLLAMA_API_KEY.",
            "Ollama Cloud usage needs your API key: %ollama login, or set OLLAMA_API_KEY.",
        )
        return
    rows = account_rows(client)
    if not rows:
        _say(f"`{client.host}` reported no limits.", f"{client.host} reported no limits.")
        return
    table = chrome.usage_table(rows)
    plain = _plain_table(rows, ["limit", "used", "resets"])
    head = f"Ollama Cloud usage ({client.host})"
    display_html(head + "\n" + plain, chrome.title(head), table)


# --------------------------------------------------------------------------- dispatch


def _plain_table(rows: list[dict[str, Any]], cols: list[str], *, squeeze: tuple[str, ...] = ()) -> str:
    """The table as aligned text; in terminal IPython the ``squeeze`` columns (free text) are cut
    so that a row fits the terminal's width, since a wrapped row breaks every column below it."""
    # Cells escaped before measuring, so columns line up on the text a terminal really shows.
    cells = [{c: terminal_text(str(r.get(c, ""))) for c in cols} for r in rows]
    widths = {c: max(len(str(c)), *(len(r[c]) for r in cells)) for c in cols}
    if squeeze and in_terminal():
        _squeeze(widths, squeeze, shutil.get_terminal_size((100, 24)).columns - 1)
    lines = ["  ".join(str(c).ljust(widths[c]) for c in cols)]
    lines += ["  ".join(cut(r[c], widths[c]).ljust(widths[c]) for c in cols) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def _squeeze(widths: dict[str, int], names: tuple[str, ...], room: int) -> None:
    """Narrow the widest of ``names`` one character at a time until the row fits ``room``
    (each kept at least 12 wide: a few words still say what the row is)."""
    over = sum(widths.values()) + 2 * (len(widths) - 1) - room
    while over > 0:
        widest = max(names, key=lambda n: widths[n])
        if widths[widest] <= 12:
            return
        widths[widest] -= 1
        over -= 1


_HANDLERS: dict[str, Callable[[list[str]], Any]] = {
    "list": cmd_list,
    "ls": cmd_list,
    "ps": cmd_ps,
    "show": cmd_show,
    "pull": lambda args: cmd_pull(*_need(args, 1, "pull MODEL")),
    "rm": cmd_rm,
    "cp": cmd_cp,
    "unload": cmd_unload,
    "config": cmd_config,
    "login": cmd_login,
    "logout": cmd_logout,
    "history": cmd_history,
    "clear": cmd_clear,
    "doctor": cmd_doctor,
    "usage": cmd_usage,
    "log": cmd_log,
    "help": cmd_help,
}


def run_line_magic(shell: Any, line: str) -> Any:
    """Everything ``%ollama`` does. Returns the vectors for ``embed``, else None."""
    head = line.split(None, 1)
    if head and head[0] == "embed":
        try:
            return cmd_embed(head[1] if len(head) > 1 else "")
        except OllamaError as err:
            show_exception(err)
            return None
    try:
        words = shlex.split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"%ollama: cannot read the line ({exc}).") from None
    if not words or words[0] in ("-h", "--help"):
        cmd_help([])
        return None
    command, rest = words[0], words[1:]
    from .notebook import run_notebook_command

    handled, value = run_notebook_command(shell, command, rest)
    if handled:
        return value
    try:
        handler = _HANDLERS.get(command)
        if handler is None:
            close = difflib.get_close_matches(command, [*_HANDLERS, "embed"], n=1, cutoff=0.5)
            raise UsageError(
                f"%ollama: unknown command {command!r}."
                + (f" Did you mean `%ollama {close[0]}`?" if close else "")
                + " `%ollama help` lists them."
            )
        return handler(rest)
    except OllamaError as err:
        show_exception(err)
        return None
