"""``%%ollama`` and ``%ollama``: register/unregister, and the Magics class that delegates.

``%load_ext ollama_nb`` calls :func:`register`. The cell magic lives in :mod:`.cell`, the line
magic's subcommands in :mod:`.line`, prompt interpolation in :mod:`.prompt`.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from .._notebook import log as notebook_log
from ._shared import remember_cell, show_error

__all__ = ["OllamaMagics", "register", "unregister"]


@magics_class
class OllamaMagics(Magics):
    """The ``ollama`` magic, both forms: ``%ollama SUBCOMMAND`` and ``%%ollama [options]``."""

    @line_cell_magic
    def ollama(self, line: str, cell: str | None = None) -> Any:
        """Ollama in Jupyter: ``%%ollama`` streams an answer into the cell, ``%ollama`` manages models.

        Cell magic (the cell's text is the prompt; ``{name}``, ``{name.attr}``, ``{name[key]}``,
        ``{In[n]}``, ``{Out[n]}`` of defined names are filled in, other braces stay)::

            %%ollama [-m MODEL] [--chat NAME] [--new] [-s TEXT] [--think [LEVEL]] [--no-think]
                     [-o KEY=VALUE ...] [--format json|VAR] [--image VAR_OR_PATH ...]
                     [--keep-alive DURATION] [--host HOST] [--raw] [--show-request]
                     [--compare A,B,...] [--map ITEMS] [--out NAME] [--cache | --no-cache]
                     [--no-interpolate] [--context N] [--insert] [-h]

          -m, --model       model (default: %ollama config model=..., else OLLAMA_NB_MODEL)
          --chat NAME       continue the conversation NAME (shared with ChatWidget(conversation=NAME))
          --new             start the conversation afresh
          -s, --system      system prompt for the conversation
          --think [LEVEL]   let a thinking model think (low, medium, high); --no-think: don't
          -o KEY=VALUE      model option (temperature, seed, num_ctx, num_predict, top_k, top_p, stop...)
          --format          'json', or a JSON-schema dict / pydantic model: the parsed object is the
                            cell's value (and ``_``)
          --image           a variable (bytes, PIL image, array) or a file path, for vision models
          --keep-alive      how long the model stays loaded: seconds, or 5m / 1h
          --host            the Ollama server for this cell
          --raw             plain text, no Markdown
          --show-request    the request as curl (key redacted) and the raw NDJSON chunks
          --compare A,B     the same prompt to several models, side by side
          --map ITEMS       the cell as a template over the iterable ITEMS ({field} from each item),
                            many at once as ``ollama_nb.map`` runs them
          --out NAME        store the Reply in NAME (with --map: the results)
          --cache           answer an identical request from the log (--no-cache: ask the model;
                            default: %ollama config cache=on|off)
          --no-interpolate  send {braces} exactly as written (``{df}`` is sent as a summary;
                            ``{df!s}``, ``{df!r}`` as str/repr; ``{Err}``, ``{Err[n]}``: the last
                            error, cell n's)
          --context N       the last N cells run (source and text output) before the prompt
          --insert          the answer's last code block into a new cell below (not run)

        Line magic: ``%ollama list | ps | show MODEL | pull MODEL | rm MODEL | cp SRC DST |
        unload MODEL | embed MODEL TEXT... | config [key=value ...] | login | logout | history [--chat NAME] |
        clear [--chat NAME] | log [WORDS] [-m MODEL] [--since AGE] [-n N] | log show ID | log --stats |
        log --prune --before AGE | doctor | usage | fix | explain | insert [N] | tutor | help``.
        ``%ollama help`` shows all of it in full.
        """
        # Frames of the magic itself are noise in a traceback; errors are shown as short messages.
        __tracebackhide__ = True
        if cell is None:
            from .line import run_line_magic

            return run_line_magic(self.shell, line)
        from .cell import run_cell_magic

        return run_cell_magic(self.shell, line, cell)


def register(ipython: Any) -> None:
    """Register the magics and the hook that tells the magic which cell is running."""
    ipython.register_magics(OllamaMagics)
    try:
        ipython.events.unregister("pre_run_cell", remember_cell)
    except ValueError:
        pass
    ipython.events.register("pre_run_cell", remember_cell)
    # Every finished cell (source, text result, traceback) for %ollama fix, {Err} and --context.
    with contextlib.suppress(ValueError):
        ipython.events.unregister("post_run_cell", notebook_log.record)
    ipython.events.register("post_run_cell", notebook_log.record)
    _report_config_problems()
    # The render layer and Pygments' first lexer take ~0.2 s to load: off the main thread, once the
    # cell that loaded the extension is done (so that %load_ext itself stays quick), while the user
    # types the first prompt, instead of pausing the first answer's stream (a failure here only
    # leaves that cost for later).

    def preload_after_this_cell(*_result: Any) -> None:
        ipython.events.unregister("post_run_cell", preload_after_this_cell)
        threading.Thread(target=_preload, name="ollama-nb-preload", daemon=True).start()

    ipython.events.register("post_run_cell", preload_after_this_cell)


def _report_config_problems() -> None:
    """A bad config file or OLLAMA_HEADERS is said once at load; the extension loads anyway."""
    try:
        from .sources import config_problems

        problems = config_problems()
    except Exception as exc:  # reading the settings must never stop the extension from loading
        problems = [f"The config could not be read ({type(exc).__name__}); defaults are used."]
    for problem in problems:
        show_error(problem, "Until then the defaults, the environment and %ollama config apply.")


def _preload() -> None:
    with contextlib.suppress(Exception):
        from .._render.markdown import preload

        preload()


def unregister(ipython: Any) -> None:
    for event, hook in (("pre_run_cell", remember_cell), ("post_run_cell", notebook_log.record)):
        with contextlib.suppress(ValueError):
            ipython.events.unregister(event, hook)
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("ollama", None)
