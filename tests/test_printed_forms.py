"""``print(x)`` and ``repr(x)`` of everything the package hands back that can carry server text,
fed the corpus' "terminal" class through a real emulator: the printed form shows each sequence as
visible escapes, never the control characters a terminal would obey (issue 24).

The objects: a Reply (chat and generate, whole and streamed, with the model's name, thinking and
tool calls from the server), every streamed chunk, a Stream, the answer types of ``show``, ``list``,
``ps`` and ``pull`` (and its progress lines), the errors before and in the middle of an answer (and
the partial Reply an error keeps), and a batch's results and failed rows. Their data stays the text
as sent: ``reply.content`` is checked to hold the raw payload.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from corpus.payloads import CORPUS, Payload
from corpus.routes import PayloadRoutes

from ollama_nb import Client, OllamaError
from ollama_nb._terminal import terminal_text
from ollama_nb.testing import Emulator

TERMINAL = [p for p in CORPUS if p.cls == "terminal"]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MESSAGES = [{"role": "user", "content": "hi"}]


def key(p: Payload) -> str:
    return f"p{p.id}"


@pytest.fixture(scope="module")
def client() -> Any:
    with Emulator() as emu:
        PayloadRoutes({key(p): p.chunks("") for p in TERMINAL}, tags=True).install(emu)
        yield Client(emu.url)


def printed(obj: Any, what: str) -> list[str]:
    """``str(obj)`` and ``repr(obj)``, each checked: no control character a terminal acts on."""
    forms = [str(obj), repr(obj)]
    for form in forms:
        raw = CONTROL.findall(form)
        assert not raw, f"{what} prints {raw!r} raw: {form[-400:]!r}"
    return forms


def returned(client: Client, p: Payload) -> list[tuple[str, Any]]:
    """Every object a user gets back for payload ``p``, named."""
    k = key(p)
    out: list[tuple[str, Any]] = []
    for field in ("content", "thinking", "tool", "model"):
        name = f"payload-{field}:{k}"
        reply = client.chat(name, messages=MESSAGES)
        out += [(f"chat {field}", reply), (f"chat {field} message", reply["message"])]
        stream = client.chat(name, messages=MESSAGES, stream=True)
        out += [(f"chunk of {field}", c) for c in stream]
        out += [(f"stream of {field}", stream), (f"streamed reply of {field}", stream.reply)]
        out.append((f"generate {field}", client.generate(name, prompt="hi")))
    for field in ("error", "midstream"):
        with pytest.raises(OllamaError) as caught:
            client.chat(f"payload-{field}:{k}", messages=MESSAGES)
        out += [(f"{field} error", caught.value), (f"{field} error args", caught.value.args)]
        if caught.value.reply is not None:
            out.append((f"{field} error's partial reply", caught.value.reply))
    out.append(("show", client.show(f"payload-show:{k}")))
    pull = client.pull(f"payload-pull:{k}", stream=True)
    out += [("pull line", line) for line in pull] + [("pull stream", pull), ("pull progress", pull.progress)]
    out.append(("pull whole", client.pull(f"payload-pull:{k}")))
    results = client.map(["hi"], model=f"payload-midstream:{k}", progress=False, cache=False)
    out += [("map results", results)] + [("map failed row", e) for e in results.errors]
    return out


@pytest.mark.parametrize("p", TERMINAL, ids=lambda p: f"{p.id}-{p.note[:24]}")
def test_what_the_package_returns_prints_every_sequence_as_text(client: Client, p: Payload) -> None:
    shown = terminal_text(p.text(""))
    everything = returned(client, p)
    for what, obj in everything:
        printed(obj, what)
    reply = everything[0][1]
    assert str(reply) == shown and reply.content == p.text("")  # printed escaped, kept as sent
    assert reply["message"]["content"] == p.text("")


def test_the_lists_print_every_sequence_as_text(client: Client) -> None:
    listing, running = client.list(), client.ps()
    assert len(listing.models) >= len(TERMINAL) and len(running.models) >= len(TERMINAL)  # one per payload
    for what, obj in (("list", listing), ("ps", running), *(("a listed model", m) for m in listing.models)):
        printed(obj, what)
