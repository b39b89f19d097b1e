"""The log of every turn asked from this user's notebooks: search it, read one turn, tidy it.

Every ``%%ollama`` cell, ``--compare`` column, chat-widget turn and call through the default client
is written to one SQLite file (``jupyter_data_dir()/ollama_nb/log.db``; ``OLLAMA_NB_STORE`` or
``%ollama config store=PATH`` moves it, ``store=off`` stops logging). No key or header value is
ever written. In a notebook, ``%ollama log`` shows the same as a table.

Usage::

    import ollama_nb.log
    for entry in ollama_nb.log.search("pandas", since="2d"):
        print(entry.id, entry.model, entry.prompt[:60])
    ollama_nb.log.show(entry.id).content
"""

from ._store import path, prune, search, show, stats
from ._store.db import StoreWarning
from ._store.query import Entry

__all__ = ["Entry", "StoreWarning", "path", "prune", "search", "show", "stats"]
