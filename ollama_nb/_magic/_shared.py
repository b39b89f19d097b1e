"""What the cell magic and the line magic share: the client to use, the cell being run, errors."""

from __future__ import annotations

import sys
from typing import Any

from .._config import client_for
from .._errors import OllamaError
from .._redact import mask_data, redact
from .._terminal import terminal_text

# client_for is re-exported: the magic modules import it from here.
__all__ = [
    "DEFAULT_CHAT",
    "MagicState",
    "client_for",
    "current_cell_id",
    "display_html",
    "remember_cell",
    "reraise_interrupt",
    "show_error",
    "show_exception",
    "state",
]

# live.py (regexes for safe Markdown) and the magic modules load on first use, not at %load_ext.

#: The conversation ``%%ollama`` continues when no ``--chat NAME`` is given. A kernel runs one
#: notebook, so one name per kernel is one per notebook; ``ChatWidget(conversation="default")``
#: joins it.
DEFAULT_CHAT = "default"


class MagicState:
    """Kernel-wide magic settings that are not part of :data:`ollama_nb._config.settings`."""

    def __init__(self) -> None:
        #: The id of the cell being run, as the front end sent it (see :func:`current_cell_id`).
        self.cell_id: str | None = None
        self.cell_is_magic = True  # False while a cell runs that calls the magic from code


state = MagicState()


def remember_cell(info: Any) -> None:
    """``pre_run_cell`` hook: ipykernel passes the front end's cell id (``cellId`` in the request
    metadata, sent by JupyterLab, Notebook 7 and VS Code; nbclient 0.11 sends none) to ``run_cell``.

    Only a cell that *is* a ``%%ollama`` cell is keyed by its id: when code calls the magic
    (``run_cell_magic`` in a loop), each call is its own turn, not a replacement of the last.
    """
    raw = getattr(info, "raw_cell", "") or ""
    is_magic_cell = raw.lstrip().startswith("%%ollama")
    state.cell_id = (getattr(info, "cell_id", None) or None) if is_magic_cell else None
    state.cell_is_magic = is_magic_cell


def current_cell_id(shell: Any) -> str | None:
    """The running cell's id, or None (terminal IPython, front ends that send none)."""
    if state.cell_id or not state.cell_is_magic:
        return state.cell_id
    try:  # older paths: read the execute_request's metadata directly
        parent = shell.get_parent() if hasattr(shell, "get_parent") else getattr(shell, "parent_header", None)
        cell_id = (parent or {}).get("metadata", {}).get("cellId")
        return str(cell_id) if cell_id else None
    except Exception:
        return None


def show_error(message: str, hint: str = "", *, title: str = "") -> None:
    """A short red message with what to do next; never a traceback."""
    from .._live import in_terminal
    from .._render.chrome import error_bundle

    if in_terminal():
        red, dim, reset = "\x1b[31m", "\x1b[2m", "\x1b[0m"
        head = terminal_text(f"{title + ': ' if title else ''}{message}")
        print(f"{red}{head}{reset}", file=sys.stderr)
        if hint:
            print(f"{dim}{terminal_text(hint)}{reset}", file=sys.stderr)
        return
    from IPython.display import display

    display(mask_data(error_bundle(message, hint, title=title)), raw=True)


def show_exception(err: BaseException) -> None:
    if isinstance(err, OllamaError):
        show_error(err.message, err.hint)
    else:
        show_error(redact(f"{type(err).__name__}: {err}"))


def reraise_interrupt(exc: BaseException, note: str) -> None:
    """Re-raise a KeyboardInterrupt so "Run All" stops, shown as one line instead of a traceback."""
    text = f"KeyboardInterrupt: {note}"
    exc._render_traceback_ = lambda: [f"\x1b[0;31m{text}\x1b[0m"]  # type: ignore[attr-defined]
    raise exc


def display_html(plain: str, *pieces: str, metadata: dict[str, Any] | None = None) -> Any:
    """Show pieces built by :mod:`ollama_nb._render.chrome` as one output (HTML + plain text)."""
    from IPython.display import display

    from .._render.chrome import bundle

    # Tables of server fields (names, templates, licenses): known keys masked on the way out.
    return display(mask_data(bundle(plain, *pieces)), raw=True, metadata=mask_data(metadata or {}), display_id=True)
