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

>>> model_html("**hi** <img src=x onerror=alert(1)> [x](javascript:alert(1)) $a<b$")
'<p><strong>hi</strong> &lt;img src=x onerror=alert(1)&gt; [x](javascript:alert(1)) <span class="onb-math mathjax_process tex2jax_process">\\\\(a&lt;b\\\\)</span></p>\\n'
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any, Sequence

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from mdit_py_plugins.texmath import texmath_plugin

from .sanitize import clean, is_inline_image, link_scheme_ok

__all__ = ["MATH_PROCESS", "StreamRenderer", "model_html"]

#: Classes that make MathJax typeset an element inside a container it skips.
MATH_PROCESS = "mathjax_process tex2jax_process"

# TeX commands that make links or HTML attributes, or load code: shown as text instead.
_UNSAFE_TEX = re.compile(
    r"\\(href|url|class|cssId|style|data|attr|html[A-Za-z]*|require|unicode|mmlToken|toggle|texttip|mathtip|"
    r"def|gdef|edef|xdef|let|newcommand|renewcommand|providecommand|DeclareMathOperator|newenvironment|"
    r"renewenvironment|Newextarrow|csname)(?![A-Za-z])"
)


def _safe_tex(tex: str) -> str:
    return _UNSAFE_TEX.sub(lambda m: r"\text{\textbackslash " + m.group(1) + "}", tex)


def _math(tex: str, display: bool) -> str:
    body = html.escape(_safe_tex(tex.strip()), quote=False)
    if display:
        return f'<div class="onb-math-display {MATH_PROCESS}">\\[{body}\\]</div>\n'
    return f'<span class="onb-math {MATH_PROCESS}">\\({body}\\)</span>'


def _highlight(code: str, lang: str, _attrs: str) -> str:
    """Pygments spans (``onb-hl-*`` classes) for a known language, else "" (escaped as is)."""
    if not lang:
        return ""
    try:
        from pygments import highlight
        from pygments.formatters.html import HtmlFormatter
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound
    except ImportError:  # pragma: no cover - Pygments comes with IPython
        return ""
    try:
        lexer = get_lexer_by_name(lang.split()[0], stripnl=False, ensurenl=False)
    except ClassNotFound:
        return ""
    return str(highlight(code, lexer, _formatter()))


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

    # Raw HTML is off, so the only HTML tokens left are the task-list checkboxes the plugin makes.
    def html_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        content = tokens[idx].content
        if content.startswith("<input") and "task-list-item-checkbox" in content:
            return "☑" if "checked" in content else "☐"
        return html.escape(content)

    def html_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return f"<p>{html.escape(tokens[idx].content)}</p>\n"

    def math_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=False)

    def math_inline_double(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=True)

    def math_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return _math(tokens[idx].content, display=True)

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


def model_html(text: str) -> str:
    """Untrusted Markdown (a model's answer or thinking) as sanitized HTML (a fragment)."""
    if not text:
        return ""
    return clean(_parser(_wants_linkify(text)).render(text))


# Constructs whose meaning can reach back over a blank line into text before them: a reference
# definition changes links anywhere, and display math ($$, \[) may span blank lines.
_REFERENCE = "]:"
_MATH_OPENERS = (("$$", "$$"), ("\\[", "\\]"))


def _balanced(text: str) -> bool:
    return all(text.count(a) == text.count(b) if a != b else text.count(a) % 2 == 0 for a, b in _MATH_OPENERS)


class StreamRenderer:
    """:func:`model_html` of a text that only grows (a streaming answer), at the cost of its
    last top-level block per call instead of the whole text.

    Blocks before the last two are finished: CommonMark never reopens a closed block, and only
    the block right before the last can still absorb it (a list the next item joins across a
    blank line, indented code), so their HTML is kept and only the rest is parsed again. Where that would not hold (a reference
    definition anywhere, display-math delimiters left open in the finished part) it renders the
    whole text, so the result always equals ``model_html(text)``.

    >>> r = StreamRenderer()
    >>> r.render("# Title\n\nfirst") == model_html("# Title\n\nfirst")
    True
    """

    def __init__(self) -> None:
        self._src = ""  # the finished blocks' source...
        self._html = ""  # ...and their HTML

    def render(self, text: str) -> str:
        text = _normalize(text)
        if _REFERENCE in text or not text.startswith(self._src):
            self._src = self._html = ""
            if _REFERENCE in text:
                return model_html(text)
        tail = text[len(self._src) :]
        cut = _open_blocks_start(tail)
        if cut > 0 and _balanced(tail[:cut]):
            self._html += model_html(tail[:cut])
            self._src += tail[:cut]
            tail = tail[cut:]
        return self._html + model_html(tail)


def _open_blocks_start(text: str) -> int:
    """Offset of the line where the second-to-last top-level block of ``text`` starts (0: fewer
    than three blocks)."""
    if "\n" not in text:
        return 0
    tops = [t.map for t in _parser(False, True).parse(text) if t.level == 0 and t.nesting >= 0 and t.map]
    if len(tops) < 3:
        return 0
    line, offset = tops[-2][0], 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset
