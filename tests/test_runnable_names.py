"""Names that cannot run (issue 24): a hostile server lists models whose names hold ``{expr}`` or
``$x``, which IPython expands in a magic's line (running the Python inside) before the magic sees
it. Ollama's own grammar forbids those characters: the lists mark such names "not an Ollama name"
in a form that pastes back as text, "did you mean" never offers them, and ``--show-request``'s curl
line quotes its URL, so a host holding ``$(...)``, backticks or ``;`` is text to the shell.
"""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest
from corpus.payloads import CORPUS
from corpus.routes import PayloadRoutes
from kernel_helpers import Kernel

from ollama_nb import Client
from ollama_nb._errors import ModelNotFound
from ollama_nb._format import NOT_OLLAMA, listed_name
from ollama_nb._magic.show_request import curl_command
from ollama_nb._suggest import close_models, is_ollama_name
from ollama_nb.testing import Emulator

RUNNABLE = [p for p in CORPUS if p.cls == "runnable-name"]


@pytest.fixture(scope="module")
def marker(tmp_path_factory):
    return tmp_path_factory.mktemp("names") / "pwned"


@pytest.fixture(scope="module")
def names(marker):
    return [p.text(str(marker)) for p in RUNNABLE]


@pytest.fixture(scope="module")
def emu(marker):
    with Emulator() as emulator:
        PayloadRoutes({f"p{p.id}": p.chunks(str(marker)) for p in RUNNABLE}, tags=True).install(emulator)
        yield emulator


def test_the_grammar_accepts_ollama_names_and_refuses_the_rest(names):
    good = ["llama3.2", "llama3.2:latest", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
            "localhost:5000/team/model:v1", "gpt-oss:120b-cloud", "m@sha256-abc"]
    assert all(is_ollama_name(n) for n in good)
    bad = [*names, "", " llama3.2", "a b", "a..b", "x`id`", "x;id", "x$(id)", "x'y", 'x"y', "ll\u0430ma"]
    assert not any(is_ollama_name(n) for n in bad), [n for n in bad if is_ollama_name(n)]
    assert listed_name("llama3.2") == "llama3.2"
    assert listed_name("a{b}$c") == f"a{{{{b}}}}$$c ({NOT_OLLAMA})"


def test_did_you_mean_never_offers_a_name_outside_the_grammar(emu, names):
    assert close_models("llama3.2$HOM", names) == [] and close_models("llama{3.3}", names) == []
    with Client(emu.url) as client, pytest.raises(ModelNotFound) as info:
        client.chat("llama3.2HOME", messages=[{"role": "user", "content": "hi"}])  # closest: llama3.2$HOME
    text = str(info.value) + " " + " ".join(info.value.suggestions)
    assert not any(n in text for n in names), text
    assert not any(n in info.value.suggestions for n in names)


@pytest.mark.kernel
def test_a_listed_name_pasted_into_a_magic_never_runs(emu, names, marker):
    with Kernel(env={"OLLAMA_HOST": emu.url}) as k:
        k.run("%load_ext ollama_nb").check()
        listing = k.run("%ollama list").check()
        text = "\n".join(d["content"]["data"]["text/plain"] for d in listing.displays)
        html = "\n".join(d["content"]["data"]["text/html"] for d in listing.displays)
        for name in names:
            assert listed_name(name) in text and NOT_OLLAMA in html, (name, text)
        shown = listed_name(names[0]).removesuffix(f" ({NOT_OLLAMA})")
        k.run(f"%ollama show {shown}")  # what a user copies from the list
        k.run(f"%%ollama -m {shown}\nhi")
        ran = lambda: list(marker.parent.glob(marker.name + "*"))  # noqa: E731 - "@F@" is marker-<id>
        assert not ran(), "pasting the listed form ran the Python inside the name"
        # The hazard is real: the name as the server sent it runs when pasted.
        k.run(f"%ollama show {names[0]}")
        assert ran(), "the raw name did not run: this test no longer shows the hazard"
        for path in ran():
            path.unlink()


@pytest.mark.parametrize("host", ["http://h/$(touch @F@)", "http://h/`touch @F@`", "http://h/;touch @F@;", "http://h/'$(touch @F@)'"])
def test_the_curl_line_pasted_into_a_shell_runs_nothing(tmp_path, host):
    marker = tmp_path / "ran"
    client = SimpleNamespace(host=host.replace("@F@", str(marker)), has_key=True)
    line = curl_command(client, "/api/chat", {"model": "m", "messages": [{"role": "user", "content": "it's $(id)"}]})
    # curl replaced by a function that prints its arguments: the shell parses the line as pasted.
    script = 'curl() { printf "%s\\n" "$@"; }\n' + line + "\n"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "OLLAMA_API_KEY": "k"}).stdout
    assert not marker.exists(), line
    assert out.splitlines()[0] == client.host + "/api/chat", out
    assert "it's $(id)" in out
