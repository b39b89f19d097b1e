"""Every benchmark logs into a scratch file, never into the user's own log.

The store writes each turn and ``map`` row to ``OLLAMA_NB_STORE`` (default: the user's
``jupyter_data_dir()/ollama_nb/log.db``); a benchmark's thousands of answers do not belong there,
and a warm log would also answer a rerun from its cache. :func:`scratch_store` points the variable
at a file in a fresh temporary folder for this process and every kernel or subprocess it starts,
and removes the folder when the process exits. Call it first in ``main()``, before anything is sent.

Usage::

    from scratch_store import scratch_store
    log = scratch_store()    # Path of the scratch log.db
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

ENV = "OLLAMA_NB_STORE"  # the store's own variable (ollama_nb._store.db.ENV)


def scratch_store() -> Path:
    """Point ``OLLAMA_NB_STORE`` at a new scratch file (removed at exit) and return its path."""
    folder = tempfile.mkdtemp(prefix="ollama_nb_bench_")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = Path(folder) / "log.db"
    os.environ[ENV] = str(path)
    return path
