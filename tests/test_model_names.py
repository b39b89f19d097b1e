"""Model names that differ from an ordinary one only by spaces or characters that print as nothing
(the corpus' "name" class: " llama3.2 ", "llama3.2\\t", "llama3.2:latest\\u200b", ...), listed by a
hostile server: every action sends the name exactly as listed, and every view shows it so that it
cannot pass for another (``format.model_name``: quoted, ␣ for a space, escapes for the rest)."""

from __future__ import annotations

import shlex

import pytest
from corpus.payloads import CORPUS
from corpus.routes import PayloadRoutes
from kernel_helpers import extension_kernel  # noqa: F401 - fixture kernel (on this module's emu)
from waiting import wait_until

from ollama_nb import Client, ModelBrowser
from ollama_nb._format import model_name
from ollama_nb.testing import Emulator

NAMED = [p for p in CORPUS if p.cls == "name"]
NAMES = [p.text("") for p in NAMED]


def hostile_emulator() -> Emulator:
    emu = Emulator().start()
    PayloadRoutes({f"p{p.id}": p.chunks("") for p in NAMED}, tags=True).install(emu)
    return emu


@pytest.fixture(scope="module", name="emu")
def named_emulator():
    emu = hostile_emulator()
    yield emu
    emu.stop()


@pytest.fixture
def fresh():
    """An emulator of the test's own: copies and deletes change its list."""
    emu = hostile_emulator()
    yield emu
    emu.stop()


def received(emu: Emulator, path: str, key: str) -> list[str]:
    return [r.json.get(key) for r in emu.requests if r.path == path and isinstance(r.json, dict)]


def send(browser: ModelBrowser, **msg) -> None:
    """What the view does: model.send({...}) with a row's data-name."""
    browser._on_view_msg(browser, msg, [])
    assert browser._join(15), "background work did not finish"


def test_the_shown_form_is_unambiguous_and_one_line():
    assert model_name("llama3.2:latest") == "llama3.2:latest" and model_name("a b") == "a b"
    assert model_name(" llama3.2 ") == '"␣llama3.2␣"' and model_name("  llama3.2  ") == '"␣␣llama3.2␣␣"'
    assert model_name("llama3.2\t") == '"llama3.2\\t"' and model_name("llama3.2:latest\r\n") == '"llama3.2:latest\\r\\n"'
    assert model_name("llama3.2:latest\u200b") == '"llama3.2:latest\\u200b"' and model_name("\u00a0x") == '"\\xa0x"'
    assert model_name("") == '""' and model_name('"x"') == '"\\"x\\""' and model_name("␣x") == "␣x"
    shown = [model_name(n) for n in [*NAMES, "llama3.2", "llama3.2:latest"]]
    assert len(set(shown)) == len(shown), "two names look the same"
    assert all(s.isprintable() and not s.startswith(" ") and "  " not in s for s in shown)


def test_the_browser_acts_on_the_exact_name(emu):
    browser = ModelBrowser(client=Client(emu.url))
    try:
        listed = [m["name"] for m in browser.models]
        assert set(NAMES) <= set(listed) and "llama3.2:latest" in listed
        for name in NAMES:
            send(browser, action="select", name=name)
            assert browser.selected == name
            # the payload's own show answer (its license is the name): the server was asked for this name
            details = wait_until(lambda name=name: browser.details if browser.details.get("license") == name else None)
            assert details["name"] == name and not browser.error
        assert set(NAMES) <= set(received(emu, "/api/show", "model"))

        send(browser, action="try", name=NAMES[0])
        chat = browser._chat
        assert chat.model == NAMES[0]
        picker = wait_until(lambda: chat.models)  # the chat reads the list on a thread of its own
        assert NAMES[0] in picker and set(NAMES) <= set(picker) and "llama3.2:latest" in picker
        assert browser.notice == f"Chat with {model_name(NAMES[0])} opened below."
        for action in ("load", "unload"):
            send(browser, action=action, name=NAMES[1])
        assert received(emu, "/api/generate", "model")[-2:] == [NAMES[1], NAMES[1]]
    finally:
        browser.close()


def test_copy_and_delete_send_the_exact_name(fresh):
    browser = ModelBrowser(client=Client(fresh.url))
    try:
        for name in NAMES:
            send(browser, action="copy", src=name, dst="  my-copy  ")  # the new name is typed: trimmed
        assert received(fresh, "/api/copy", "source") == NAMES
        assert set(received(fresh, "/api/copy", "destination")) == {"my-copy"}
        for name in NAMES:
            send(browser, action="delete", name=name)
            assert browser.notice == f"Deleted {model_name(name)}." and not browser.error
        assert received(fresh, "/api/delete", "model") == NAMES
        listed = [m["name"] for m in browser.models]
        assert not set(NAMES) & set(listed) and "llama3.2:latest" in listed  # only the hostile ones went
    finally:
        browser.close()


def test_from_python_a_listed_name_is_exact_and_a_typed_one_trimmed(fresh):
    browser = ModelBrowser(client=Client(fresh.url))
    try:
        browser.delete(NAMES[0])
        browser.copy("  qwen3:latest ", "qwen-copy")
        browser.delete("  qwen3:latest ")  # not listed with those spaces: a typing slip
        assert received(fresh, "/api/delete", "model") == [NAMES[0], "qwen3:latest"]
        assert received(fresh, "/api/copy", "source") == ["qwen3:latest"]
        assert "llama3.2:latest" in fresh.model_names() and "qwen3:latest" not in fresh.model_names()
    finally:
        browser.close()


def test_the_static_table_shows_the_names_quoted(emu):
    browser = ModelBrowser(client=Client(emu.url))
    try:
        page = browser._repr_mimebundle_()[0]["text/html"]
        for name in NAMES:
            assert "<td>" + model_name(name).replace('"', "&quot;") + "</td>" in page, name
    finally:
        browser.close()


@pytest.mark.kernel
def test_magics_use_and_show_the_exact_name(kernel, emu):
    listing = kernel.run("%ollama list").check()
    text = "\n".join(d["content"]["data"]["text/plain"] for d in listing.displays)
    assert all(model_name(n) in text for n in NAMES)
    for name in NAMES:
        # IPython puts the variable's value in the line; the quotes keep every space, tab and new line
        kernel.run(f"name = {name!r}").check()
        ex = kernel.run('%ollama show "$name"').check()
        shown = ex.displays[-1]["content"]["data"]
        assert shown["text/plain"].startswith(model_name(name) + "\n"), shown["text/plain"][:80]
    assert received(emu, "/api/show", "model")[-len(NAMES):] == NAMES
    kernel.run(f"%%ollama -m {shlex.quote(NAMES[0])} --chat names\nhi")
    assert received(emu, "/api/chat", "model")[-1] == NAMES[0]
