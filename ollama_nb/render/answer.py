"""Answers as HTML: one reply (the cell's answer, a displayed :class:`~ollama_nb.reply.Reply`),
and a whole conversation (the chat widget's saved transcript).

Views hand over plain values (text, model name, stats line); this module decides the markup.

>>> "<script>" in answer(content="<script>alert(1)</script>", model="m")
False
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from . import chrome
from .markdown import BlockStream, StreamRenderer, model_html

__all__ = ["LiveAnswer", "answer", "answer_plain", "transcript", "transcript_plain"]

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

    ``markdown`` renders (content, thinking); :class:`LiveAnswer` passes streaming renderers."""
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


class LiveAnswer:
    """:func:`answer` for a reply that is still streaming: each call re-parses only the open end
    of its texts (see :class:`~ollama_nb.render.markdown.StreamRenderer`); same HTML.

    :meth:`split` gives the same answer in parts for outputs that show each finished part once.
    Use one or the other on an instance, not both."""

    def __init__(self) -> None:
        self._content = StreamRenderer()
        self._thinking = StreamRenderer()
        self._blocks = BlockStream()
        self._handed = 0  # characters of the finished blocks' HTML already handed out
        self._thinking_settled = False

    def __call__(self, **fields: Any) -> str:
        return answer(markdown=(self._content.render, self._thinking.render), **fields)

    def split(self, **fields: Any) -> tuple[str, str]:
        """The answer as ``(settled, rest)``: the HTML of the blocks finished since the last call
        (they never change; "" when none), and the HTML of everything after them (the open blocks,
        tool calls, footer). The thinking block goes with the first settled part, folded as it
        ends up (thinking is over once the answer has a finished block).

        Concatenating every ``settled`` and the last ``rest`` gives :func:`answer` of the last
        fields (see :class:`~ollama_nb.render.markdown.BlockStream` for the one exception).
        The same keyword arguments as :func:`answer`."""
        thinking = str(fields.get("thinking") or "")
        settled = open_html = ""
        if not (fields.get("structured") or fields.get("waiting")):
            open_html = self._blocks.feed(str(fields.get("content") or ""))
            settled = self._blocks.html[self._handed :]
            self._handed = len(self._blocks.html)
        if settled and thinking and not self._thinking_settled:
            settled = chrome.thinking(self._thinking.render(thinking)) + settled
            self._thinking_settled = True
        rest_fields = dict(fields, thinking="") if self._thinking_settled else fields
        rest = answer(markdown=(lambda _text: open_html, self._thinking.render), **rest_fields)
        return settled, rest


def answer_plain(
    *, content: str, thinking: str = "", tool_calls: Sequence[Mapping[str, Any]] = (), footer: str = ""
) -> str:
    """The same answer as plain text (terminals, ``text/plain``)."""
    plain = f"[thinking]\n{thinking}\n[/thinking]\n\n{content}" if thinking else content
    if tool_calls:
        plain += "\n" + "\n".join(f"[tool call] {json.dumps(dict(c), ensure_ascii=False)}" for c in tool_calls)
    return f"{plain}\n\n{footer}" if footer else plain


def _error_text(error: Any) -> str:
    if not error:
        return ""
    if isinstance(error, Mapping):
        return " ".join(str(x) for x in (error.get("message"), error.get("hint")) if x)
    return str(error)


def transcript(messages: Iterable[Mapping[str, Any]], model: str = "", *, empty: str = "") -> str:
    """A conversation as HTML: each turn headed by who spoke, model text rendered safely."""
    blocks = []
    for msg in messages:
        if msg.get("role") == "user":
            blocks.append(chrome.heading("You", 5) + model_html(str(msg.get("content") or "")))
            continue
        if msg.get("role") not in (None, "assistant"):
            continue
        status = str(msg.get("status") or "")
        head = str(msg.get("model") or "Assistant") + (f" ({status})" if status not in ("done", "") else "")
        part = [chrome.heading(head, 5)]
        if msg.get("thinking"):
            part.append(chrome.thinking(model_html(str(msg["thinking"]))))
        if msg.get("content"):
            part.append(model_html(str(msg["content"])))
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
