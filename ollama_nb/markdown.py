"""Markdown from untrusted text, and the small Markdown/HTML pieces every view shares.

Model text is untrusted, and JupyterLab renders raw HTML inside (trusted) Markdown outputs without
sanitising it. :func:`safe_markdown` therefore neutralises HTML and unsafe link targets while keeping
Markdown (tables, code, LaTeX) intact. The cell magic, the chat widget's saved transcript and a
Reply's own ``_repr_markdown_`` all go through it, so one set of rules holds everywhere.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reply import Reply

__all__ = ["safe_markdown", "thinking_block", "md_table", "fence", "error_bundle", "reply_markdown"]

Bundle = dict[str, Any]

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


def notice_bundle(message: str) -> Bundle:
    """A quiet one-line status (``server busy, retrying in 4 s (2 of 5)``) shown in place of an
    answer that has not started."""
    body = ('<div class="ollama-nb-notice" style="border-left:4px solid #f9a825;background:rgba(249,168,37,.10);'
            f'padding:6px 10px;margin:4px 0;font-size:90%">{html.escape(message)}</div>')
    return {"text/html": body, "text/plain": message}


def reply_markdown(reply: Reply, *, footer: bool = True) -> str:
    """A reply as safe Markdown: thinking folded, the answer, a quiet stats footer.

    What ``reply`` shows as the last line of a cell (``Reply._repr_markdown_``).
    """
    from .format import stats_line

    out = []
    if reply.thinking:
        out.append(thinking_block(reply.thinking))
    out.append(safe_markdown(reply.content))
    if footer:
        out.append(f"\n<sub>{html.escape(stats_line(reply))}</sub>")
    return "\n".join(out)

