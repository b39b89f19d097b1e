"""A long table at the open end of a streaming answer, rendered a few new rows at a time.

A table is one block until the text after it begins, so :class:`~.markdown.BlockStream` would
parse all of it again on every update: a 220 kB table arriving at a model's pace cost 9.9 s of
parsing for a 2.1 s stream. Its rows are independent (each line is one ``<tr>``, its cells parsed
on their own), so the rows already rendered keep their HTML and only the new lines are parsed,
behind the header and delimiter lines, by the same parser. Whatever the parser does not read as
more rows of this one table (a blank line, another block, a line that ends it) sends the caller
back to its whole render.

>>> t = OpenTable.start("| a |\\n|---|\\n" + "| 1 |\\n" * 600, parse=_demo_parse, blocks=_demo_blocks)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["OpenTable"]

Parse = Callable[[str], str]  # Markdown -> sanitized HTML
Blocks = Callable[[str], Sequence[Any]]  # Markdown -> markdown-it block tokens

#: Below this many characters the whole open end is parsed again: cheaper than keeping rows.
MIN_CHARS = 2000

_BODY_START = "<tbody>\n"
_BODY_END = "</tbody>\n</table>\n"


@dataclass
class OpenTable:
    head: str  # the header and delimiter lines, each ended by a newline
    head_html: str  # the HTML up to and including <tbody>
    rows: str  # the body lines rendered so far, each ended by a newline
    rows_html: str
    parse: Parse
    blocks: Blocks

    @classmethod
    def start(cls, tail: str, *, parse: Parse, blocks: Blocks) -> OpenTable | None:
        """When ``tail`` is one long table (and nothing else): its rows so far, kept."""
        if len(tail) < MIN_CHARS:
            return None
        tops = [t for t in blocks(tail) if t.level == 0 and t.nesting == 1]
        if len(tops) != 1 or tops[0].type != "table_open" or tops[0].map[0] != 0:
            return None
        second = tail.find("\n", tail.find("\n") + 1)
        if second < 0:
            return None
        head = tail[: second + 1]
        table = cls(head, "", "", "", parse, blocks)
        return table if table.html(tail) is not None else None

    def html(self, tail: str) -> str | None:
        """The table's HTML for ``tail`` (the open end, this table grown), or None when ``tail`` is
        not this table with more rows (then it must be parsed whole)."""
        if not tail.startswith(self.head + self.rows):
            return None
        new = tail[len(self.head) + len(self.rows) :]
        complete = new[: new.rfind("\n") + 1]
        partial = new[len(complete) :]
        if complete:
            rows = self._rows(complete)
            if rows is None:
                return None
            self.rows += complete
            self.rows_html += rows
        last = self._rows(partial) if partial else ""
        if last is None or not self.head_html:
            return None
        return self.head_html + self.rows_html + last + _BODY_END

    def _rows(self, lines: str) -> str | None:
        """The ``<tr>`` elements of ``lines``, when the parser reads every one of them as a row of
        a table under this header; else None."""
        text = self.head + lines
        line_count = text.count("\n") + (0 if text.endswith("\n") else 1)
        tops = [t for t in self.blocks(text) if t.level == 0 and t.nesting == 1]
        if len(tops) != 1 or tops[0].type != "table_open" or tops[0].map != [0, line_count]:
            return None
        rendered = self.parse(text)
        start, end = rendered.find(_BODY_START), rendered.rfind(_BODY_END)
        if start < 0 or end < start:
            return None
        # Escaped cell text holds no tag, so the first <tbody> and the last </tbody> are the table's.
        self.head_html = self.head_html or rendered[: start + len(_BODY_START)]
        return rendered[start + len(_BODY_START) : end]

