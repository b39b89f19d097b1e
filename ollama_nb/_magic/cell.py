"""``%%ollama``: the cell's text is the prompt; the answer streams into the cell.

Usage::

    %load_ext ollama_nb
    %%ollama -m llama3.2 -o temperature=0
    Explain {topic} in three bullet points.

Each run is a turn of a :class:`~ollama_nb.Conversation` (one per notebook unless ``--chat NAME``),
keyed by the cell's id so that re-running a cell replaces its own turn. The answer is one display
output, updated by :class:`~ollama_nb._live.LiveOutput` while it streams; its final form (sanitized
HTML from :mod:`ollama_nb._render` + plain text + metadata saying how it was made) is what the saved
notebook keeps. The options are read in :mod:`.args`, the answer drawn by :class:`.answer_view.AnswerView`.
"""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

from .._config import settings
from .._conversation import Conversation
from .._errors import OllamaError
from .._images import image_bytes
from .._live import LiveOutput, in_terminal
from .._live.schedule import Schedule
from .._render import chrome
from .._reply import Reply
from .._retry import RetryWait
from .._status import DONE
from .._store import turns as store
from .._terminal import terminal_text
from .._turn import TurnRunner
from ._shared import DEFAULT_CHAT, current_cell_id, reraise_interrupt, show_error, show_exception
from .answer_view import AnswerView
from .args import Cell, check_think_level, help_text, parse_line, read_cell
from .notebook import apply_course_prompt, check_model, insert_code, warn_if_too_long
from .prompt import unresolved_note
from .show_request import ChunkLog, show_chunks, show_request

__all__ = ["run_cell_magic"]


def run_cell_magic(shell: Any, line: str, text: str) -> Any:
    """Everything ``%%ollama`` does. Returns the parsed object with ``--format``, else None."""
    args = parse_line(line)
    if args.help:
        print(help_text())
        return None
    if args.map:  # many prompts at once: ollama_nb._map runs them
        from .map import run_map_magic

        return run_map_magic(shell, args, text)
    cell = read_cell(shell, args, text)
    _note_unfilled(cell.unfilled)
    conv, user = _turn_input(cell)
    if args.compare:
        from .compare import run_compare

        models = [m.strip() for m in args.compare.split(",") if m.strip()]
        if not models:
            raise UsageError("%%ollama: --compare takes model names separated by commas.")
        for model in models:
            check_think_level(cell.client, model, cell.think)
        messages = [*conv.messages, user]
        return run_compare(
            shell, cell.client, models, messages, cell.request, cell.options, cell.out_name, cache=cell.cache
        )
    model = args.model or conv.model or settings.resolved_model()
    if not model:
        _no_model_error(cell.client)
        return None
    check_model(model)
    check_think_level(cell.client, model, cell.think)
    warn_if_too_long(cell.client, model, [*conv.messages, user], cell.options)
    runner = TurnRunner(
        cell.client, model, conversation=conv, user=user, key=current_cell_id(shell), request=cell.request, meter=True,
        source="cell", cache=cell.cache,
    )  # fmt: skip
    reply = _answer(cell, runner)
    if args.insert and runner.error is None:
        insert_code(shell, reply.content)
    if cell.send_format is not None and runner.error is None:
        return _parse_structured(reply, cell.schema)
    return None


def _turn_input(cell: Cell) -> tuple[Conversation, dict[str, Any]]:
    """The conversation the cell continues (made afresh or re-prompted as asked) and its message."""
    args = cell.args
    conv = Conversation.named(args.chat or DEFAULT_CHAT)
    if args.new:
        conv.clear()
    elif args.chat and (restored := store.restore(conv)):
        _say_restored(conv, restored)
    if args.system is not None:
        conv.configure(system=args.system)
    apply_course_prompt(conv, args.system)
    user: dict[str, Any] = {"role": "user", "content": cell.prompt}
    if cell.encoded:
        user["images"] = cell.encoded
        _thumbnail(cell.images)
    return conv, user


def _say_restored(conv: Conversation, turns: int) -> None:
    """After a kernel restart the conversation came back from the log: say so above the answer."""
    count = f"{turns} turn{'s' * (turns != 1)}"
    text = f"Conversation {conv.name!r} restored from the log: {count}. Use --new to start afresh."
    if in_terminal():
        print(text)
    else:
        from IPython.display import display

        display(chrome.notice_bundle(text), raw=True)


def _view(cell: Cell, runner: TurnRunner) -> AnswerView:
    conv, args = runner.conversation, cell.args
    turn = runner.turn.id if runner.turn else None
    extra: dict[str, Any] = {"conversation": conv.name if conv else None, "turn": turn}
    if cell.think is not None:
        extra["think"] = cell.think
    if args.format:
        extra["format"] = args.format
    if runner.recorder is not None:
        extra["log"] = runner.recorder.id
    structured = cell.send_format is not None
    view = AnswerView(runner.reply, options=cell.options, raw=args.raw, structured=structured, extra=extra)
    view.log_id = runner.recorder.id if runner.recorder is not None else None
    view.out_name = cell.out_name
    return view


def _answer(cell: Cell, runner: TurnRunner) -> Reply:
    """Stream the answer into the cell's output and end it there; returns the reply."""
    view = _view(cell, runner)
    live = LiveOutput(view.render, footer=view.footer)
    log = ChunkLog() if cell.args.show_request else None
    try:
        if log is not None:
            body = {"model": runner.model, "messages": runner.messages, **runner.request, "stream": True}
            show_request(cell.client, body)
        live.start()
        # A busy server's refusal is retried inside the call; the wait shows where the answer will
        # go, and the kernel's interrupt ends it (Event.wait is interruptible on the main thread).
        on_chunk, pace = _feed(live, log)
        runner.run(on_chunk, pace=pace, on_wait=lambda wait: _show_wait(live, wait))
    except KeyboardInterrupt as exc:
        _show_end(view, live, runner)
        _after(cell, log, runner.reply)
        done = runner.outcome is not None and runner.outcome.status == DONE
        # Ctrl-C while the footer waited for the meter: the answer is whole (and recorded so),
        # shown without the meter; "Run All" still stops here.
        what = "the answer is complete above; its context meter was left out." if done else (
            "the answer was interrupted; the partial answer is kept above."
        )
        reraise_interrupt(exc, what)
    except Exception as exc:
        runner.fail(exc)
    _show_end(view, live, runner)
    _after(cell, log, runner.reply)
    return runner.reply


def _feed(live: LiveOutput, log: ChunkLog | None) -> tuple[Callable[[Reply, Any], None], Schedule | None]:
    """What the runner calls per chunk, and what paces it."""
    if log is None:
        # The hot path: the runner compares the clock with the schedule's next_at; the live output
        # is called only when an update is due.
        return live.tick, live.schedule

    def log_and_tick(reply: Reply, chunk: Any) -> None:
        log.add(chunk)
        live.tick(reply, chunk)

    return log_and_tick, None  # every chunk goes into the log


def _show_end(view: AnswerView, live: LiveOutput, runner: TurnRunner) -> None:
    """The final output: the answer with its footer, or the error in its place."""
    view.outcome = runner.outcome
    err = runner.error
    if err is None or runner.reply.chunks:
        live.finish()  # a partial answer stays, marked; the message goes below it
        if err is not None:
            show_exception(err)
    elif live.handle is not None:  # nothing arrived: the error in its place
        live.handle.update(chrome.error_bundle(err.message, err.hint), raw=True)
        live.close()
    else:
        live.close()
        show_exception(err)


def _after(cell: Cell, log: ChunkLog | None, reply: Reply) -> None:
    if log is not None and log.total:
        show_chunks(log)
    if cell.out_name:
        cell.ns[cell.out_name] = reply


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


def _note_unfilled(fields: list[str]) -> None:
    """Above the answer: the {fields} sent literally because no such name is defined."""
    note = unresolved_note(fields)
    if not note:
        return
    if in_terminal():
        print(note, file=sys.stderr)
        return
    from IPython.display import display

    display(chrome.notice_bundle(note), raw=True)


def _show_wait(live: LiveOutput, wait: RetryWait) -> None:
    text = f"{wait}. Interrupt the kernel to stop waiting."
    if live.handle is not None:
        live.handle.update(chrome.notice_bundle(text), raw=True)
    else:
        print(terminal_text(text), file=sys.stderr)


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
