"""The code blocks of an answer, found by markdown-it-py (the parser the render layer uses).

An answer is untrusted text: a regex of ours over it would disagree with the real parser about
nested or unclosed fences, so the blocks are the parser's ``fence`` and ``code_block`` tokens.

Usage::

    >>> code_blocks("Try:\\n\\n```python\\nprint(1)\\n```\\n")
    [CodeBlock(language='python', code='print(1)\\n')]
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt

__all__ = ["CodeBlock", "code_blocks"]


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str


def code_blocks(text: str) -> list[CodeBlock]:
    """Every fenced or indented code block of ``text`` that holds some code, in order."""
    md = MarkdownIt("commonmark", {"html": False})
    blocks = []
    for token in md.parse(text):
        if token.type in ("fence", "code_block") and token.content.strip():
            language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
            blocks.append(CodeBlock(language, token.content))
    return blocks
