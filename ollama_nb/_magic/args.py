"""``%%ollama``'s options: the parser, and the checks that turn each value into what is sent.

Usage::

    args = parse_line("-m llama3.2 --think high")
    cell = read_cell(shell, args, "Explain {topic}.")   # a UsageError says what to fix
"""

from __future__ import annotations

import argparse
import copy
import difflib
import keyword
import os
import shlex
from dataclasses import dataclass, field
from typing import Any, NoReturn

from IPython.core.error import UsageError

from .._client import checked_think
from .._config import settings
from .._errors import InvalidRequest, OllamaError
from .._images import encode_image
from .._live import in_terminal
from .._notebook import with_errors
from .._request import keep_alive_from_text
from .._settings_file import file_settings
from ._shared import client_for
from .notebook import build_prompt
from .options import parse_options
from .prompt import unresolved
from .sources import options_in_force


def cache_default() -> bool:
    """``%ollama config cache=`` if said, else the config file's ``cache``, else off."""
    if settings.cache is not None:
        return settings.cache
    return file_settings().values.get("cache") is True

__all__ = ["FLAGS", "OPTIONS", "Cell", "help_text", "parse_line", "parser", "read_cell"]


class _Parser(argparse.ArgumentParser):
    """argparse as the magic needs it: errors are UsageErrors that name the flag meant."""

    def error(self, message: str) -> NoReturn:
        # argparse's "unrecognized arguments: --modle" -> also say which flag was meant.
        if "unrecognized arguments" in message or "ambiguous option" in message:
            for word in message.split(":", 1)[-1].split():
                close = difflib.get_close_matches(word, [f for f in FLAGS if f.startswith("--")], n=1, cutoff=0.6)
                if word.startswith("-") and close:
                    message += f" (did you mean {close[0]}?)"
                    break
        raise UsageError(f"%%ollama: {message}. See %%ollama --help.")


# "--mod" is not "--model": an unknown flag is an error, always.
parser = _Parser(
    prog="%%ollama",
    add_help=False,
    allow_abbrev=False,
    description="Send the cell to an Ollama model and stream the answer into the output.",
)
#: Every option's names (for "did you mean" and the docstring check); and the options that take
#: one value, which argparse would let a repeat silently override.
OPTIONS: list[tuple[str, ...]] = []
SINGLE: list[tuple[str, ...]] = []
FLAGS: list[str] = []


def _flag(*names: str, **kwargs: Any) -> None:
    parser.add_argument(*names, **kwargs)
    OPTIONS.append(names)
    FLAGS.extend(names)
    if kwargs.get("action") != "append":
        SINGLE.append(names)


_flag("-h", "--help", action="store_true", help="Show this help.")
_flag("-m", "--model", help="Model to use. Default: %%ollama config model=..., else OLLAMA_NB_MODEL.")
_flag("--chat", metavar="NAME", help="Continue the conversation NAME (shared with ChatWidget(conversation=NAME)).")
_flag("--new", action="store_true", help="Start the conversation afresh.")
_flag("-s", "--system", metavar="TEXT", help="System prompt for the conversation.")
_flag(
    "--think",
    nargs="?",
    const=True,
    metavar="LEVEL",
    help="Let a thinking model think (optionally at a level it lists: low|medium|high...).",
)
_flag("--no-think", dest="no_think", action="store_true", help="Ask a thinking model not to think.")
_flag(
    "-o",
    "--option",
    action="append",
    default=[],
    metavar="KEY=VALUE",
    help="Model option (temperature, seed, num_ctx, num_predict, top_k, top_p, stop...); repeatable.",
)
_flag(
    "--format",
    metavar="json|VAR",
    help="Structured output: 'json', or a JSON-schema dict / pydantic model in your namespace. "
    "The parsed object becomes the cell's value.",
)
_flag(
    "--image",
    action="append",
    default=[],
    metavar="VAR_OR_PATH",
    help="Image for a vision model: a variable (bytes, PIL image, array) or a file path; repeatable.",
)
_flag(
    "--keep-alive",
    dest="keep_alive",
    metavar="DURATION",
    help="How long the model stays loaded: seconds, or '5m', '1h'; 0 unloads after answering.",
)
_flag("--host", help="Ollama server for this cell (default: %%ollama config host=..., else OLLAMA_HOST).")
_flag("--raw", action="store_true", help="Plain text output, no Markdown.")
_flag(
    "--show-request",
    dest="show_request",
    action="store_true",
    help="Show the request as a curl command (key redacted) and the raw NDJSON chunks.",
)
_flag("--compare", metavar="A,B,...", help="Send the same prompt to several models and show the answers side by side.")
_flag("--out", metavar="NAME", help="Store the Reply (with --compare: a dict model -> Reply) in the variable NAME.")
_flag("--map", metavar="ITEMS", help="Run the cell as a template over the iterable ITEMS ({field} from each item).")
_flag(
    "--cache",
    action=argparse.BooleanOptionalAction,
    default=None,
    help="Answer an identical request (model digest, messages, options, format, seed) from the log; "
    "--no-cache asks the model. Default: %%ollama config cache=on|off.",
)
_flag("--no-interpolate", dest="no_interpolate", action="store_true", help="Send {braces} exactly as written.")
_flag("--context", type=int, metavar="N", help="Send the last N cells run (source and text output) before the prompt.")
_flag("--insert", action="store_true", help="Put the answer's last code block in a new cell below (not run).")


#: How wide ``%%ollama --help`` is in a notebook: the monospace characters a narrow (700 px)
#: JupyterLab output shows on one line, since it wraps a longer one in the middle of a column.
NOTEBOOK_HELP_WIDTH = 64


def help_text() -> str:
    """``%%ollama --help``: as wide as the terminal in one, else as a narrow notebook shows."""
    if in_terminal():
        return parser.format_help()
    narrow = copy.copy(parser)  # the shared parser's formatter is left as it is
    narrow.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=NOTEBOOK_HELP_WIDTH)
    return narrow.format_help()


def parse_line(line: str) -> argparse.Namespace:
    """The ``%%ollama`` line -> arguments. Quotes work as in a shell (``-s "You are terse."``)."""
    try:
        argv = shlex.split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"%%ollama: cannot read the options ({exc}).") from None
    args = parser.parse_args(argv)
    # argparse lets a later flag silently win; a repeated single-value flag is almost always a typo.
    for names in SINGLE:
        given = [a for a in argv if a.split("=", 1)[0] in names]
        if len(given) > 1:
            raise UsageError(f"%%ollama: {names[-1]} is given twice.")
    return args


# --------------------------------------------------------------------------- resolving arguments


@dataclass
class Cell:
    """A ``%%ollama`` cell read and checked: what to send, and where the answer goes."""

    args: argparse.Namespace
    ns: dict[str, Any]
    client: Any
    prompt: str
    options: dict[str, Any]
    think: Any
    send_format: Any  # what is sent as ``format``
    schema: Any  # what parses the answer: None for json, else the schema source
    out_name: str | None
    keep_alive: Any = None
    images: list[Any] = field(default_factory=list)  # as given (for the thumbnails)
    encoded: list[str] = field(default_factory=list)  # as sent
    unfilled: list[str] = field(default_factory=list)  # {fields} sent as written: no such name

    @property
    def cache(self) -> bool:
        """``--cache`` / ``--no-cache``, else ``%ollama config cache=``."""
        return cache_default() if self.args.cache is None else bool(self.args.cache)

    @property
    def request(self) -> dict[str, Any]:
        """The request's options beside the messages."""
        options = self.options or None
        return dict(think=self.think, format=self.send_format, options=options, keep_alive=self.keep_alive)


def read_cell(shell: Any, args: argparse.Namespace, text: str) -> Cell:
    """Check every option against the namespace; a UsageError names the one to fix."""
    ns = shell.user_ns
    text = text.strip("\n").rstrip()  # the text typed, without the blank lines around it
    prompt = build_prompt(text, ns, fill=not args.no_interpolate, context=args.context)
    options = options_in_force(parse_options(args.option))
    think = _think(args)
    send_format, schema = _format(args.format, ns)
    images = [_image(s, ns) for s in args.image]
    out_name = _out_name(args.out)
    keep_alive = _keep_alive(args.keep_alive)
    if not prompt.strip() and not images:
        raise UsageError("%%ollama: the cell is empty; write the prompt on the lines below %%ollama.")
    if args.compare and args.model:
        raise UsageError("%%ollama: use -m MODEL or --compare A,B, not both.")
    try:
        encoded = [encode_image(i) for i in images]
    except (TypeError, ValueError) as exc:
        raise UsageError(f"%%ollama: --image: {exc}") from None
    client = _client(args.host)
    unfilled = [] if args.no_interpolate else unresolved(text, with_errors(ns))
    return Cell(
        args, ns, client, prompt, options, think, send_format, schema, out_name, keep_alive, images, encoded, unfilled
    )


def _client(host: str | None) -> Any:
    try:
        return client_for(host)
    except (ValueError, OllamaError) as exc:
        where = "--host: " if host else ""
        raise UsageError(f"%%ollama: {where}{getattr(exc, 'message', exc)}") from None


def _think(args: argparse.Namespace) -> Any:
    if args.no_think and args.think is not None:
        raise UsageError("%%ollama: use --think or --no-think, not both.")
    if args.no_think:
        return False
    if args.think is None or args.think is True:
        return args.think
    return str(args.think).lower()  # which names are levels is the model's to say: check_think_level


def check_think_level(client: Any, model: str, think: Any) -> None:
    """A named ``--think`` level, checked before the turn starts as the client checks it: against
    the levels the model lists in ``/api/show`` when its server gives them, else the fixed four."""
    try:
        checked_think(client, model, think)
    except InvalidRequest as exc:
        raise UsageError(f"%%ollama: --think: {exc.message} {exc.hint} (model {model!r})") from None


def _format(value: str | None, ns: dict[str, Any]) -> tuple[Any, Any]:
    """(what to send as ``format``, what parses the answer: None for json, else the schema source)."""
    if value is None:
        return None, None
    if value == "json":
        return "json", None
    if value not in ns:
        raise UsageError(f"%%ollama: --format takes 'json' or the name of a schema variable; {value!r} is not defined.")
    obj = ns[value]
    if isinstance(obj, dict):
        return obj, obj
    if isinstance(obj, type) and hasattr(obj, "model_json_schema"):
        return obj.model_json_schema(), obj
    raise UsageError(
        f"%%ollama: --format {value}: expected a JSON-schema dict or a pydantic model class, got {type(obj).__name__}."
    )


def _image(source: str, ns: dict[str, Any]) -> Any:
    if source.isidentifier() and source in ns:
        return ns[source]
    path = os.path.expanduser(source)
    if os.path.exists(path):
        return path
    raise UsageError(f"%%ollama: --image {source}: no variable or file of that name.")


def _keep_alive(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return keep_alive_from_text(value)
    except InvalidRequest as exc:
        raise UsageError(f"%%ollama: --keep-alive: {exc.message} {exc.hint}") from None


def _out_name(name: str | None) -> str | None:
    if name is not None and (not name.isidentifier() or keyword.iskeyword(name)):
        raise UsageError(f"%%ollama: --out {name}: not a valid variable name.")
    return name
