"""Close matches among installed models, for "did you mean ...?" in errors and the magic.

Uses :mod:`difflib` on the names as people write them (``llama3.2``, not ``llama3.2:latest``), so
``lama3.2`` finds ``llama3.2`` and ``qwen`` finds ``qwen3``. Commands shown to the user quote
names with :func:`shlex.quote`, so a name with a space or a quote stays one argument.

    >>> close_models("lama3.2", ["llama3.2:latest", "qwen3:latest"])
    ['llama3.2']
"""

from __future__ import annotations

import difflib
import re
import shlex

#: The characters Ollama's model-name grammar allows (types/model/name.go: letters, digits, ``_``,
#: ``.`` and ``-`` in every part, joined by ``/``, ``:``, ``+`` and ``@``; a host may hold a port).
#: Nothing else, so no space, quote, ``{...}`` or ``$x`` that a shell or IPython would act on.
_OLLAMA_NAME = re.compile(r"[A-Za-z0-9_.:/+@-]{1,350}")


def is_ollama_name(name: str) -> bool:
    """Whether ``name`` could be a model name Ollama itself accepts (the server may list others)."""
    return bool(_OLLAMA_NAME.fullmatch(name)) and ".." not in name


def short_name(name: str) -> str:
    """``llama3.2:latest`` -> ``llama3.2``; other tags are kept (``gpt-oss:20b``)."""
    return name[: -len(":latest")] if name.endswith(":latest") else name


def close_models(name: str, installed: list[str], n: int = 3) -> list[str]:
    """Installed models whose name is close to ``name`` (best first, never ``name`` itself)."""
    wanted = short_name(name.strip()).lower()
    if not wanted:
        return []
    # A name outside Ollama's grammar is never suggested: pasted into a magic, IPython would expand
    # its {...} or $x (running the Python inside) before the magic sees the line.
    names = list(dict.fromkeys(short_name(m) for m in installed if m and is_ollama_name(m)))
    by_lower = {m.lower(): m for m in names}
    if wanted in by_lower:  # the same model spelled with other capitals or tag
        return []
    matches = difflib.get_close_matches(wanted, list(by_lower), n=n, cutoff=0.6)
    # "qwen" -> "qwen3": a prefix is a strong hint even when the ratio is low.
    prefixed = [m for m in by_lower if m.split(":")[0].startswith(wanted.split(":")[0]) and m not in matches]
    return [by_lower[m] for m in (matches + prefixed)[:n]]


def command(*words: str) -> str:
    """A command line with each argument quoted for a shell / the magic (``%ollama pull 'my model'``)."""
    return " ".join(words[:2] + tuple(shlex.quote(w) for w in words[2:]))
