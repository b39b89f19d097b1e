"""The render layer: the only code that turns text into HTML.

- :func:`model_html`: untrusted Markdown (answers, thinking) -> sanitized HTML (markdown-it-py with
  raw HTML off, then nh3 with the allowlist in ``policy.json``, which the widgets' DOMPurify reads
  too).
- :mod:`.chrome`: our own pieces (footers, headings, error boxes, tables, code, progress bars),
  built from escaped values, wrapped by :func:`page` with the stylesheet they share.
"""

from __future__ import annotations

from .markdown import model_html
from .sanitize import POLICY, clean

__all__ = ["POLICY", "clean", "model_html"]
