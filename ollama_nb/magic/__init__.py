"""``%%ollama`` and ``%ollama``: register/unregister, and the Magics class that delegates.

``%load_ext ollama_nb`` calls :func:`register`. The cell magic lives in :mod:`.cell`, the line
magic's subcommands in :mod:`.line`, prompt interpolation in :mod:`.prompt`.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from ._shared import remember_cell

__all__ = ["OllamaMagics", "register", "unregister"]


@magics_class
class OllamaMagics(Magics):
    """The ``ollama`` magic, both forms: ``%ollama SUBCOMMAND`` and ``%%ollama [options]``."""

    @line_cell_magic
    def ollama(self, line: str, cell: str | None = None) -> Any:
        # Frames of the magic itself are noise in a traceback; errors are shown as short messages.
        __tracebackhide__ = True
        if cell is None:
            from .line import run_line_magic

            return run_line_magic(self.shell, line)
        from .cell import run_cell_magic

        return run_cell_magic(self.shell, line, cell)


def _doc() -> str:
    from .cell import parser
    from .line import COMMANDS

    lines = ["Ollama in Jupyter.", "", "Cell magic::", "", parser.format_help(), "", "Line magic::", ""]
    lines += [f"  %ollama {k:<24} {v}" for k, v in COMMANDS.items()]
    return "\n".join(lines)


def register(ipython: Any) -> None:
    """Register the magics and the hook that tells the magic which cell is running."""
    OllamaMagics.ollama.__doc__ = _doc()
    ipython.register_magics(OllamaMagics)
    try:
        ipython.events.unregister("pre_run_cell", remember_cell)
    except ValueError:
        pass
    ipython.events.register("pre_run_cell", remember_cell)


def unregister(ipython: Any) -> None:
    try:
        ipython.events.unregister("pre_run_cell", remember_cell)
    except ValueError:
        pass
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("ollama", None)
