"""``%%ollama``: the cell's text is the prompt; the answer streams into the cell.

Usage::

    %load_ext ollama_nb
    %%ollama -m llama3.2 -o temperature=0
    Explain {topic} in three bullet points.

Each run is a turn of a :class:`~ollama_nb.Conversation` (one per notebook unless ``--chat NAME``),
keyed by the cell's id so that re-running a cell replaces its own turn. The answer is one display
output, updated by :class:`~ollama_nb._live.LiveOutput` while it streams; its final form (sanitized
HTML from :mod:`ollama_nb._render` + plain text + metadata saying how it was made) is what the saved notebook keeps.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import json
import keyword
import shlex
from collections.abc import Callable
from typing import Any, NoReturn

from IPython.core.error import UsageError

from .. import _format as fmt_
from .._config import settings
from .._context import ContextUse, Lookup
from .._context import measure as measure_context
from .._conversation import Conversation
from .._errors import InvalidRequest, OllamaError
from .._images import encode_image, image_bytes
from .._live import Frame, LiveOutput, in_terminal
from .._redact import mask_data
from .._render import answer as render_answer
from .._render import chrome
from .._reply import Reply
from .._request import check_think, keep_alive_from_text
from .._retry import RetryWait
from .._status import RUNNING
from .._turn import TurnRunner
from ._shared import DEFAULT_CHAT, client_for, current_cell_id, reraise_interrupt, show_error, show_exception
from .options import parse_options
from .prompt import interpolate

__all__ = ["FLAGS", "OPTIONS", "help_text", "parse_line", "parser", "run_cell_magic"]

_MAX_SHOWN_LINES = 200  # --show-request: NDJSON lines shown before eliding the middle


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
    "--think", nargs="?", const=True, metavar="LEVEL", help="Let a thinking model think (optionally low|medium|high)."
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
_flag("--no-interpolate", dest="no_interpolate", action="store_true", help="Send {braces} exactly as written.")


def help_text() -> str:
    """``%%ollama --help``."""
    return parser.format_help()


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


def _think(args: argparse.Namespace) -> Any:
    if args.no_think and args.think is not None:
        raise UsageError("%%ollama: use --think or --no-think, not both.")
    if args.no_think:
        return False
    if args.think is None or args.think is True:
        return args.think
    try:
        return check_think(str(args.think).lower())
    except InvalidRequest as exc:
        raise UsageError(f"%%ollama: --think: {exc.message} {exc.hint}") from None


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
    import os

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


def _no_model_error(client: Any) -> None:
    try:
        names = [m.get("name") or m.get("model") for m in client.list().get("models", [])]
    except OllamaError as err:
        show_error("No model given, and none is configured.", f"Use `%%ollama -m MODEL`. (Also: {err.message})")
        return
    installed = ", ".join(f"`{n}`" for n in names) if names else "none yet (`%ollama pull llama3.2`)"
    show_error(
        "No model given, and none is configured.",
        f"Use `%%ollama -m MODEL`, or `%ollama config model=MODEL`, or set OLLAMA_NB_MODEL. Installed: {installed}.",
    )


def _thumbnail(images: list[Any]) -> None:
    """Small previews of the images sent, above the answer (so the saved notebook shows them)."""
    if in_terminal():
        return
    import base64

    from IPython.display import display

    for image in images:
        try:
            data = image_bytes(image)
        except Exception:
            continue
        mime = (
            "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg" if data[:3] == b"\xff\xd8\xff" else None
        )
        try:
            import io

            from PIL import Image as PILImage

            picture = PILImage.open(io.BytesIO(data))
            picture.thumbnail((192, 192))
            buf = io.BytesIO()
            picture.convert("RGBA" if picture.mode in ("RGBA", "LA", "P") else "RGB").save(buf, format="PNG")
            data, mime = buf.getvalue(), "image/png"
        except Exception:
            pass
        if mime:
            display(
                {mime: base64.b64encode(data).decode("ascii"), "text/plain": "<image sent to the model>"},
                raw=True,
                metadata={mime: {"width": 192}},
            )


# --------------------------------------------------------------------------- views


def _metadata(reply: Reply, options: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "ollama_nb": {
            "model": reply.model,
            "options": options,
            "stats": reply.stats() if reply.status != RUNNING else {},
            "done_reason": reply.done_reason,
            "status": reply.status,
            **extra,
        }
    }


_MARKS = {"interrupted": "interrupted", "stopped": "stopped", "failed": "failed"}


class AnswerView:
    """Renders one Reply: thinking folded above, the answer, a quiet footer once done.

    As outputs that read as one answer (see :class:`~ollama_nb._live.Frame`): the stylesheet once,
    then each finished part of the answer once, and the open end, the only output that is
    updated. The last output carries the footer, the whole answer as text/plain and the metadata."""

    def __init__(
        self, reply: Reply, *, options: dict[str, Any], raw: bool, structured: bool, extra: dict[str, Any]
    ) -> None:
        self.reply = reply
        self.options = options
        self.raw = raw
        self.structured = structured
        self.extra = extra
        self.context: ContextUse | None = None  # set once the answer is done (the footer's meter)
        self._html = render_answer.LiveAnswer()
        self._styled = False
        self._plain_settled = 0  # --raw: characters of the plain text already in settled outputs

    def footer(self) -> str:
        reply = self.reply
        line = fmt_.stats_line(reply)
        if reply.status in _MARKS and not reply.done:
            line = f"⚠ partial answer ({_MARKS[reply.status]}) · {line}"
        return line

    def render(self, final: bool) -> Frame:
        reply = self.reply
        content, thinking, calls = reply.content, reply.thinking, reply.tool_calls
        waiting = not content and not thinking and not calls and reply.status == RUNNING
        bundle: dict[str, Any] = {}
        settled: list[dict[str, Any]] = []
        fold = False
        footer, warning = "", ""
        advice = ""
        if final:
            footer = fmt_.stats_line(reply)
            if reply.status in _MARKS and not reply.done:
                warning = f"partial answer ({_MARKS[reply.status]})"
            if self.context is not None:
                footer += " · " + self.context.short()
                advice = self.context.advice() if self.context.warn else ""
        if final or self.raw or waiting:
            # While streaming, a front end shows the HTML: re-sending a plain copy of the growing
            # text would double the bytes. The final output carries both.
            plain_footer = f"⚠ {warning} · {footer}" if warning else footer
            plain = render_answer.answer_plain(
                content=content, thinking=thinking, tool_calls=calls, footer=plain_footer
            )
            if advice:
                plain += "\n" + advice
            bundle["text/plain"] = plain or f"waiting for {reply.model}…"
        if self.raw and not waiting:
            # Plain text in parts too: whole lines settle (once thinking is over, the text before
            # the last newline never changes), only the open line is re-sent.
            if content and not final:
                cut = plain.rfind("\n") + 1
                if cut > self._plain_settled:
                    settled.append({"text/plain": plain[self._plain_settled : cut]})
                    self._plain_settled = cut
            bundle["text/plain"] = plain[self._plain_settled :]
        if not self.raw:
            if not self._styled:
                settled.append(chrome.style_bundle())
                self._styled = True
            split = self._html.split(
                content=content,
                thinking=thinking,
                tool_calls=calls,
                model=reply.model,
                structured=self.structured,
                waiting=waiting,
                thinking_open=not final and not content and not calls,
                footer=footer,
                warning=warning,
            )
            fold = split.fold
            settled += [{"text/html": chrome.part(p.html, joins=p.joins)} for p in split.settled]
            bundle["text/html"] = chrome.part(split.rest, chrome.advice(advice) if advice else "", end=final)
        # Metadata once, with the final output: on every update it would cost more than the text.
        meta: dict[str, Any] = _metadata(reply, self.options, self.extra) if final else {}
        if final and self.context is not None:
            meta["ollama_nb"]["context"] = self.context.as_dict()
        # A fold shows the folded thinking and the answer from the output after the stylesheet, in
        # the outputs the thinking streamed in.
        return Frame(settled, bundle, meta, restart=1 if fold else None)


# --------------------------------------------------------------------------- --show-request


def _redacted_body(body: dict[str, Any]) -> dict[str, Any]:
    """The request body as shown to people: image payloads summarised (they are huge)."""
    out = dict(body)
    if "messages" in out:
        messages = []
        for m in out["messages"]:
            m = dict(m)
            if m.get("images"):
                m["images"] = [f"<base64 image, {len(i)} characters>" for i in m["images"]]
            messages.append(m)
        out["messages"] = messages
    return out


def curl_command(client: Any, path: str, body: dict[str, Any]) -> str:
    """The request as a curl command. The key is never shown: it reads ``$OLLAMA_API_KEY``."""
    data = json.dumps(_redacted_body(body), indent=2, ensure_ascii=False).replace("'", "'\\''")
    lines = [f"curl {client.host}{path} \\"]
    if client.has_key:
        lines.append('  -H "Authorization: Bearer $OLLAMA_API_KEY" \\')
    lines.append(f"  -d '{data}'")
    return "\n".join(lines)


def _show_request(client: Any, body: dict[str, Any]) -> None:
    from IPython.display import display

    command = curl_command(client, "/api/chat", body)
    display(
        mask_data(chrome.bundle(command, "<p><strong>Request</strong></p>", chrome.code(command, "bash"))), raw=True
    )


class _ChunkLog:
    """The NDJSON lines for --show-request: the first ones and the last few (a long answer has
    thousands)."""

    def __init__(self) -> None:
        self.head: list[str] = []
        self.tail: collections.deque[str] = collections.deque(maxlen=5)
        self.total = 0

    def add(self, chunk: Any) -> None:
        self.total += 1
        line = json.dumps(chunk, ensure_ascii=False)
        (self.head.append if len(self.head) < _MAX_SHOWN_LINES else self.tail.append)(line)

    def text(self) -> str:
        hidden = self.total - len(self.head) - len(self.tail)
        middle = [f"… {hidden} more lines …"] if hidden > 0 else []
        return "\n".join(self.head + middle + list(self.tail))


def _show_chunks(log: _ChunkLog) -> None:
    from IPython.display import display

    text, total = log.text(), log.total
    # The raw lines are server text: a key echoed in them is masked like everywhere else.
    display(
        mask_data(chrome.bundle(text, chrome.details(f"Response: {total} NDJSON lines", chrome.code(text, "json")))),
        raw=True,
    )


# --------------------------------------------------------------------------- the magic


def run_cell_magic(shell: Any, line: str, cell: str) -> Any:
    """Everything ``%%ollama`` does. Returns the parsed object with ``--format``, else None."""
    args = parse_line(line)
    if args.help:
        print(help_text())
        return None
    ns = shell.user_ns
    cell = cell.strip("\n").rstrip()  # the text typed, without the blank lines around it
    prompt = cell if args.no_interpolate else interpolate(cell, ns)
    options = {**settings.options, **parse_options(args.option)}
    think = _think(args)
    send_format, schema = _format(args.format, ns)
    images = [_image(s, ns) for s in args.image]
    out_name = _out_name(args.out)
    if not prompt.strip() and not images:
        raise UsageError("%%ollama: the cell is empty; write the prompt on the lines below %%ollama.")
    if args.compare and args.model:
        raise UsageError("%%ollama: use -m MODEL or --compare A,B, not both.")
    try:
        encoded = [encode_image(i) for i in images]
    except (TypeError, ValueError) as exc:
        raise UsageError(f"%%ollama: --image: {exc}") from None
    try:
        client = client_for(args.host)
    except (ValueError, OllamaError) as exc:
        where = "--host: " if args.host else ""
        raise UsageError(f"%%ollama: {where}{getattr(exc, 'message', exc)}") from None

    conv = Conversation.named(args.chat or DEFAULT_CHAT)
    if args.new:
        conv.clear()
    if args.system is not None:
        conv.configure(system=args.system)
    user: dict[str, Any] = {"role": "user", "content": prompt}
    if encoded:
        user["images"] = encoded
        _thumbnail(images)
    request = dict(think=think, format=send_format, options=options or None, keep_alive=_keep_alive(args.keep_alive))

    if args.compare:
        from .compare import run_compare

        models = [m.strip() for m in args.compare.split(",") if m.strip()]
        if not models:
            raise UsageError("%%ollama: --compare takes model names separated by commas.")
        return run_compare(shell, client, models, [*conv.messages, user], request, options, out_name)

    model = args.model or conv.model or settings.resolved_model()
    if not model:
        _no_model_error(client)
        return None

    runner = TurnRunner(client, model, conversation=conv, user=user, key=current_cell_id(shell), request=request)
    extra = {"conversation": conv.name, "turn": runner.turn.id if runner.turn else None}
    if think is not None:
        extra["think"] = think
    if args.format:
        extra["format"] = args.format
    view = AnswerView(runner.reply, options=options, raw=args.raw, structured=send_format is not None, extra=extra)
    live = LiveOutput(view.render, footer=view.footer)
    log = _ChunkLog()

    lookups: list[Lookup] = []

    def on_stream(reply: Reply) -> None:
        view.reply = reply
        # The meter's figures come while the answer streams (the runner is loaded now), not in
        # two more round trips after its last chunk.
        lookups.append(Lookup(client, reply))

    on_chunk: Callable[[Reply, Any], None]
    pace: LiveOutput | None
    if args.show_request:

        def log_and_tick(reply: Reply, chunk: Any) -> None:
            log.add(chunk)
            live.tick(reply, chunk)

        on_chunk, pace = log_and_tick, None  # every chunk goes into the log
    else:
        # The hot path: the runner reads the clock and compares it with live.next_at; the live
        # output is called only when an update is due.
        on_chunk, pace = live.tick, live

    try:
        if args.show_request:
            body = {"model": model, "messages": runner.messages, **runner.request, "stream": True}
            _show_request(client, body)
        live.start()
        # A busy server's refusal is retried inside the call; the wait shows where the answer will
        # go, and the kernel's interrupt ends it (Event.wait is interruptible on the main thread).
        runner.run(on_chunk, pace=pace, on_stream=on_stream, on_wait=lambda wait: _show_wait(live, wait))
    except KeyboardInterrupt as exc:
        view.reply = runner.reply
        live.finish()
        if args.show_request and log.total:
            _show_chunks(log)
        _store(ns, out_name, runner.reply)
        reraise_interrupt(exc, "the answer was interrupted; the partial answer is kept above.")
    except Exception as exc:
        runner.fail(exc)
    view.reply = reply = runner.reply
    err = runner.error
    if err is not None:
        if reply.chunks:
            live.finish()  # the partial answer stays, marked; the message goes below it
            show_exception(err)
        elif live.handle is not None:
            live.handle.update(
                chrome.error_bundle(err.message, err.hint), raw=True
            )  # nothing arrived: the error in its place
        else:
            show_exception(err)
    interrupt: KeyboardInterrupt | None = None
    if err is None:
        try:
            view.context = _context_use(client, reply, options, lookups[-1] if lookups else None)
        except KeyboardInterrupt as exc:
            # Ctrl-C while the footer waited for the meter: the answer is whole (and recorded so),
            # shown without the meter; "Run All" still stops here.
            interrupt = exc
        live.finish()
    if args.show_request and log.total:
        _show_chunks(log)
    _store(ns, out_name, reply)
    if interrupt is not None:
        reraise_interrupt(interrupt, "the answer is complete above; its context meter was left out.")
    if send_format is not None and err is None:
        return _parse_structured(reply, schema)
    return None


def _context_use(client: Any, reply: Reply, options: dict[str, Any], lookup: Lookup | None) -> ContextUse | None:
    # The meter is a courtesy: a server that cannot say its window must not fail the cell.
    try:
        return measure_context(client, reply, options, lookup=lookup)
    except Exception:
        return None


def _show_wait(live: LiveOutput, wait: RetryWait) -> None:
    text = f"{wait}. Interrupt the kernel to stop waiting."
    if live.handle is not None:
        live.handle.update(chrome.notice_bundle(text), raw=True)
    else:
        import sys

        print(text, file=sys.stderr)


def _store(ns: dict[str, Any], name: str | None, value: Any) -> None:
    if name:
        ns[name] = value


def _parse_structured(reply: Reply, schema: Any) -> Any:
    text = reply.content
    try:
        if schema is not None and hasattr(schema, "model_validate_json"):
            return schema.model_validate_json(text)
        return json.loads(text)
    except Exception as exc:  # json.JSONDecodeError, pydantic.ValidationError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        show_error(
            f"The answer does not parse as the requested format: {first}",
            "The text is kept above. Ask for JSON in the prompt too, and try -o temperature=0.",
        )
        return None
