"""Paths of the widgets' built front ends (``ollama_nb/_widgets/static/``).

The files are built from ``js/`` by ``npm run build`` and committed, so installing the
package needs no Node. anywidget accepts a ``pathlib.Path`` for ``_esm`` and ``_css``::

    class ChatWidget(anywidget.AnyWidget):
        _esm = esm("chat")
        _css = css("chat")
"""

from __future__ import annotations

import pathlib

STATIC = pathlib.Path(__file__).parent / "static"


def esm(name: str) -> pathlib.Path:
    """The bundled ES module of widget ``name`` (e.g. ``"chat"`` -> ``static/chat.js``)."""
    return STATIC / f"{name}.js"


def css(name: str) -> pathlib.Path:
    """The stylesheet of widget ``name`` (e.g. ``"chat"`` -> ``static/chat.css``)."""
    return STATIC / f"{name}.css"
