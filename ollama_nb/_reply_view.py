"""What a :class:`~ollama_nb.Reply` looks like as a cell's ``Out[n]``: the view layer's part of it.

Sanitized HTML and the plain answer (never Markdown, which a trusted output would render raw),
with the stats line as a footer; a key a server echoed into the answer is not shown. Registered
with :mod:`ollama_nb._display` when ``ollama_nb`` is imported; the render layer is imported on the
first display, not before (``import ollama_nb`` stays fast).
"""

from __future__ import annotations

from . import _display
from ._reply import Reply

__all__ = ["reply_bundle"]


def reply_bundle(reply: Reply) -> dict[str, str]:
    """The output bundle for ``reply``."""
    from ._format import stats_line
    from ._redact import mask_data
    from ._render import answer, chrome

    footer = stats_line(reply)
    content, thinking, calls = reply.content, reply.thinking, reply.tool_calls
    page = answer.answer(content=content, thinking=thinking, tool_calls=calls, model=reply.model, footer=footer)
    bundle = {
        "text/html": chrome.page(page),
        "text/plain": answer.answer_plain(content=content, thinking=thinking, tool_calls=calls, footer=footer),
    }
    return mask_data(bundle)


_display.register(Reply, reply_bundle)
