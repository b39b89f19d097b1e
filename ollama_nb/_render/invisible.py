"""Characters that print as nothing, made visible in code: bidi controls (Trojan Source), zero-width
characters, other format and control characters, and the fillers that look like a space.

The code a reader sees must be the code that runs when it is copied: each such character shows as
a mark (``⟦U+202E⟧``) and the block is flagged. ``js/invisible.js`` does the same in the widgets
(held equal by tests/browser/test_deception.py).

>>> mark_code_html("<code>a\\u202eb</code>")
('<code>a<span class="onb-invisible">⟦U+202E⟧</span>b</code>', 1)
"""

from __future__ import annotations

import re

from .sanitize import POLICY

__all__ = ["INVISIBLE", "flag", "mark", "mark_code_html", "mark_html"]


def _build() -> re.Pattern[str]:
    ranges = POLICY["invisible"]["ranges"]
    return re.compile("[" + "".join(f"{_char(a)}-{_char(b)}" for a, b in ranges) + "]")


def _char(hex_code: str) -> str:
    return re.escape(chr(int(hex_code, 16)))


#: What prints as nothing (``policy.json``'s ``invisible`` ranges: Cf and Cc but tab and newline,
#: the Hangul fillers, the combining grapheme joiner).
INVISIBLE = _build()


def _shown(ch: str) -> str:
    return f"⟦U+{ord(ch):04X}⟧"


def mark(text: str) -> str:
    """``text`` with every invisible character replaced by its visible mark (plain text)."""
    return INVISIBLE.sub(lambda m: _shown(m.group()), text)


def mark_code_html(code_html: str) -> tuple[str, int]:
    """A ``<code ...>…</code>`` element we rendered, its invisible characters marked in spans, and
    how many there were. Only the element's content is touched: the opening tag's attributes hold
    escaped text too (a fence's info string), where a span would break the markup."""
    start = code_html.find(">", code_html.find("<code")) + 1
    end = code_html.rfind("</code>")
    body, count = mark_html(code_html[start:end])
    return code_html[:start] + body + code_html[end:], count


def mark_html(escaped: str) -> tuple[str, int]:
    """Escaped text for inside a ``<code>`` element, its invisible characters marked in spans, and
    how many there were (what every code block, ours or a model's, shows)."""
    count = 0

    def span(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f'<span class="onb-invisible">{_shown(m.group())}</span>'

    return INVISIBLE.sub(span, escaped), count


def flag(count: int) -> str:
    """The note above a code block that held invisible characters."""
    what = "character" if count == 1 else "characters"
    return (
        f'<div class="onb-flag">⚠ This code holds {count} invisible {what} (bidi controls, zero-width or '
        "control characters), shown as ⟦U+…⟧ marks: what runs may differ from what it seems to say.</div>\n"
    )
