"""Model Markdown -> safe HTML: markdown-it-py (CommonMark + GFM tables, strikethrough, task
lists, bare links; raw HTML **off**), math kept for MathJax, then :func:`~.sanitize.clean`.

We never guess how another parser would read the text: this parser decides what is code, a
link or math, the HTML it writes is what the browser gets, and nh3 removes whatever the policy
does not allow. Raw HTML in the text is shown as text.

- Math: ``$...$``, ``$$...$$`` (mdit-py-plugins' dollarmath, the rules pandoc and JupyterLab use:
  no space inside the delimiters, no digit after the closing one, so "$5 and $10" stays text) and
  ``\\(...\\)`` / ``\\[...\\]`` (its texmath "brackets"). Each formula is written as escaped TeX
  inside an element MathJax is told to process, while everything else is marked for MathJax to
  skip, so only what this parser calls math is typeset. TeX commands that make links, set styles
  or load extensions (``\\href``, ``\\style``, ``\\require`` ...) are shown as text.
- Images: an inline ``data:image/(png|jpeg|gif|webp)`` picture shows; any other becomes a visible
  link with its alt text, because loading it would tell a server (and its query string) that the
  answer was read.
- Code: fenced code keeps its language and is coloured by Pygments (classes only, no styles).

>>> print(model_html("**hi** <img src=x onerror=alert(1)> [x](javascript:alert(1)) $a<b$"))
<p><strong>hi</strong> &lt;img src=x onerror=alert(1)&gt; [x](javascript:alert(1)) \
<span class="onb-math mathjax_process tex2jax_process">\\(a&lt;b\\)</span></p>
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from mdit_py_plugins.texmath import texmath_plugin

from . import caps, invisible
from .open_table import OpenTable
from .sanitize import clean, is_inline_image, link_scheme_ok

__all__ = ["MATH_PROCESS", "BlockStream", "model_html"]

#: Classes that make MathJax typeset an element inside a container it skips.
MATH_PROCESS = "mathjax_process tex2jax_process"

# TeX commands that make links or HTML attributes, or load code: shown as text instead.
_UNSAFE_TEX = re.compile(
    r"\\(href|url|class|cssId|style|data|attr|html[A-Za-z]*|require|unicode|mmlToken|toggle|texttip|mathtip|"
    r"def|gdef|edef|xdef|let|newcommand|renewcommand|providecommand|DeclareMathOperator|newenvironment|"
    r"renewenvironment|Newextarrow|csname)(?![A-Za-z])"
)


# The key of markdown-it's env that holds the answer's caps.TexBudget.
_BUDGET = "onb_tex_budget"


def _safe_tex(tex: str) -> str:
    return _UNSAFE_TEX.sub(lambda m: r"\text{\textbackslash " + m.group(1) + "}", tex)


def _math(tex: str, display: bool, env: EnvType) -> str:
    tex = tex.strip()
    why = caps.tex_over(tex)
    budget = env.get(_BUDGET)
    if why is None and isinstance(budget, caps.TexBudget):
        why = budget.take(tex)  # after so many formulas, the rest of the answer costs too much
    if why is not None:  # MathJax never sees it: past a cap a typesetter may freeze or crash the page
        return caps.capped_math(f"$${tex}$$" if display else f"${tex}$", display, why)
    body = html.escape(_safe_tex(tex), quote=False)
    if display:
        return f'<div class="onb-math-display {MATH_PROCESS}">\\[{body}\\]</div>\n'
    return f'<span class="onb-math {MATH_PROCESS}">\\({body}\\)</span>'


def _highlight(code: str, lang: str, _attrs: str) -> str:
    """Pygments spans (``onb-hl-*`` classes) for a known language, else "" (escaped as is)."""
    if not lang:
        return ""
    try:
        from pygments import highlight
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound
    except ImportError:  # pragma: no cover - Pygments comes with IPython
        return ""
    try:
        lexer = get_lexer_by_name(lang.split()[0], stripnl=False, ensurenl=False)
    except ClassNotFound:
        return ""
    # Whitespace tokens get a span of their own that no rule styles: leave the spaces bare.
    return _WHITESPACE_SPAN.sub(r"\1", str(highlight(code, lexer, _formatter())))


def preload() -> None:
    """Load what the first code block of an answer costs (Pygments' lexer registry and its Python
    lexer: ~0.1 s), so that it need not pause a stream (the magic does it on a thread at load)."""
    from pygments.lexers import get_lexer_by_name

    _formatter()
    get_lexer_by_name("python")


_WHITESPACE_SPAN = re.compile(r'<span class="onb-hl-w">(\s*)</span>')


@lru_cache(maxsize=1)
def _formatter() -> Any:
    from pygments.formatters.html import HtmlFormatter

    return HtmlFormatter(nowrap=True, classprefix="onb-hl-")


class _Renderer(RendererHTML):
    """markdown-it's HTML renderer with our rules for the few tokens that could reach outside."""

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        alt = self.renderInlineAsText(token.children or [], options, env)
        if is_inline_image(src):
            return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">'
        label = html.escape(f"🖼 {alt or 'image'}")
        if link_scheme_ok(src):
            return f'<a class="onb-image-link" href="{html.escape(src)}">{label}</a>'
        return label

    # Code shows every character it holds: one that prints as nothing is marked, and the block flagged.
    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        marked, count = invisible.mark_code_html(super().fence(tokens, idx, options, env))
        return invisible.flag(count) + marked if count else marked

    def code_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        marked, count = invisible.mark_code_html(super().code_block(tokens, idx, options, env))
        return invisible.flag(count) + marked if count else marked

    def code_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return invisible.mark_code_html(super().code_inline(tokens, idx, options, env))[0]

    # Raw HTML is off, so the only HTML tokens left are the task-list checkboxes the plugin makes.
    def html_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        content = tokens[idx].content
        if content.startswith("<input") and "task-list-item-checkbox" in content:
            return "☑" if "checked" in content else "☐"
        return html.escape(content)

    def html_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return f"<p>{html.escape(tokens[idx].content)}</p>\n"

    def math_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=False, env=env)

    def math_inline_double(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=True, env=env)

    def math_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=True, env=env)

    math_block_label = math_block
    math_block_eqno = math_block
    amsmath = math_block


def _table_align(state: Any) -> None:
    """GFM column alignment as ``align=`` (styles are not allowed through the sanitizer)."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            match = re.search(r"text-align:(left|center|right)", str(token.attrs["style"]))
            token.attrs = {"align": match.group(1)} if match else {}


@lru_cache(maxsize=3)
def _parser(linkify: bool = True, blocks_only: bool = False) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": linkify, "typographer": False}, renderer_cls=_Renderer)
    md.enable(["table", "strikethrough", *(["linkify"] if linkify else [])])
    md.options["highlight"] = _highlight
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)
    md.use(texmath_plugin, delimiters="brackets")
    md.use(tasklists_plugin)
    md.core.ruler.push("onb_table_align", _table_align)
    # The plugins register their own renderers (KaTeX-style markup); ours write MathJax input.
    for name in ("math_inline", "math_inline_double", "math_block", "math_block_label", "math_block_eqno"):
        md.add_render_rule(name, getattr(md.renderer, name))
    if blocks_only:  # where the top-level blocks are, without parsing their text
        md.disable("inline")
    return md


def _normalize(text: str) -> str:
    """What markdown-it does to its input first (line endings, NUL), done here so that offsets
    into the text and line numbers of its tokens agree."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\0", "\ufffd") if "\0" in text else text


def _wants_linkify(text: str) -> bool:
    # linkify-it's pretest scans the whole text with a large regex (tens of ms per 100 kB); an
    # answer with no URL-looking text has nothing for it to find.
    return "://" in text or "www." in text or "@" in text


def model_html(text: str, transcript: caps.TexBudget | None = None) -> str:
    """Untrusted Markdown (a model's answer or thinking) as sanitized HTML (a fragment); past
    ``caps.ANSWER_CHARS`` the rest is not rendered, and that is said. Formulas past the answer's
    budget (and ``transcript``'s, which this answer's are charged to) are shown as source."""
    if not text:
        return ""
    kept = text[: caps.ANSWER_CHARS]
    rest = len(text) - len(kept)
    env = {_BUDGET: caps.TexBudget.answer(transcript)}
    return _render(kept, env) + (caps.answer_rest_note(rest) if rest else "")


# Constructs whose meaning can reach back over a blank line into text before them: display math
# ($$, \\[) may span blank lines.
_MATH_OPENERS = (("$$", "$$"), ("\\[", "\\]"))


def _balanced(text: str) -> bool:
    return all(text.count(a) == text.count(b) if a != b else text.count(a) % 2 == 0 for a, b in _MATH_OPENERS)


_LISTS = ("bullet_list_open", "ordered_list_open")


class _ListSoFar(NamedTuple):
    """A list whose first items are finished and shown: how the rest of it must render to read
    as the same list (the number its next item shows, whether it is loose)."""

    kind: str  # bullet_list_open / ordered_list_open
    start: int
    loose: bool


def _render(text: str, env: dict[str, Any], going_on: _ListSoFar | None = None) -> str:
    """:func:`model_html` of ``text`` with the reference definitions of earlier text in ``env`` (the
    ones ``text`` makes are added to it). ``going_on``: ``text`` starts with the rest of a list whose
    first items were rendered before, so that list goes on numbering where they stopped (CommonMark
    takes an ordered list's numbers from its first item only) and is as loose as they were."""
    if not text:
        return ""
    md = _parser(_wants_linkify(text))
    tokens = md.parse(text, env)
    if caps.block_depth(tokens) > caps.BLOCK_DEPTH:  # a browser lays out deep nesting slowly
        return clean(caps.source_block(text))
    if going_on is not None and tokens and tokens[0].type == going_on.kind:
        if going_on.kind == "ordered_list_open":
            tokens[0].attrs.pop("start", None)
            if going_on.start != 1:
                tokens[0].attrs["start"] = going_on.start
        if going_on.loose:  # markdown-it hides the item paragraphs of a tight list
            for token in itertools.takewhile(lambda t: t.level > 0, tokens[1:]):
                if token.level == 2 and token.type in ("paragraph_open", "paragraph_close"):
                    token.hidden = False
    return clean(md.renderer.render(tokens, md.options, env))


class BlockStream:
    """A text that only grows (a streaming answer) as **finished** blocks and an **open end**, for a
    view that shows each finished block once and redraws only the end.

    :meth:`feed` returns the open end's HTML; :attr:`html` is the finished blocks' HTML, which only
    ever grows (what it held before stays its prefix), so a view may send the part it has not sent
    yet and never touch it again. Together they are ``model_html(text)``, with two exceptions, both
    about text written after a block was shown: a reference definition (``[x]: url``) does not turn
    an earlier block's ``[x]`` into a link (it stays readable text; later blocks do see earlier
    definitions), and a list that becomes loose (a blank line between two later items) keeps its
    shown items tight.

    A top-level block is finished once the block after it has begun, since CommonMark never reopens
    a closed block, except a list (or indented code) while the line after it is still being written
    (``2`` may become the item ``2.``): then the block before it is the last one finished. The items
    of a long list are finished the same way: an item, once the next one's first line is written;
    they are handed out ``list_part`` characters of source or more at a time (a short list stays
    one block: each part is an output of its own, and a cell shows only so many). :attr:`joins`
    says that the finished HTML ends inside a list that goes on.

    >>> b = BlockStream()
    >>> b.feed("# Title\n\nfirst"), b.html
    ('<p>first</p>\n', '<h1>Title</h1>\n')
    """

    list_part = 400

    def __init__(self) -> None:
        self.source = ""  # the finished blocks' source...
        self.html = ""  # ...and their HTML
        # reference definitions seen in the finished blocks, and the formulas they had typeset
        self._env: dict[str, Any] = {_BUDGET: caps.TexBudget.answer()}
        self._list: _ListSoFar | None = None  # the list the finished blocks end inside of
        self._table: OpenTable | None = None  # a long table at the open end, its rows kept

    @property
    def joins(self) -> bool:
        """The finished HTML ends with the first items of a list whose other items follow."""
        return self._list is not None

    def feed(self, text: str, length: int | None = None) -> str:
        """The open end's HTML after ``text`` (the whole text so far, or its head when ``length``
        says how long the whole is: only the first ``caps.ANSWER_CHARS`` are rendered)."""
        rest = max(0, (len(text) if length is None else length) - caps.ANSWER_CHARS)
        return self._feed(_normalize(text[: caps.ANSWER_CHARS])) + (caps.answer_rest_note(rest) if rest else "")

    def _feed(self, text: str) -> str:
        if not text.startswith(self.source):
            # Not a continuation (a caller's new text): what was finished stays, the rest is new.
            self.source = text[: len(_common_prefix(self.source, text))]
            self._list = None
            self._table = None
        tail = text[len(self.source) :]
        table = self._table.html(tail) if self._table else None
        if table is not None:  # still one table at the open end: only its new rows were parsed
            return table
        self._table = None
        cut = _finished_end(tail)
        if cut > 0 and _balanced(tail[:cut]):
            self._settle(tail[:cut], None)
            tail = tail[cut:]
        cut, shown, going_on = _finished_items(tail, self._list)
        if cut >= self.list_part and _balanced(tail[:cut]):
            self._settle(tail[:cut], going_on, shown)
            tail = tail[cut:]
        if self._list is None:
            self._table = OpenTable.start(tail, parse=self._open_html, blocks=_parser(False, True).parse)
            if self._table:
                return self._table.html(tail) or ""
        return self._open_html(tail)

    def _open_html(self, tail: str) -> str:
        # rendered again on every update: a copy of the budget, charged only once the text settles
        env = dict(self._env, references=dict(self._env.get("references", {})), **{_BUDGET: self._env[_BUDGET].copy()})
        return _render(tail, env, self._list)

    def _settle(self, source: str, going_on: _ListSoFar | None, shown: _ListSoFar | None = None) -> None:
        """``source`` is finished: ``shown`` (default: the list it goes on with) is how its first
        list renders, ``going_on`` the list the finished text now ends inside of."""
        self.html += _render(source, self._env, shown or self._list)
        self.source += source
        self._list = going_on


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):  # the shorter one ends it
        if x != y:
            break
        n += 1
    return a[:n]


_REOPENABLE = ("bullet_list_open", "ordered_list_open", "code_block")


def _finished_end(text: str) -> int:
    """Offset where the open end of ``text`` starts: the line of its last top-level block, or of
    the one before when that block could still take the last one in (0: nothing is finished)."""
    if "\n" not in text:
        return 0
    tops = [t for t in _parser(False, True).parse(text) if t.level == 0 and t.nesting >= 0 and t.map]
    if len(tops) < 2:
        return 0
    last = tops[-1]
    line = last.map[0]  # type: ignore[index]
    first_line_written = text.count("\n") > line  # a newline ends the last block's first line
    if tops[-2].type in _REOPENABLE and not first_line_written:
        if len(tops) < 3:
            return 0
        line = tops[-2].map[0]  # type: ignore[index]
    return _line_offset(text, line)


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


def _finished_items(
    text: str, going_on: _ListSoFar | None
) -> tuple[int, _ListSoFar | None, _ListSoFar | None]:
    """When ``text`` starts with a list: the offset of its first item not finished yet (0: none
    is), how the finished items render (numbered from where the list is, as loose as it is so far),
    and the list they leave for the rest."""
    if "\n" not in text:
        return 0, None, None
    tokens = _parser(False, True).parse(text)
    if not tokens or tokens[0].type not in _LISTS or not tokens[0].map or tokens[0].map[0] != 0:
        return 0, None, None
    inside = list(itertools.takewhile(lambda t: t.level > 0, tokens[1:]))
    items = [t.map[0] for t in inside if t.type == "list_item_open" and t.level == 1 and t.map]
    lines = text.count("\n")  # an item's first line is written once a newline ends it
    written = [n for n, line in enumerate(items) if lines > line]
    if not written or written[-1] == 0:
        return 0, None, None
    done = written[-1]  # the items before the last one begun are finished
    kind = tokens[0].type
    same = going_on is not None and going_on.kind == kind
    first = going_on.start if same and going_on else int(tokens[0].attrGet("start") or 1)
    loose = (same and going_on is not None and going_on.loose) or any(
        t.type == "paragraph_open" and t.level == 2 and not t.hidden for t in inside
    )
    return _line_offset(text, items[done]), _ListSoFar(kind, first, loose), _ListSoFar(kind, first + done, loose)
