"""Answers as HTML: one reply (the cell's answer, a displayed :class:`~ollama_nb._reply.Reply`),
and a whole conversation (the chat widget's saved transcript).

Views hand over plain values (text, model name, stats line); this module decides the markup.

>>> "<script>" in answer(content="<script>alert(1)</script>", model="m")
False
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .._terminal import terminal_text
from . import caps, chrome
from .markdown import BlockStream, model_html

__all__ = ["LiveAnswer", "Part", "Split", "answer", "answer_plain", "transcript", "transcript_plain"]

Markdown = Callable[[str], str]


def answer(
    *,
    content: str,
    thinking: str = "",
    tool_calls: Sequence[Mapping[str, Any]] = (),
    model: str = "",
    structured: bool = False,
    waiting: bool = False,
    thinking_open: bool = False,
    footer: str = "",
    warning: str = "",
    markdown: tuple[Markdown, Markdown] = (model_html, model_html),
) -> str:
    """The HTML of one answer: thinking folded above, the answer, tool calls, the footer.

    ``markdown`` renders (content, thinking); :class:`LiveAnswer` passes what it streams."""
    parts = []
    content_html, thinking_html = markdown
    if thinking:
        summary = "Thinking…" if thinking_open else "Thinking"
        parts.append(chrome.thinking(thinking_html(thinking), open=thinking_open, summary=summary))
    if waiting:
        parts.append(chrome.note(f"⏳ waiting for {model or 'the model'}…"))
    elif structured:
        parts.append(chrome.code(content, "json"))
    else:
        parts.append(content_html(content))
    if tool_calls:
        calls = "\n".join(json.dumps(dict(c), ensure_ascii=False) for c in tool_calls)
        parts.append("<p><strong>Tool calls</strong></p>" + chrome.code(calls, "json"))
    if footer or warning:
        parts.append(chrome.footer(footer, warning=warning))
    return "".join(parts)


class Part(NamedTuple):
    """A finished part of a streaming answer: HTML that never changes. ``joins``: it ends with the
    first items of a list the next part goes on with (the view joins them without a gap)."""

    html: str
    joins: bool = False


class Split(NamedTuple):
    """:meth:`LiveAnswer.split`: the parts finished since the last call, in order, and the HTML of
    everything after them. ``fold``: the thinking, shown in parts while it grew, is over; the view
    shows ``settled`` (the whole thinking folded first) and the rest in place of those parts."""

    settled: list[Part]
    rest: str
    fold: bool = False


class LiveAnswer:
    """:func:`answer` for a reply that is still streaming, in parts for outputs that show each
    finished part once (see :class:`~ollama_nb._render.markdown.BlockStream`).

    The thinking streams in parts too, in an open box. Once it is over (``thinking_open`` false),
    ``fold_thinking`` folds it away above the answer, as :func:`answer` shows it; otherwise (the
    stacked answers of ``--compare``, which end in a table that folds it) its box just ends."""

    def __init__(self, *, fold_thinking: bool = True) -> None:
        self._content = BlockStream()
        self._thinking = BlockStream()
        self._fold = fold_thinking
        self._handed = 0  # characters of the content's finished HTML already handed out
        self._thought = 0  # ...and of the thinking's
        self._thinking_done: str | None = None  # the thinking when it was last folded or ended

    def split(self, **fields: Any) -> Split:
        """The answer as finished parts and the rest. Concatenating every ``settled`` part (those
        before a fold replaced by it) and the last ``rest`` gives :func:`answer` of the last fields,
        lists split between parts aside (see :class:`~ollama_nb._render.markdown.BlockStream` for
        the two exceptions). The same keyword arguments as :func:`answer`, and ``content_length`` /
        ``thinking_length`` when ``content`` / ``thinking`` are only the head of a longer text."""
        lengths = (fields.pop("content_length", None), fields.pop("thinking_length", None))
        thinking = str(fields.get("thinking") or "")
        settled: list[Part] = []
        fold = False
        open_thinking = ""
        if thinking and thinking != self._thinking_done:
            tail = self._thinking.feed(thinking, lengths[1])
            finished = self._thinking.html[self._thought :]
            first = self._thought == 0
            self._thought = len(self._thinking.html)
            if fields.get("thinking_open"):
                if finished:
                    settled.append(Part(chrome.thinking_part(finished, first=first), self._thinking.joins))
                open_thinking = chrome.thinking_part(tail, first=first and not finished)
            elif self._fold:
                # Over: the parts it was shown in make way for it, folded, as answer() shows it.
                fold = not first or self._thinking_done is not None
                settled.append(Part(chrome.thinking(self._thinking.html + tail)))
                if self._thinking_done is not None:  # it grew after the answer began: again, whole
                    settled.append(Part(self._content.html[: self._handed], self._content.joins))
            else:
                settled.append(Part(chrome.thinking_part(finished + tail, first=first)))
            if not fields.get("thinking_open"):
                self._thinking_done = thinking
        open_html = ""
        if not (fields.get("structured") or fields.get("waiting")):
            open_html = self._content.feed(str(fields.get("content") or ""), lengths[0])
            finished = self._content.html[self._handed :]
            self._handed = len(self._content.html)
            if finished:
                settled.append(Part(finished, self._content.joins))
        rest = answer(markdown=(lambda _text: open_html, model_html), **dict(fields, thinking=""))
        return Split([p for p in settled if p.html], open_thinking + rest, fold)


def answer_plain(
    *,
    content: str,
    thinking: str = "",
    tool_calls: Sequence[Mapping[str, Any]] = (),
    footer: str = "",
    lengths: tuple[int | None, int | None] = (None, None),
    where: str = "reply",
) -> str:
    """The same answer as plain text (terminals, ``text/plain``), control characters shown; past
    :data:`caps.PLAIN_CHARS` characters, thinking and answer each end in a note saying how much more
    there is and where it is kept. ``lengths``: the whole content's and thinking's, when the texts
    given are only their heads (:meth:`~ollama_nb._reply.Reply.head`). ``where``: how the reader
    reaches the Reply: a variable's name, or a sentence saying how to keep it."""
    content = _kept(content, lengths[0], "answer", _holder(where, "content"))
    thinking = _kept(thinking, lengths[1], "thinking", _holder(where, "thinking"))
    plain = f"[thinking]\n{thinking}\n[/thinking]\n\n{content}" if thinking else content
    if tool_calls:
        plain += "\n" + "\n".join(f"[tool call] {json.dumps(dict(c), ensure_ascii=False)}" for c in tool_calls)
    return terminal_text(f"{plain}\n\n{footer}" if footer else plain)


def _kept(text: str, length: int | None, what: str, where: str) -> str:
    """``text`` (or its head, of a text ``length`` long) cut at :data:`caps.PLAIN_CHARS`, with a note
    that says so, how much is left out and where the whole is (``where``, e.g. ``answer.content``)."""
    length = len(text) if length is None else length
    if length <= caps.PLAIN_CHARS:
        return text
    return (
        f"{text[: caps.PLAIN_CHARS]}\n[… the {what} is cut here: {length - caps.PLAIN_CHARS:,} more characters "
        f"are not in this text output, which keeps the first {caps.PLAIN_CHARS:,}. The whole {what} is in {where}.]"
    )


def _holder(where: str, field: str) -> str:
    """``where`` (a name, or a sentence) and the Reply's ``field``: where a cut text is whole."""
    return f"`{where}.{field}`" if where.isidentifier() else where.replace("FIELD", field)


def _error_text(error: Any) -> str:
    if not error:
        return ""
    if isinstance(error, Mapping):
        return " ".join(str(x) for x in (error.get("message"), error.get("hint")) if x)
    return str(error)


def transcript(messages: Iterable[Mapping[str, Any]], model: str = "", *, empty: str = "") -> str:
    """A conversation as HTML: each turn headed by who spoke, model text rendered safely."""
    blocks = []
    budget = caps.TexBudget.transcript()  # MathJax typesets the whole transcript at once
    for msg in messages:
        if msg.get("role") == "user":
            blocks.append(chrome.speaker("You") + model_html(str(msg.get("content") or ""), budget))
            continue
        if msg.get("role") not in (None, "assistant"):
            continue
        status = str(msg.get("status") or "")
        head = str(msg.get("model") or "Assistant") + (f" ({status})" if status not in ("done", "") else "")
        part = [chrome.speaker(head)]
        if msg.get("thinking"):
            part.append(chrome.thinking(model_html(str(msg["thinking"]), budget)))
        if msg.get("content"):
            part.append(model_html(str(msg["content"]), budget))
        error = _error_text(msg.get("error"))
        if error:
            part.append(chrome.error_box(error))
        if msg.get("stats"):
            part.append(chrome.footer(str(msg["stats"])))
        blocks.append("".join(part))
    if not blocks:
        return chrome.note(f"Empty chat with {model or 'a model'}. {empty}".strip())
    return "<hr>".join(blocks)


def transcript_plain(messages: Iterable[Mapping[str, Any]], model: str = "") -> str:
    lines = []
    for msg in messages:
        who = "You" if msg.get("role") == "user" else str(msg.get("model") or model or "Assistant")
        lines.append(f"{who}: {msg.get('content') or ''}")
    return "\n\n".join(lines) or f"Empty chat with {model or 'a model'}."
