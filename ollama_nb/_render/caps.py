"""Caps before typesetting and parsing: what a formula, a nesting of lists and quotes, or an answer
may cost before it is shown as its source instead (and said so).

A 1 kB formula of nested ``\\frac`` can crash a browser tab in MathJax or KaTeX, a 4.6 kB matrix
freezes it, a thousand nested lists block it: the typesetters and parsers are not ours to fix, so
what we hand them is measured first. The numbers live in ``policy.json`` (``limits``), which the
widgets' ``js/caps.js`` reads too, so both sides cap the same texts.

>>> tex_over(r"\\frac{a}{b}") is None
True
>>> tex_over("{" * 40 + "x" + "}" * 40)
'nests 40 deep, past the cap of 16'
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from . import chrome
from .sanitize import POLICY

__all__ = [
    "ANSWER_CHARS",
    "BLOCK_DEPTH",
    "PLAIN_CHARS",
    "TexBudget",
    "answer_rest_note",
    "block_depth",
    "capped_math",
    "source_block",
    "tex_over",
]

LIMITS: dict[str, int] = {k: v for k, v in POLICY["limits"].items() if not k.startswith("_")}
TEX_CHARS = LIMITS["tex_chars"]
TEX_DEPTH = LIMITS["tex_depth"]
TEX_CELLS = LIMITS["tex_cells"]
BLOCK_DEPTH = LIMITS["block_depth"]
ANSWER_CHARS = LIMITS["answer_chars"]
ANSWER_FORMULAS = LIMITS["answer_formulas"]
ANSWER_TEX_CHARS = LIMITS["answer_tex_chars"]
TRANSCRIPT_FORMULAS = LIMITS["transcript_formulas"]
TRANSCRIPT_TEX_CHARS = LIMITS["transcript_tex_chars"]
#: Characters of an answer kept in its ``text/plain`` (past the rendered ones). The last output,
#: sent after a Ctrl-C too, is escaped, masked, encoded and sent at a cost that grows with this
#: (4 M characters: about 0.5 s on a busy two-core machine; a 300 MB text took 16-21 s), and the
#: saved notebook keeps it; the Reply keeps all of the answer.
PLAIN_CHARS = 1_000_000

# A control word (\frac), a control symbol (\{, \\), or a brace: all that nesting is made of.
_TEX_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([{}&])", re.DOTALL)
_OPENS = frozenset({"left", "begin"})
# A TeX length (\\raisebox{40em}, \\rule{500em}{1pt}, \\kern-30em) and roughly how many em each unit is.
_LENGTH = re.compile(r"([0-9]*\.?[0-9]+)\s*(em|ex|pt|pc|bp|dd|cc|px|mu|cm|mm|in)(?![A-Za-z])")
_EM_PER = {"em": 1.0, "ex": 0.5, "pt": 0.1, "pc": 1.2, "bp": 0.1, "dd": 0.107, "cc": 1.28, "px": 0.1,
           "mu": 1 / 18, "cm": 2.85, "mm": 0.285, "in": 7.2}
MAX_SIZE = LIMITS["katex_max_size"]
_CLOSES = frozenset({"right", "end"})


def tex_over(tex: str) -> str | None:
    """Why ``tex`` must not be typeset (its size, nesting or matrix cells past a cap), or None."""
    if len(tex) > TEX_CHARS:
        return f"has {len(tex)} characters, past the cap of {TEX_CHARS}"
    for number, unit in _LENGTH.findall(tex):
        if float(number) * _EM_PER[unit] > MAX_SIZE:
            return f"sets a length of {number}{unit}, past the cap of {MAX_SIZE}em"
    depth = deepest = 0
    cells = 1
    for match in _TEX_TOKEN.finditer(tex):
        word, brace = match.groups()
        if brace == "{" or word in _OPENS:
            depth += 1
            deepest = max(deepest, depth)
        elif brace == "}" or word in _CLOSES:
            depth -= 1
        elif brace == "&" or word == "\\":
            cells += 1
    if deepest > TEX_DEPTH:
        return f"nests {deepest} deep, past the cap of {TEX_DEPTH}"
    if cells > TEX_CELLS:
        return f"has {cells} cells, past the cap of {TEX_CELLS}"
    return None


class TexBudget:
    """How many formulas (and how much TeX) one answer, or one transcript, may still have typeset.

    Each formula inside the per-formula caps costs MathJax or KaTeX a few milliseconds and the
    page its layout; a few hundred in one output froze it. Past the budget the rest are shown as
    source: the first with a note that says why, the others without one (said once).
    ``parent`` (a transcript's budget) is charged too, and stops its answers as well.

    >>> b = TexBudget(formulas=1, tex_chars=100)
    >>> b.take("x"), b.take("y")[:33], b.take("z")
    (None, 'comes after the first 1 formulas ', '')
    """

    def __init__(self, formulas: int, tex_chars: int, parent: TexBudget | None = None, *, what: str = "answer") -> None:
        self.formulas, self.tex_chars, self.parent, self.what = formulas, tex_chars, parent, what
        self.count = self.chars = 0
        self.said = False

    @classmethod
    def answer(cls, parent: TexBudget | None = None) -> TexBudget:
        return cls(ANSWER_FORMULAS, ANSWER_TEX_CHARS, parent)

    @classmethod
    def transcript(cls) -> TexBudget:
        return cls(TRANSCRIPT_FORMULAS, TRANSCRIPT_TEX_CHARS, what="conversation")

    def copy(self) -> TexBudget:
        """A budget that charges nothing here (for text rendered again on every update)."""
        twin = TexBudget(self.formulas, self.tex_chars, self.parent.copy() if self.parent else None, what=self.what)
        twin.count, twin.chars, twin.said = self.count, self.chars, self.said
        return twin

    def _over(self, tex: str) -> TexBudget | None:
        if self.parent is not None and (spent := self.parent._over(tex)):
            return spent
        full = self.count >= self.formulas or self.chars + len(tex) > self.tex_chars
        return self if full else None

    def take(self, tex: str) -> str | None:
        """None: ``tex`` may be typeset (and is counted). Else why not, or "" once that was said."""
        spent = self._over(tex)
        if spent is None:
            budget: TexBudget | None = self
            while budget is not None:
                budget.count += 1
                budget.chars += len(tex)
                budget = budget.parent
            return None
        if spent.said:
            return ""
        spent.said = True
        return (f"comes after the first {spent.count} formulas ({spent.chars:,} characters of TeX) of this "
                f"{spent.what}: the rest are shown as source, so that the page stays responsive")


def capped_math(source: str, display: bool, why: str) -> str:
    """A formula past a cap: its source as code, and a note that says why it was not typeset
    (none when ``why`` is "": said before)."""
    note = f'<span class="onb-capped">(formula not typeset: it {html.escape(why)})</span>' if why else ""
    if display:
        return f"{chrome.code(source, pre_class='onb-math-source')}\n{note}\n"
    return f'<code class="onb-math-source">{chrome.code_text(source)[0]}</code>' + (f" {note}" if note else "")


_OPEN = frozenset({"bullet_list_open", "ordered_list_open", "blockquote_open"})
_CLOSE = frozenset({"bullet_list_close", "ordered_list_close", "blockquote_close"})


def block_depth(tokens: Iterable[Any]) -> int:
    """How deep lists and quotes nest in markdown-it's ``tokens`` (a list in a quote: 2)."""
    depth = deepest = 0
    for token in tokens:
        if token.type in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.type in _CLOSE:
            depth -= 1
    return deepest


def source_block(text: str) -> str:
    """A text whose lists or quotes nest past the cap: shown as its source, and said so."""
    note = f"Shown as source: its lists or quotes nest more than {BLOCK_DEPTH} deep."
    return f'<div class="onb-capped">{note}</div>\n{chrome.code(text, pre_class="onb-source")}\n'


def answer_rest_note(rest: int) -> str:
    """What is said after the first :data:`ANSWER_CHARS` characters of an answer, all that is rendered."""
    return (
        f'<div class="onb-capped">The answer goes on for {rest:,} more characters, kept as plain text only: '
        f"past {ANSWER_CHARS:,} characters an answer is not rendered.</div>\n"
    )
