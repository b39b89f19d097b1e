"""The view of one ``%%ollama`` answer: what each update of the cell's output shows."""

from __future__ import annotations

from typing import Any

from .._live import Frame
from .._outcome import Outcome, conclude
from .._render import answer as render_answer
from .._render import caps, chrome
from .._reply import Reply
from .._status import DONE, RUNNING

__all__ = ["AnswerView"]


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
        self.outcome: Outcome | None = None  # how it ended: set once the runner knows
        #: The turn's id in the log: while it streams the footer names it, so a notebook saved by a
        #: page closed mid-answer still tells how to read the whole answer.
        self.log_id: str | None = None
        #: The variable ``--out`` keeps the Reply in (the text output's cut note points there).
        self.out_name: str | None = None
        self._html = render_answer.LiveAnswer()
        self._styled = False
        self._plain_settled = 0  # --raw: characters of the plain text already in settled outputs

    def ending(self) -> Outcome:
        """How the answer ended (the runner's outcome; one read off the reply when it was cut
        before the runner could say)."""
        if self.outcome is not None:
            return self.outcome
        reply = self.reply
        return conclude(reply, DONE if reply.done else reply.status, None)

    def footer(self) -> str:
        """The terminal's footer line."""
        ending = self.ending()
        warning = ending.warning() if not self.reply.done else ""
        return f"⚠ {warning} · {ending.stats_line()}" if warning else ending.stats_line()

    def _log_note(self, waiting: bool) -> str:
        """While it streams, the footer names the log entry (a page closed now saves this line)."""
        return f"writing to the log · %ollama log show {self.log_id}" if self.log_id and not waiting else ""

    def _where(self) -> str:
        """Where the whole of an answer cut in the text output is, as the cut note says it."""
        if self.out_name:
            return self.out_name
        keep = "`%%ollama --out NAME` keeps the Reply as `NAME`"
        if self.log_id:
            return f"the log, `ollama_nb.log.show({self.log_id!r}).FIELD` ({keep})"
        return f"the Reply, which {keep} (then `NAME.FIELD`)"

    def _plain_rest(self, plain: str, settled: list[dict[str, Any]], *, grows: bool) -> str:
        """Plain text in parts too: whole lines settle (once thinking is over, the text before the
        last newline never changes) into ``settled``; only the open line, returned, is re-sent."""
        if grows:
            cut = plain.rfind("\n") + 1
            if cut > self._plain_settled:
                settled.append({"text/plain": plain[self._plain_settled : cut]})
                self._plain_settled = cut
        return plain[self._plain_settled :]

    def render(self, final: bool) -> Frame:
        reply = self.reply
        # Heads, not the whole texts: an update (and the last one, after a Ctrl-C) copies what it
        # can show, whatever the answer's length (the HTML renders less than that still).
        content, content_length = reply.head(caps.PLAIN_CHARS)
        thinking, thinking_length = reply.head(caps.PLAIN_CHARS, thinking=True)
        lengths = (content_length, thinking_length)
        calls = reply.tool_calls
        waiting = not content and not thinking and not calls and reply.status == RUNNING
        bundle: dict[str, Any] = {}
        settled: list[dict[str, Any]] = []
        fold = False
        footer, warning = "", ""
        advice = ""
        context = None
        if final:
            ending = self.ending()
            footer, context = ending.footer(), ending.context
            warning = ending.warning() if not reply.done else ""
            advice = context.advice() if context is not None and context.warn else ""
        if final or self.raw or waiting:
            # While streaming, a front end shows the HTML: re-sending a plain copy of the growing
            # text would double the bytes. The final output carries both.
            plain_footer = f"⚠ {warning} · {footer}" if warning else footer
            plain = render_answer.answer_plain(
                content=content, thinking=thinking, tool_calls=calls, footer=plain_footer, lengths=lengths,
                where=self._where(),
            )
            if advice:
                plain += "\n" + advice
            bundle["text/plain"] = plain or f"waiting for {reply.model}…"
        if self.raw and not waiting:
            bundle["text/plain"] = self._plain_rest(plain, settled, grows=bool(content) and not final)
        if not self.raw:
            if not self._styled:
                settled.append(chrome.style_bundle())
                self._styled = True
            split = self._html.split(
                content=content,
                content_length=content_length,
                thinking=thinking,
                thinking_length=thinking_length,
                tool_calls=calls,
                model=reply.model,
                structured=self.structured,
                waiting=waiting,
                thinking_open=not final and not content and not calls,
                footer=footer or self._log_note(waiting),
                warning=warning,
            )
            fold = split.fold
            settled += [{"text/html": chrome.part(p.html, joins=p.joins)} for p in split.settled]
            bundle["text/html"] = chrome.part(split.rest, chrome.advice(advice) if advice else "", end=final)
        # Metadata once, with the final output: on every update it would cost more than the text.
        meta: dict[str, Any] = _metadata(reply, self.options, self.extra) if final else {}
        if context is not None:
            meta["ollama_nb"]["context"] = context.as_dict()
        # A fold shows the folded thinking and the answer from the output after the stylesheet, in
        # the outputs the thinking streamed in.
        return Frame(settled, bundle, meta, restart=1 if fold else None)
