"""Our own output pieces, built from escaped values: pages, footers, thinking blocks, error boxes,
tables, code blocks, progress bars, side-by-side columns.

Every argument that is text is treated as untrusted (server strings, model names and show fields
arrive here): it is escaped, never put into Markdown. Pieces that hold model Markdown take HTML
that :func:`~ollama_nb._render.model_html` already made safe. :func:`page` wraps the pieces of one
output with the stylesheet they share; colours come from JupyterLab's CSS variables (with light
fallbacks for nbconvert and other front ends), so the dark theme reads as well as the light one.

>>> page(footer("llama3.2 · 12 tokens")).count("onb-footer")
2
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from .._terminal import terminal_text
from . import invisible

__all__ = [
    "STYLE",
    "Bundle",
    "advice",
    "bar",
    "blank",
    "bundle",
    "code",
    "columns",
    "details",
    "error_box",
    "error_bundle",
    "esc",
    "footer",
    "heading",
    "inline_code",
    "json_block",
    "note",
    "notice_bundle",
    "page",
    "part",
    "style_bundle",
    "table",
    "thinking",
    "usage_table",
]

Bundle = dict[str, Any]

#: The classes that keep MathJax off everything but the formulas the Markdown parser found.
_NO_MATH = "mathjax_ignore tex2jax_ignore"

# One stylesheet, scoped to .onb-out. JupyterLab's own .jp-RenderedHTMLCommon rules already style
# tables, code and quotes like a Markdown cell; this adds what our pieces need.
# Comments in the file are for its readers, not worth sending with every answer.
_CSS = re.sub(r"/\*.*?\*/\n?", "", resources.files(__package__).joinpath("answer.css").read_text("utf-8"), flags=re.S)
STYLE = f"<style>\n{_CSS}</style>"


def esc(value: Any) -> str:
    """Any value as HTML text (quotes too, so it is safe in an attribute)."""
    return html.escape(str(value), quote=True)


def code_text(text: Any) -> tuple[str, int]:
    """Any value as HTML text for inside ``<code>``: escaped, and each character that prints as
    nothing (bidi controls, zero-width...) shown as its ``⟦U+202E⟧`` mark, as in a model's code
    blocks; with how many there were. Every code element of our chrome is made through it."""
    return invisible.mark_html(esc(text))


def inline_code(text: str) -> str:
    """Escaped text in which `backtick` spans become ``<code>`` (hints quote commands that way)."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: keep them as written
        return esc(text)
    return "".join(f"<code>{code_text(p)[0]}</code>" if i % 2 else esc(p) for i, p in enumerate(parts))


def page(*pieces: str) -> str:
    """The pieces of one output, with the stylesheet, in a container MathJax skips except where a
    formula is marked (see :mod:`ollama_nb._render.markdown`)."""
    return f'{STYLE}<div class="onb-out {_NO_MATH}">{"".join(pieces)}</div>'


def part(*pieces: str, end: bool = False, styled: bool = False, joins: bool = False) -> str:
    """One of the outputs a streamed answer is shown in (``end``: the last one), without the
    stylesheet: :func:`style_bundle` brings it once per answer.

    The parts read as one answer: every top-level block has its space below it and none above
    (``.onb-out>*``), so a gap is the same whether two blocks share an output or not, and only the
    last part keeps the space a front end leaves under an output. ``styled``: with the stylesheet
    (a part that stays when the others are emptied). ``joins``: its last block goes on in the next
    part (a list split between items), so it keeps no space below either."""
    cls = "onb-out onb-part" + (" onb-end" if end else "") + (" onb-join" if joins else "")
    return f'{STYLE if styled else ""}<div class="{cls} {_NO_MATH}">{"".join(pieces)}</div>'


def blank() -> Bundle:
    """An output emptied in place: an empty HTML output takes no room (a settled part of an
    answer that the final frame replaces)."""
    return {"text/html": ""}


def style_bundle() -> Bundle:
    """The stylesheet the parts of an answer share, as an output of its own: it takes no room
    (no box) and is sent once, not with every update. No text/plain: a plain-text front end shows
    nothing for it."""
    return {"text/html": STYLE}


def bundle(plain: str, *pieces: str) -> Bundle:
    """A display bundle: sanitized ``text/html`` and the ``text/plain`` with control characters
    shown (a terminal front end writes it as is); never Markdown."""
    return {"text/html": page(*pieces), "text/plain": terminal_text(plain)}


def footer(text: str, *, warning: str = "") -> str:
    """The quiet stats line under an answer; ``warning`` (e.g. "partial answer") leads it."""
    lead = f'<span class="onb-warn">⚠ {esc(warning)}</span> · ' if warning else ""
    return f'<div class="onb-footer">{lead}{esc(text)}</div>'


def paragraph(text: str) -> str:
    """A sentence of our own; `backtick` spans (names, commands) become code."""
    return f"<p>{inline_code(text)}</p>"


def title(text: str, rest: str = "") -> str:
    """A bold title line, ``rest`` after it in plain weight (``Models at … (3)``)."""
    return f"<p><strong>{esc(text)}</strong>{esc(rest)}</p>"


def warning_line(text: str) -> str:
    """A paragraph-sized warning of our own; `backtick` spans become code."""
    return f'<p class="onb-warn">⚠ {inline_code(text)}</p>'


def note(text: str) -> str:
    """A short grey line of our own (``waiting for llama3.2…``)."""
    return f'<div class="onb-note">{esc(text)}</div>'


def advice(text: str) -> str:
    """A warning of our own with `backtick` commands (the context meter's "start afresh with ...")."""
    return f'<div class="onb-advice" role="note">⚠ {inline_code(text)}</div>'


def speaker(text: str) -> str:
    """Who speaks, above a turn of a transcript: a label, not a heading, so that a long chat does
    not fill the notebook's table of contents with a "You" and a model name per turn. A ``<kbd>``
    in a ``<div>``: no Markdown answer can make one, so an answer's ``**You**`` cannot pass for it."""
    return f'<div class="onb-who"><kbd>{esc(text)}</kbd></div>'


def heading(text: str, level: int = 4) -> str:
    level = min(6, max(1, level))
    return f"<h{level}>{esc(text)}</h{level}>"


def thinking(body_html: str, *, open: bool = False, summary: str = "Thinking") -> str:
    """A folded thinking block around model HTML that :func:`model_html` made safe."""
    return (
        f'<details class="onb-thinking"{" open" if open else ""}><summary>{esc(summary)}</summary>'
        f"<div>{body_html}</div></details>"
    )


def thinking_part(body_html: str, *, first: bool = False) -> str:
    """Thinking while it streams, in parts (model HTML that :func:`model_html` made safe): an open
    box each part continues, headed by "Thinking…" in the first. :func:`thinking` folds it once
    it is over."""
    if not body_html and not first:
        return ""
    head = '<div class="onb-think-head">Thinking…</div>' if first else ""
    return f'<div class="onb-think-live">{head}{body_html}</div>'


def details(summary: str, body_html: str) -> str:
    return f"<details><summary>{esc(summary)}</summary>{body_html}</details>"


def code(text: str, lang: str = "", *, pre_class: str = "") -> str:
    """Text shown as a code block, every character escaped and shown (flagged above when it holds
    characters that print as nothing)."""
    cls = f' class="language-{esc(lang)}"' if lang else ""
    pre = f' class="{esc(pre_class)}"' if pre_class else ""
    body, hidden = code_text(text)
    block = f"<pre{pre}><code{cls}>{body}</code></pre>"
    return invisible.flag(hidden) + block if hidden else block


def json_block(value: Any) -> str:
    return code(json.dumps(value, indent=2, ensure_ascii=False), "json")


def error_box(message: str, hint: str = "", *, title: str = "") -> str:
    """A message with what to do next; `backticks` in the texts become code."""
    head = f'<span class="onb-title">{esc(title)}</span> ' if title else ""
    body = f'<div class="onb-error" role="alert">⚠ {head}{inline_code(message)}'
    if hint:
        body += f'<div class="onb-hint">{inline_code(hint)}</div>'
    return body + "</div>"


def error_bundle(message: str, hint: str = "", *, title: str = "") -> Bundle:
    """An error as a whole output: the box for front ends, two lines of plain text for the rest."""
    plain = f"{title + ': ' if title else ''}{message}" + (f"\n{hint}" if hint else "")
    return bundle(plain, error_box(message, hint, title=title))


def notice_bundle(message: str) -> Bundle:
    """A quiet one-line status (``server busy, retrying in 4 s (2 of 5)``) shown in place of an
    answer that has not started."""
    return bundle(message, f'<div class="onb-notice" role="status">{esc(message)}</div>')


def table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    code_columns: Sequence[str] = (),
    hint_columns: Sequence[str] = (),
) -> str:
    """An HTML table of untrusted values; cells of ``code_columns`` show as ``<code>``, and in
    ``hint_columns`` (our own advice) `backtick` spans do."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            text = " ".join(str(row.get(c, "")).split())
            value = inline_code(text) if c in hint_columns else esc(text)
            if c in code_columns and value:
                value = f"<code>{code_text(text)[0]}</code>"
            cells.append(f"<td>{value}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="onb-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def bar(fraction: float | None, width: int = 200) -> str:
    """A progress bar (an empty track while the size is unknown)."""
    pct = 0.0 if fraction is None else max(0.0, min(1.0, float(fraction))) * 100
    return f'<span class="onb-bar" style="width:{int(width)}px"><span style="width:{pct:.1f}%"></span></span>'


def progress_table(
    name: str, fraction: float | None, status: str, layers: Iterable[tuple[str, float | None, str]]
) -> str:
    """A download: the model's row (name, bar, status), then a quieter row per layer
    (short digest, bar, ``done / total``)."""
    rows = [f"<tr><td><b>{esc(name)}</b></td><td>{bar(fraction, 220)}</td><td>{esc(status)}</td></tr>"]
    rows += [
        f'<tr class="onb-footer"><td><code>{esc(digest)}</code></td><td>{bar(frac, 160)}</td><td>{esc(sizes)}</td></tr>'
        for digest, frac, sizes in layers
    ]
    return f"<table class=\"onb-pull\">{''.join(rows)}</table>"


def usage_table(rows: Iterable[Mapping[str, Any]]) -> str:
    """Quota rows (``limit``, ``fraction``, ``used``, ``resets``) as a table with a bar each."""
    body = "".join(
        f"<tr><td>{esc(r.get('limit', ''))}</td><td>{bar(r.get('fraction'))}</td>"
        f"<td>{esc(r.get('used', ''))}</td><td>{esc(r.get('resets', ''))}</td></tr>"
        for r in rows
    )
    return (
        '<table class="onb-table onb-usage"><thead><tr><th>limit</th><th></th><th>used</th><th>resets</th>'
        f"</tr></thead><tbody>{body}</tbody></table>"
    )


def columns(heads: Sequence[str], bodies_html: Sequence[str], feet: Sequence[str]) -> str:
    """Side-by-side columns (``--compare``): escaped heads and feet, bodies already safe HTML."""

    def row(cells: Iterable[str]) -> str:
        return "<tr>" + "".join(cells) + "</tr>"

    return (
        '<table class="onb-cols"><thead>'
        + row(f"<th>{esc(h)}</th>" for h in heads)
        + "</thead><tbody>"
        + row(f"<td>{b}</td>" for b in bodies_html)
        + row(f'<td><div class="onb-footer">{esc(f)}</div></td>' for f in feet)
        + "</tbody></table>"
    )
