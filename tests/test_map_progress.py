"""The batch progress as the render layer makes it: the hostile corpus as error text and host
names changes only text, and the plain line never carries a character a terminal would obey."""

from __future__ import annotations

import dataclasses
import html.parser

import pytest
from corpus.payloads import CORPUS

from ollama_nb._render.progress import Board, HostLine, plain_line, progress_bundle, visible

BEACON = "http://127.0.0.1:9/b"
IDS = [f"p{p.id}-{p.cls}" for p in CORPUS]
MARK = ("span", [("class", "onb-invisible")])  # what _render/invisible.py puts for each invisible run


class Tags(html.parser.HTMLParser):
    """The element structure of a fragment: tags with their attribute names and values."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if (tag, attrs) != MARK:  # our own mark for a character that prints as nothing: text, not structure
            self.found.append((tag, attrs))


def board(text: str, state: str = "running") -> Board:
    hosts = [HostLine(text, 3, 1, 2, text), HostLine("http://b:11434", 4, 2, 2, "")]
    return Board(done=7, failed=1, running=3, waiting=9, total=20, cached=0, rows_per_s="2.0 rows/s",
                 tokens_per_s="80.0 tok/s", elapsed="3.5 s", eta="9 s", last_error=text, state=state,
                 hosts=hosts)  # fmt: skip


@pytest.mark.parametrize("payload", CORPUS, ids=IDS)
def test_a_payload_in_the_progress_changes_only_text(payload):
    text = payload.text(BEACON)
    hostile, plain = progress_bundle(board(text, text[:40])), progress_bundle(board("word", "word"))
    assert Tags(hostile["text/html"]).found == Tags(plain["text/html"]).found
    line = hostile["text/plain"]
    assert line.isprintable() and "\x1b" not in line and "\r" not in line


def test_control_characters_are_shown_not_obeyed():
    line = plain_line(board("boom\r\x1b[2Jgone\x07\u202eevil\n"))
    assert "\\r\\x1b[2Jgone\\x07\\u202eevil\\n" in line and line.isprintable()
    assert visible("ok ✓") == "ok ✓"


def test_the_plain_line_says_what_a_reader_needs():
    assert (
        plain_line(board(""))
        == "7 of 20 done · 1 failed · 3 running · 9 waiting · 2.0 rows/s · 80.0 tok/s · 3.5 s · ETA 9 s"
    )
    done = plain_line(board("", "done"))
    assert done.startswith("finished: 7 of 20 done · 1 failed · 2.0 rows/s") and "ETA" not in done
    # Every row from the log (a rerun), or none answered yet: no "0.0 rows/s · –" to misread as a stall.
    rerun = plain_line(dataclasses.replace(board("", "done"), done=20, failed=0, cached=20, rows_per_s="0.0 rows/s", tokens_per_s="–"))
    assert rerun == "finished: 20 of 20 done · 20 from the log · 0 failed · 3.5 s"
    start = plain_line(dataclasses.replace(board(""), done=0, failed=0, rows_per_s="0.0 rows/s", tokens_per_s="–"))
    assert start == "0 of 20 done · 0 failed · 3 running · 9 waiting · 3.5 s · ETA 9 s"


def test_a_terminal_gets_one_line_rewritten_in_place(emu):
    import io

    from ollama_nb import Client
    from ollama_nb._map import progress as view

    out = io.StringIO()
    frames = view.ProgressView(view._terminal(out))
    with Client(emu.url) as client:
        client.map([f"what is 2+2? tty {i} {id(out)}" for i in range(20)] + [7], model="llama3.2", progress=frames)
    written = out.getvalue()
    lines = written.split("\r\x1b[K")[1:]  # each frame returns to the line's start and clears it
    assert len(lines) == frames.updates >= 2 and written.endswith("\n") and written.count("\n") == 1
    assert lines[-1].startswith("finished: 20 of 21 done · 1 failed") and all(
        line.rstrip("\n").isprintable() for line in lines
    )
