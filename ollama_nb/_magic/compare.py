"""``%%ollama --compare a,b,...``: one prompt, several models, the answers side by side.

The models answer one after another (on one Ollama they would mostly queue anyway, and the kernel's
main thread stays the only reader, so Ctrl-C behaves as in a plain ``%%ollama``). One display
output shows every column and is updated while each answer streams. The history of the
conversation is sent as context, but a comparison is not recorded as a turn: there is no single
answer to continue from.

While they stream, the answers are shown one below the other, each under its model's name and in
parts like a plain ``%%ollama`` answer (each finished part sent once, only the open end updated:
smooth at any length, bytes linear in the answers). Once all are done the parts are emptied and the
last output becomes the side-by-side table of columns, which is what the saved notebook keeps. All
of it is built by :mod:`ollama_nb._render` (each answer sanitized there), which JupyterLab, nbconvert
and nbviewer render alike.
"""

from __future__ import annotations

import time
from typing import Any

from .. import _format as fmt_
from .._errors import OllamaError
from .._live import Frame, LiveOutput
from .._render import answer as render_answer
from .._render import chrome
from .._reply import Reply
from .._status import RUNNING
from .._terminal import terminal_text
from .._turn import TurnRunner
from ._shared import reraise_interrupt

__all__ = ["CompareView", "run_compare"]


class CompareView:
    def __init__(self, models: list[str], options: dict[str, Any]) -> None:
        self.models = models
        self.options = options
        self.replies: dict[str, Reply] = {}
        self.errors: dict[str, OllamaError] = {}
        self.current: str | None = None  # the model answering now (run_compare sets it)
        self._live: dict[str, render_answer.LiveAnswer] = {}  # stacked parts while streaming
        self._headed: set[str] = set()  # models whose name has been shown above their answer
        self._shown: str | None = None  # the model whose answer the growing output shows
        self._styled = False

    def _cell(self, model: str) -> tuple[str, str, str]:
        """(answer HTML, footer, plain text) for one column."""
        reply = self.replies.get(model)
        err = self.errors.get(model)
        if reply is None:
            return (chrome.note("waiting…") if err is None else "", "", "" if err else "waiting…")
        waiting = not reply.content and not reply.thinking and reply.status == RUNNING
        body = render_answer.answer(content=reply.content, thinking=reply.thinking, model=reply.model, waiting=waiting)
        footer = fmt_.stats_line(reply) if reply.status != RUNNING else ""
        return body, footer, reply.content

    def _section(self, model: str) -> tuple[str, bool, str]:
        """One model's answer while they stream: (finished parts since the last call, whether they
        end inside a list the rest goes on with, the rest), its name above the first part, its
        footer or error under the last."""
        reply = self.replies.get(model)
        err = self.errors.get(model)
        live = self._live.setdefault(model, render_answer.LiveAnswer(fold_thinking=False))
        done, joins, rest = "", False, ""
        if reply is not None:
            waiting = not reply.content and not reply.thinking and reply.status == RUNNING
            footer = fmt_.stats_line(reply) if reply.status != RUNNING else ""
            split = live.split(
                content=reply.content,
                thinking=reply.thinking,
                model=reply.model,
                waiting=waiting,
                thinking_open=not reply.content and reply.status == RUNNING,
                footer=footer,
            )
            done, rest = "".join(p.html for p in split.settled), split.rest
            joins = bool(split.settled) and split.settled[-1].joins
        if err is not None:
            rest += chrome.error_box(err.message, err.hint)
        if model not in self._headed:
            self._headed.add(model)
            if done:
                done = chrome.heading(model, 5) + done
            else:
                rest = chrome.heading(model, 5) + rest
        return done, joins, rest

    def footer(self) -> str:
        return " | ".join(
            f"{m}: {fmt_.stats_line(self.replies[m]) if m in self.replies else 'failed'}" for m in self.models
        )

    def render(self, final: bool) -> Frame:
        settled: list[dict[str, Any]] = []
        if not self._styled:
            settled.append(chrome.style_bundle())
            self._styled = True
        if final:
            return Frame(settled, self._table(), self._metadata(), collapse=True)
        if self._shown is not None and self._shown != self.current:
            # The model before has ended: what is left of its answer settles where it grows.
            done, _joins, rest = self._section(self._shown)
            settled.append({"text/html": chrome.part(done + rest)})
        self._shown = self.current
        if self.current is None:
            return Frame(settled, {"text/html": chrome.part(chrome.note("waiting…"))}, {})
        done, joins, rest = self._section(self.current)
        if done:
            settled.append({"text/html": chrome.part(done, joins=joins)})
        return Frame(settled, {"text/html": chrome.part(rest)}, {})

    def _table(self) -> dict[str, Any]:
        bodies, feet, plain = [], [], []
        for model in self.models:
            body, foot, text = self._cell(model)
            err = self.errors.get(model)
            if err is not None:
                body += chrome.error_box(err.message, err.hint)
                foot = foot or "failed"
            bodies.append(body)
            feet.append(foot)
            plain.append(
                f"=== {model} ===\n{text}"
                + (f"\n[{foot}]" if foot else "")
                + (f"\n[error] {err.message}" if err else "")
            )
        return {
            "text/html": chrome.part(chrome.columns(self.models, bodies, feet), end=True, styled=True),
            "text/plain": terminal_text("\n\n".join(plain)),
        }

    def _metadata(self) -> dict[str, Any]:
        return {
            "ollama_nb": {
                "compare": self.models,
                "options": self.options,
                "answers": [
                    {
                        "model": m,
                        "status": self.replies[m].status if m in self.replies else "failed",
                        "done_reason": self.replies[m].done_reason if m in self.replies else None,
                        "stats": self.replies[m].stats() if m in self.replies else {},
                        "error": self.errors[m].message if m in self.errors else None,
                    }
                    for m in self.models
                ],
            }
        }


def run_compare(
    shell: Any,
    client: Any,
    models: list[str],
    messages: list[dict[str, Any]],
    request: dict[str, Any],
    options: dict[str, Any],
    out_name: str | None,
    *,
    cache: bool = False,
) -> None:
    view = CompareView(models, options)
    live = LiveOutput(view.render, footer=view.footer)
    live.start()
    tick, now = live.tick, time.monotonic

    def on_chunk(reply: Reply, chunk: Any) -> None:
        if now() >= live.next_at:
            tick(reply, chunk)

    for model in models:
        live.note(f"── {model} ──", bold=True)
        view.current = model
        runner = TurnRunner(client, model, messages=messages, request=request, source="compare", cache=cache)
        view.replies[model] = runner.reply

        def on_stream(reply: Reply, model: str = model) -> None:
            view.replies[model] = reply
            live.refresh()

        try:
            runner.run(on_chunk, on_stream=on_stream)
        except KeyboardInterrupt as exc:
            view.replies[model] = runner.reply
            if not live.terminal:
                live.finish()
            if out_name:
                shell.user_ns[out_name] = dict(view.replies)
            reraise_interrupt(exc, "the comparison was interrupted; the answers so far are kept above.")
        err = runner.error
        if err is None:
            live.note(fmt_.stats_line(runner.reply))
            continue
        view.errors[model] = err
        if runner.reply.chunks:
            view.replies[model] = runner.reply
        else:
            del view.replies[model]
        live.note(f"{err.message} {err.hint}")
        live.refresh()  # the error shows under the model's name at once
    if not live.terminal:
        live.finish()
    if out_name:
        shell.user_ns[out_name] = dict(view.replies)
