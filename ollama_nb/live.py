"""LiveOutput: a streaming answer rendered into one cell output, throttled.

The magic iterates a :class:`~ollama_nb.client.Stream` on the kernel's main thread and calls
:meth:`LiveOutput.tick` after every chunk. ``tick`` is the hot path: one clock read and a compare.
Only when an update is due does it join the text, make the Markdown safe and send one
``update_display_data`` for the display handle. The schedule:

- the first visible token is sent at once (the user sees the model is alive);
- after that, updates are coalesced: the interval grows with the text length
  (``length / bytes_per_second``, between 50 ms and 1.5 s), because every update re-sends the whole
  text. That bounds both the update rate (≤ 20/s, counted from the start, first and final update
  included) and the bytes per second on IOPub, and on a fast stream keeps the total bytes a small
  multiple of the final text;
- :meth:`LiveOutput.finish` sends the exact final answer with its footer and metadata.

In terminal IPython there is no display front end: tokens are printed as they arrive.

Model text is untrusted, and JupyterLab renders raw HTML inside (trusted) Markdown outputs without
sanitising it. :func:`safe_markdown` therefore neutralises HTML and unsafe link targets while keeping
Markdown (tables, code, LaTeX) intact.
"""

from __future__ import annotations

import html
import re
import sys
import time
from typing import Any, Callable

__all__ = ["LiveOutput", "safe_markdown", "thinking_block", "md_table", "in_terminal", "error_bundle", "fence"]

Bundle = dict[str, Any]
#: render(final) -> (mime bundle, metadata)
Renderer = Callable[[bool], "tuple[Bundle, dict[str, Any]]"]

_monotonic = time.monotonic


def in_terminal() -> bool:
    """True where nothing renders rich output: terminal IPython, or no IPython at all."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return True
    shell = get_ipython()
    return shell is None or type(shell).__name__ == "TerminalInteractiveShell"


# --------------------------------------------------------------------------- safe Markdown

# A "<" that could start a tag, a closing tag, a comment/doctype/CDATA, a processing instruction or
# an autolink. "<" before a space, digit or "=" never does (a < b, x<=1), so those stay readable.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_BR = re.compile(r"<br\s*/?>", re.I)  # tables from models use <br> in cells; harmless, so kept
_INLINE_LINK = re.compile(r"(\]\(\s*)(<[^<>\n]*>|[^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)")
_REF_DEF = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*)(<[^<>\n]*>|\S+)", re.M)
_SAFE_SCHEMES = {"http", "https", "mailto", "ftp"}
# Text that only means something inside a tag: once tags are escaped it is harmless, but written
# with an entity ("onerror&#61;", "javascript&#58;") it reads the same and no checker, filter or
# later pipeline step can mistake it for live HTML.
_EVENT_ATTR = re.compile(r"(?i)\b(on[a-z]+)(\s*)=")
_SCRIPT_SCHEME = re.compile(r"(?i)\b((?:java|vb)script)(\s*):")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_BACKSLASH_PUNCT = re.compile(r"\\([!-/:-@\[-`{-~])")
_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")
# Inline math as JupyterLab/GitHub find it; only used to keep "<" in math readable.
_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|\$(?=\S)[^$\n]*?(?<=\S)\$", re.S)
_BACKTICKS = re.compile(r"`+")


def _safe_target(target: str) -> str:
    """A link destination, or ``#`` when it would run code (``javascript:``, ``data:``...).

    Checked the way a browser reads it: entities and Markdown backslash escapes decoded, tabs,
    newlines and controls removed (``java&#9;script:`` is ``javascript:`` to a browser).
    """
    bare = target[1:-1] if target.startswith("<") and target.endswith(">") else target
    probe = _CONTROL.sub("", html.unescape(_BACKSLASH_PUNCT.sub(r"\1", bare)))
    match = _SCHEME.match(probe)
    if match and match.group(1).lower() not in _SAFE_SCHEMES:
        return "#"
    if "<" in bare or ">" in bare:
        return "#"
    return target


def _escape_text(text: str) -> str:
    """Plain Markdown text (no code): tags neutralised, link targets checked."""
    if "](" in text:
        text = _INLINE_LINK.sub(lambda m: m.group(1) + _safe_target(m.group(2)), text)
    if "]:" in text:
        text = _REF_DEF.sub(lambda m: m.group(1) + _safe_target(m.group(2)), text)
    if "=" in text:
        text = _EVENT_ATTR.sub(r"\1\2&#61;", text)
    if ":" in text:
        text = _SCRIPT_SCHEME.sub(r"\1\2&#58;", text)
    if "<" not in text:
        return text
    out = []
    last = 0
    for m in _BR.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if not text[line_start : m.start()].strip():
            continue  # a tag that opens a line may start an HTML block: escape it like any other
        out.append(_TAG_START.sub("&lt;", text[last : m.start()]))
        out.append("<br>")
        last = m.end()
    out.append(_TAG_START.sub("&lt;", text[last:]))
    return "".join(out)


def _escape_math(math: str) -> str:
    # TeX ignores the space; HTML no longer sees a tag. (JupyterLab escapes math itself; GitHub and
    # others may not.) \href is the one TeX command that makes a link.
    return _TAG_START.sub("< ", math).replace("\\href", "\\text")


def _code_span(content: str) -> str:
    """Inline code as an HTML ``<code>`` element with every character escaped.

    Written as HTML rather than kept in backticks, so the content is safe even where a renderer
    would split code spans differently than we did (escaped backticks, spans across lines).
    """
    if len(content) > 2 and content[0] == " " and content[-1] == " " and content.strip():
        content = content[1:-1]
    content = content.replace("\n", " ")
    escaped = "".join(c if c.isalnum() or c == " " else f"&#{ord(c)};" for c in content)
    return f"<code>{escaped}</code>"


def _escape_inline(block: str) -> str:
    """A run of prose lines: code spans -> safe ``<code>``, math kept readable, the rest escaped."""
    if "`" not in block and "$" not in block and "\\" not in block:
        return _escape_text(block)
    out: list[str] = []
    pos = scan = 0  # pos: start of the text not yet emitted; scan: where to look next
    n = len(block)
    math = _MATH.search(block)
    while scan < n:
        if math is not None and math.start() < scan:
            math = _MATH.search(block, scan)
        tick = block.find("`", scan)
        if tick < 0 and math is None:
            break
        if math is not None and (tick < 0 or math.start() < tick):
            out.append(_escape_text(block[pos : math.start()]))
            out.append(_escape_math(math.group(0)))
            pos = scan = math.end()
            continue
        run = _BACKTICKS.match(block, tick)
        assert run is not None
        width = run.end() - tick
        backslashes = tick - len(block[:tick].rstrip("\\"))
        if backslashes % 2:  # \` is a literal backtick, not an opener
            scan = tick + 1
            continue
        # The closing run: exactly as long, inside the same paragraph.
        paragraph_end = block.find("\n\n", run.end())
        limit = n if paragraph_end < 0 else paragraph_end
        end = -1
        for close in _BACKTICKS.finditer(block, run.end(), limit):
            if close.end() - close.start() == width:
                end = close.start()
                break
        if end < 0:
            scan = run.end()
            continue
        out.append(_escape_text(block[pos:tick]))
        out.append(_code_span(block[run.end() : end]))
        pos = scan = end + width
    out.append(_escape_text(block[pos:]))
    return "".join(out)


def _indent(prefix: str, tab: int) -> int:
    return sum(tab if c == "\t" else 1 for c in prefix)


def safe_markdown(text: str) -> str:
    """Model Markdown made safe to render: no raw HTML, no script links; Markdown itself intact.

    - ``<`` that could open a tag becomes ``&lt;`` (``<br>`` inside a line is kept);
    - link and image targets with a scheme other than http(s)/mailto/ftp become ``#``;
    - inline code becomes an escaped ``<code>`` element;
    - ``<`` inside ``$math$`` gets a space after it (same TeX, no tag);
    - fenced code blocks are left alone (Markdown shows them literally) only where every renderer
      must agree they are code. A fence opens at most 3 spaces in, or after a blank line (deeper
      inside list items); its lines must stay indented as far as the fence; it closes at a fence
      line indented exactly like the opener. Anything less certain (a line less indented, a
      closing fence at another depth) switches the rest of the text to escaped prose: a code
      block may then show ``&lt;``, but a raw line can never slip out of a fence into HTML.

    >>> safe_markdown("<img src=x onerror=alert(1)> `<b>` [x](javascript:alert(1))")
    '&lt;img src=x onerror=alert(1)> <code>&#60;b&#62;</code> [x](#)'
    """
    if "<" not in text and "`" not in text and "~~~" not in text and "](" not in text and "]:" not in text and "$" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    prose: list[str] = []
    fence: tuple[str, int, int] | None = None  # (char, length, indent) of the open fence
    certain = True  # False once the fence state of a renderer could differ from ours
    previous_blank = True

    def flush() -> None:
        if prose:
            out.append(_escape_inline("\n".join(prose)))
            prose.clear()

    for line in lines:
        stripped = line.strip()
        if fence is not None:
            char, length, indent = fence
            lead = _indent(line[: len(line) - len(line.lstrip(" \t"))], 1)
            if not stripped or lead >= indent and not (set(stripped) == {char} and len(stripped) >= length):
                out.append(line)  # code
                previous_blank = not stripped
                continue
            fence = None
            if lead == indent:
                out.append(line)  # the closing fence
                previous_blank = False
                continue
            if lead <= indent + 3:
                certain = False  # a renderer may or may not close the fence here
            elif set(stripped) == {char}:
                out.append(line)  # too deep to close anything: still code
                fence = (char, length, indent)
                continue
            else:
                certain = False
        m = _FENCE.match(line) if certain else None
        if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
            indent = _indent(m.group(1), 4)
            if indent <= 3 or previous_blank:
                flush()
                out.append(line)
                fence = (m.group(2)[0], len(m.group(2)), indent)
                previous_blank = False
                continue
        prose.append(line)
        previous_blank = not stripped
    flush()
    return "\n".join(out)


def thinking_block(text: str, *, open: bool = False, summary: str = "Thinking") -> str:
    """Thinking folded in ``<details>``, as one HTML block: escaped text, ``<br>`` for newlines.

    No blank line inside, so a Markdown renderer never parses the text as Markdown (a
    ``[link](javascript:...)`` in a model's thinking stays text).
    """
    body = html.escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>\n")
    return f"<details{' open' if open else ''}><summary>{html.escape(summary)}</summary>\n{body}\n</details>\n"


_TABLE_SPECIAL = re.compile(r"([\\\[\]$<>|])")


def md_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A Markdown table of untrusted values (model names, answers, server messages): brackets,
    ``$``, ``<``, ``>``, ``|`` and backslashes as entities, so a cell can hold no link, no math,
    no HTML and cannot break the table. (Emphasis and `code` still render: they are harmless.)"""
    def cell(value: Any) -> str:
        text = " ".join(str(value).split())
        return _TABLE_SPECIAL.sub(lambda m: f"&#{ord(m.group(1))};", text)

    head = "| " + " | ".join(cell(c) for c in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def fence(text: str, lang: str = "") -> str:
    """``text`` in a fenced code block whose fence is longer than any backtick run inside it."""
    longest = max((len(r) for r in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


# --------------------------------------------------------------------------- errors


def _inline_code_html(text: str) -> str:
    """Escaped text with `backtick` spans as <code> (hints quote commands that way)."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def error_bundle(message: str, hint: str = "", *, title: str = "") -> Bundle:
    """A short red message with what to do next: HTML for front ends, plain text for the rest."""
    head = f"<b>{html.escape(title)}</b> " if title else ""
    body = (
        '<div class="ollama-nb-error" style="border-left:4px solid #d32f2f;background:rgba(211,47,47,.08);'
        'color:#b71c1c;padding:6px 10px;margin:4px 0;font-size:90%">'
        f"{head}{_inline_code_html(message)}"
    )
    if hint:
        body += f'<br><span style="color:inherit;opacity:.85">{_inline_code_html(hint)}</span>'
    body += "</div>"
    plain = f"{title + ': ' if title else ''}{message}" + (f"\n{hint}" if hint else "")
    return {"text/html": body, "text/plain": plain}


# --------------------------------------------------------------------------- the live output


class LiveOutput:
    """One display output updated while a stream arrives.

    ``render(final)`` builds the mime bundle and metadata from whatever the caller keeps (a Reply,
    several); it is called only when an update is sent. The next update is due after an interval
    that grows with the length of the largest text just sent. ``footer()`` gives the line printed
    after the tokens in terminal mode.

    Usage (what the magic does)::

        live = LiveOutput(lambda final: ({"text/markdown": reply.content}, {}))
        live.start({"text/plain": "waiting..."})
        for chunk in stream:
            live.tick(reply, chunk)
        live.finish()
    """

    min_interval = 0.05
    max_interval = 1.5
    #: Interval = text length / this: the IOPub bytes per second a long answer may use. A real
    #: model writes ~100-300 characters a second, so at 4 kB/s the bytes re-sent stay near 20x the
    #: final text (bytes = this x duration), while a 1 kB answer still redraws 4 times a second.
    bytes_per_second = 4_000.0

    def __init__(
        self,
        render: Renderer,
        *,
        footer: Callable[[], str] | None = None,
        terminal: bool | None = None,
        stream: Any = None,
    ) -> None:
        self.render = render
        self.footer = footer  # terminal mode: the line printed after the tokens
        self.terminal = in_terminal() if terminal is None else terminal
        self.out = stream  # terminal mode: where tokens go (default sys.stdout, read late for capture)
        self.handle: Any = None
        self.updates = 0
        self.sent_bytes = 0
        # Monotonic time before which tick() would do nothing: callers on the hot path may skip
        # the call while ``time.monotonic() < next_at``. 0 = "at the first token"; -inf in the
        # terminal, where every token is printed.
        self.next_at = float("-inf") if self.terminal else 0.0
        self.started = _monotonic()
        self._seen_first = False
        self._term_thinking = False
        self._term_started = False

    # -- front end --------------------------------------------------------------------------
    def start(self, bundle: Bundle | None = None, metadata: dict[str, Any] | None = None) -> None:
        """Show the output at once (a placeholder while the model loads)."""
        if self.terminal:
            return
        from IPython.display import display

        if bundle is None:
            bundle, metadata = self.render(False)
        self.handle = display(bundle, raw=True, metadata=metadata or {}, display_id=True)

    def _send(self, final: bool) -> None:
        bundle, metadata = self.render(final)
        if self.handle is None:
            from IPython.display import display

            self.handle = display(bundle, raw=True, metadata=metadata, display_id=True)
        else:
            self.handle.update(bundle, raw=True, metadata=metadata)
        self.updates += 1
        length = max((len(v) for v in bundle.values() if isinstance(v, str)), default=0)
        self.sent_bytes += length
        now = _monotonic()
        interval = min(self.max_interval, max(self.min_interval, length / self.bytes_per_second))
        # Also keep a budget from the start: the n-th update no earlier than (n + 1) intervals in,
        # so even counting the first-token and the final update, a short fast answer stays at
        # ≤ 1 / min_interval updates per second overall.
        self.next_at = max(now + interval, self.started + (self.updates + 2) * self.min_interval)

    # -- hot path ---------------------------------------------------------------------------
    def tick(self, reply: Any, chunk: Any = None) -> None:
        """Called after a chunk: sends an update only when one is due (see ``next_at``)."""
        if self.terminal:
            self._print(chunk)
            return
        if self._seen_first:
            if _monotonic() >= self.next_at:
                self._send(False)
        elif reply.first_token_at is not None:
            self._seen_first = True
            self._send(False)

    def refresh(self) -> None:
        """Send an update now (e.g. when a second model starts in --compare)."""
        if not self.terminal:
            self._send(False)

    def finish(self) -> None:
        """The exact final output (footer, metadata). Always sent, even after an error."""
        if self.terminal:
            if self._term_started or self._term_thinking:
                self._write("\x1b[0m\n" if self._term_thinking else "\n")
            footer = self.footer() if self.footer else ""
            if footer:
                self._write(f"\x1b[2m{footer}\x1b[0m\n")
            self._term_started = self._term_thinking = False
            return
        self._send(True)

    # -- terminal ---------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        out = self.out or sys.stdout
        out.write(text)
        out.flush()

    def _print(self, chunk: Any) -> None:
        if not chunk:
            return
        msg = chunk.get("message")
        if msg is not None:
            content, thinking = msg.get("content"), msg.get("thinking")
        else:
            content, thinking = chunk.get("response"), chunk.get("thinking")
        if thinking:
            if not self._term_thinking:
                self._write("\x1b[2m")  # thinking in dim text, before the answer
                self._term_thinking = True
            self._write(thinking)
        if content:
            if self._term_thinking:
                self._write("\x1b[0m\n\n")
                self._term_thinking = False
            self._term_started = True
            self._write(content)

    def note(self, text: str, *, bold: bool = False) -> None:
        """Terminal mode: a line of its own (a header, a stats line); ignored with a front end."""
        if self.terminal:
            if self._term_started or self._term_thinking:
                self._write("\x1b[0m\n")
                self._term_started = self._term_thinking = False
            self._write(f"\x1b[{'1' if bold else '2'}m{text}\x1b[0m\n")
