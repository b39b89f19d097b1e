"""Text a terminal shows, made safe: control characters written as visible escapes, never obeyed.

Everything ollama_nb writes where a terminal may read it (terminal IPython's echo of an answer,
line commands' plain text, errors, the pull line, the ``text/plain`` of our display bundles, the
``str()`` of our errors) passes :func:`terminal_text`. Model output, server errors and model names
are untrusted: a raw ``ESC ] 52`` would write the user's clipboard, ``ESC ] 8`` would show one link
and open another, ``\\r`` or ``ESC [ A`` would rewrite lines already shown. Escaping ESC itself
(with every other C0 control but newline and tab, DEL and the C1 controls, which 8-bit terminals
read as ESC sequences) disarms them all; :func:`cut` shortens *after* escaping, so a cut can never
leave a sequence open.

>>> terminal_text("ok\\x1b]52;c;cm0gLXJmIH4=\\x07 done\\r")
'ok\\\\x1b]52;c;cm0gLXJmIH4=\\\\x07 done\\\\x0d'
"""

from __future__ import annotations

import re

__all__ = ["cut", "escape_char", "is_control", "terminal_text"]

#: Code points a terminal acts on: C0 (but newline and tab), DEL, C1.
_CONTROLS = frozenset([*range(0x20), 0x7F, *range(0x80, 0xA0)]) - {ord("\n"), ord("\t")}


def escape_char(ch: str) -> str:
    """``ch`` as a Python-style escape: ``\\xHH``, ``\\uHHHH`` or ``\\UHHHHHHHH``."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


_TABLE = {code: escape_char(chr(code)) for code in _CONTROLS}
_CLASS = "[" + "".join(re.escape(chr(code)) for code in sorted(_CONTROLS)) + "]"
_ANY = re.compile(_CLASS)
_RUNS = re.compile(f"({_CLASS}+)")


def is_control(ch: str) -> bool:
    """True for a character a terminal would act on instead of print (newline and tab excepted)."""
    return ord(ch) in _CONTROLS


def terminal_text(text: str) -> str:
    """``text`` with every control character a terminal acts on shown as ``\\xHH``; newline and
    tab kept. Idempotent in effect: its output holds no control character.

    ``str.translate`` alone copies a text that is not pure ASCII one character at a time (about
    2 s for the 4 M characters of an answer's ``text/plain``, run after a Ctrl-C): only the runs of
    controls are translated, found by one scan in C."""
    if _ANY.search(text) is None:
        return text
    parts = _RUNS.split(text)
    parts[1::2] = [run.translate(_TABLE) for run in parts[1::2]]
    return "".join(parts)


def cut(text: str, width: int, mark: str = "…") -> str:
    """``text`` made terminal-safe, then cut to ``width`` characters (the last one ``mark``).

    The escaping comes first, so a cut lands inside visible text, never inside a live sequence.
    """
    safe = terminal_text(text)
    if len(safe) <= width:
        return safe
    return safe[: max(width - len(mark), 0)] + mark
