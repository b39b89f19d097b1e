"""Every terminal surface fed the corpus' "terminal" class, in a real terminal IPython on a pty:
the bytes written hold no control sequence of the payload, only its visible escape.

A terminal obeys what it is written: OSC 52 writes the clipboard, OSC 8 shows one link and opens
another, ``\\r`` / erase-line / cursor-up rewrite what was shown, a report request types the
terminal's reply into the next prompt. Our own output may use colours (SGR), ``ESC[K`` and ``\\r``
for the pull line, and nothing else; everything a server or a model sent must reach the terminal as
text (``\\x1b]52...``), whichever surface shows it.
"""

from __future__ import annotations

import re

import pytest
from corpus.payloads import CORPUS, Payload
from corpus.routes import PayloadRoutes
from test_terminal import TerminalIPython

from ollama_nb._format import listed_name
from ollama_nb._terminal import cut, terminal_text
from ollama_nb.testing import Emulator

TERMINAL = [p for p in CORPUS if p.cls == "terminal"]
#: What our own output writes: colours, erase to the line's end, the pty's line ends, the pull
#: line's return to its start. Anything else that a terminal acts on came from the payload.
OURS = re.compile(r"\x1b\[[0-9;]*m|\x1b\[K|\r\n|\r(?=pull )")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def key(p: Payload) -> str:
    return f"p{p.id}"


def check(raw: bytes, p: Payload, *, start: int = 0, words: bool = False, name: bool = False) -> str:
    """The text a command wrote, checked: no control character but ours, the payload visible,
    escaped (its first ``start`` characters where a surface cuts it; ``words``: its whitespace made
    single spaces first, as the history table does; ``name``: in a model name's shown form)."""
    text = raw.decode("utf-8", "strict")
    left = CONTROL.findall(OURS.sub("", text))
    assert not left, f"payload {p.id} ({p.note}) reached the terminal raw: {left!r} in {text[-3000:]!r}"
    shown = text.replace("\r\n", "\n")
    text = " ".join(p.text("").split()) if words else p.text("")
    wanted = (listed_name(text) if name else terminal_text(text))[: start or None].rstrip()  # tables drop end spaces
    assert wanted in shown, f"payload {p.id} ({p.note}) not shown as {wanted!r}: {shown[-3000:]!r}"
    return shown


@pytest.fixture(scope="module")
def term():
    with Emulator() as emu:
        PayloadRoutes({key(p): p.chunks("") for p in TERMINAL}, tags=True).install(emu)
        ipython = TerminalIPython(emu.url)
        try:
            ipython.run("%load_ext ollama_nb")
            ipython.run("import ollama_nb")
            yield ipython
        finally:
            ipython.close()


def cell(args: str, body: str = "hi") -> str:
    return f"get_ipython().run_cell_magic('ollama', {args!r}, {body!r})"


@pytest.mark.parametrize("p", TERMINAL, ids=lambda p: f"{p.id}-{p.note[:24]}")
def test_every_answer_surface_shows_the_sequence_as_text(term, p):
    k = key(p)
    check(term.run(cell(f"-m payload-content:{k}")), p)  # the echoed answer
    check(term.run(cell(f"-m payload-thinking:{k}")), p)  # thinking, dimmed
    check(term.run(cell(f"-m payload-model:{k}")), p)  # the footer: the chunks' model name
    check(term.run(cell(f"-m payload-error:{k}")), p)  # an error before the stream
    check(term.run(cell(f"-m payload-midstream:{k}")), p)  # an error in the middle of it
    check(term.run(cell(f"-m payload-content:{k} --show-request")), p)  # the answer above the request
    check(term.run(cell(f"--compare payload-content:{k},payload-error:{k}")), p)
    # A Reply as Out[n], and an uncaught error's str() in its traceback.
    msgs = "[{'role': 'user', 'content': 'hi'}]"
    check(term.run(f"ollama_nb.Client().chat('payload-content:{k}', messages={msgs})"), p)
    check(term.run(f"ollama_nb.Client().chat('payload-error:{k}', messages={msgs})"), p)


@pytest.mark.parametrize("p", TERMINAL, ids=lambda p: f"{p.id}-{p.note[:24]}")
def test_every_line_command_shows_the_sequence_as_text(term, p):
    k = key(p)
    check(term.run(f"%ollama show payload-show:{k}"), p)  # every /api/show field
    check(term.run(f"%ollama pull payload-pull:{k}"), p, start=40)  # the status, cut to the width
    term.run("%ollama clear")
    term.run(cell(f"-m payload-content:{k}"))
    check(term.run("%ollama history"), p, start=40, words=True)  # cut at 80 characters


def test_the_lists_show_every_sequence_as_text(term):
    listing, running = term.run("%ollama list"), term.run("%ollama ps")
    for p in TERMINAL:  # each payload is a listed model's name and every one of its details
        check(listing, p)
        check(running, p, name=True)  # ps lists names only


def test_a_cut_lands_after_the_escaping():
    text = "x" * 10 + "\x1b]8;;http://evil.example/\x07"
    assert cut(text, 14) == "x" * 10 + "\\x1…"
    assert not CONTROL.search(cut(text, 14)) and cut("short", 80) == "short"
    assert terminal_text("a\tb\nc\r\x1b\x9b\x7f") == "a\tb\nc\\x0d\\x1b\\x9b\\x7f"
