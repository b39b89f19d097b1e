"""Key hygiene, in this process: a server that echoes the Authorization header into every failure
(tests/echo_auth.py, a real HTTP server on loopback) never gets the key into an error, a widget's
synced state or a conversation record. The same, end to end in a kernel and a saved notebook, is in
tests/test_keys_kernel.py.
"""

from __future__ import annotations

import json
import traceback

import pytest
from echo_auth import EchoAuthServer

from ollama_nb import ChatWidget, Client, Conversation, ModelBrowser, OllamaError
from ollama_nb._errors import AuthenticationError, ResponseError, ServerStreamError
from ollama_nb._redact import MASK, mask_data, mask_keys, redact, remember

KEY = "sk-test-7f3a9c1e5b2d4f6a8c0e"


@pytest.fixture(scope="module")
def echo():
    with EchoAuthServer() as server:
        yield server


@pytest.fixture
def client(echo):
    with Client(echo.url, api_key=KEY) as c:
        yield c


def leaks(text: str) -> list[str]:
    """What of the credential is in ``text``: the key, its JSON form, or the word of the header."""
    return [s for s in (KEY, json.dumps(KEY)[1:-1], "Bearer", "bearer ") if s in text]


def error_texts(err: BaseException) -> str:
    """Everything a user could see of an exception: str, repr, args, attributes, the traceback."""
    from IPython.core.ultratb import VerboseTB

    # %xmode Verbose prints every frame's locals; from the first frame below this test's own (whose
    # source lines name the header on purpose).
    tb = err.__traceback__.tb_next if err.__traceback__ is not None else None
    verbose = VerboseTB(theme_name="nocolor").text(type(err), err, tb)
    parts = [str(err), repr(err), repr(err.args), "".join(traceback.format_exception(err)), verbose]
    for name in ("message", "hint", "error", "cause", "line"):
        if hasattr(err, name):
            parts.append(repr(getattr(err, name)))
    reply = getattr(err, "reply", None)
    if reply is not None:
        parts += [reply.content, repr(reply), repr(reply.error)]
    return "\n".join(parts)


# --------------------------------------------------------------------------- the redactor


def test_redact_masks_every_credential_shape():
    remember(KEY)
    cases = {
        f'{{"error":"Authorization: Bearer {KEY}"}}': '{"error":"Authorization: [redacted]"}',
        f"map[Authorization:[Bearer {KEY}] Accept:[*/*]]": "map[Authorization:[[redacted]] Accept:[*/*]]",
        "<pre>Bearer abc.def-ghi</pre>": "<pre>[redacted]</pre>",  # any bearer token, known or not
        "Authorization: Basic dXNlcjpwYXNz": "Authorization: [redacted]",
        "proxy-authorization=Basic Zm9vOmJhcg==": "proxy-authorization=[redacted]",
        "x-api-key: 12345678": "x-api-key: [redacted]",
        "GET http://user:s3cret@host:11434/api/tags": "GET http://[redacted]@host:11434/api/tags",
        "https://h/x?api_key=abc123&model=m&token=zz": "https://h/x?api_key=[redacted]&model=m&token=[redacted]",
        f"rejected {KEY} twice: {KEY}": "rejected [redacted] twice: [redacted]",
    }
    for text, expected in cases.items():
        assert redact(text) == expected, text
        assert redact(expected) == expected, "redacting twice changes nothing"


def test_redact_masks_the_escaped_forms_of_a_known_key():
    odd = "k&y/with+odd\"chars=="
    remember(odd)
    for form in (odd, json.dumps(odd)[1:-1], "k%26y%2Fwith%2Bodd%22chars%3D%3D", "k&amp;y/with+odd&quot;chars=="):
        assert redact(f"got {form} here") == f"got {MASK} here", form
        assert mask_keys(f"got {form} here") == f"got {MASK} here", form


def test_prose_about_credentials_is_left_alone_by_mask_keys():
    remember(KEY)
    prose = "Send a Bearer token in the Authorization header; the api key is on your settings page."
    assert mask_keys(prose) == prose
    assert redact("the Authorization header is missing") == "the Authorization header is missing"
    state = {"messages": [{"content": prose}], "n": 1}
    assert mask_data(state) is state, "nothing to mask: the same object back, nothing copied"
    assert mask_data({"a": [f"x{KEY}"]}) == {"a": [f"x{MASK}"]}


def test_the_environment_key_is_known_without_a_client(monkeypatch):
    other = "env-only-key-0123456789"
    monkeypatch.setenv("OLLAMA_API_KEY", other)
    assert mask_keys(f"echo {other}") == f"echo {MASK}"


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "model, kind, status",
    [
        ("e401", AuthenticationError, 401),
        ("e403", AuthenticationError, 403),
        ("e500", ResponseError, 500),
        ("e502", ResponseError, 502),
        ("midstream", ServerStreamError, None),
    ],
)
@pytest.mark.parametrize("route", ["chat", "generate"])
def test_an_echoed_key_never_reaches_the_error(echo, client, model, kind, status, route):
    with pytest.raises(kind) as info:
        if route == "chat":
            client.chat(model, [{"role": "user", "content": "hi"}])
        else:
            client.generate(model, "hi")
    err = info.value
    assert echo.requests[-1][2] == f"Bearer {KEY}", "the server did get (and echo) the key"
    assert leaks(error_texts(err)) == []
    if model != "e502":  # an HTML page is summarised by its <title> (ProxyError), never shown
        assert MASK in err.message, "the message still says what the server said, minus the key"
    if status is not None:
        assert err.status_code == status


def test_streamed_errors_and_management_routes_are_clean_too(echo, client):
    with pytest.raises(ServerStreamError) as info:
        for _ in client.chat("midstream", [{"role": "user", "content": "hi"}], stream=True):
            pass
    assert leaks(error_texts(info.value)) == []
    assert info.value.reply is not None and info.value.reply.content == "Partial answer. "
    with pytest.raises(ResponseError) as shown:
        client.show("e401")
    assert leaks(error_texts(shown.value)) == []
    with pytest.raises(OllamaError) as pulled:
        client.pull("anything")
    assert leaks(error_texts(pulled.value)) == []
    echo.fail_tags = True
    try:
        with pytest.raises(AuthenticationError) as listed:
            client.list()
    finally:
        echo.fail_tags = False
    assert leaks(error_texts(listed.value)) == []
    assert "Bearer" not in repr(client) and KEY not in repr(client)


# --------------------------------------------------------------------------- widgets and history


class Sent:
    """Every comm message a widget sends (its ``_send``), as JSON text."""

    def __init__(self, widget) -> None:
        self.msgs: list[str] = []
        widget._send = lambda msg, buffers=None: self.msgs.append(json.dumps(msg))

    def text(self) -> str:
        return "\n".join(self.msgs)


def test_chat_widget_state_and_history_never_carry_the_key(echo, client):
    conv = Conversation()
    chat = ChatWidget(client=client, conversation=conv)
    for t in chat._tasks.threads():
        t.join(10)
    sent = Sent(chat)
    for model in ("e401", "e403", "e500", "e502", "midstream", "echo"):
        chat.model = model
        chat.ask(f"ask {model}")
    answers = [m for m in chat.messages if m["role"] == "assistant"]
    assert [bool(m["error"]) for m in answers] == [True] * 5 + [False]
    assert answers[-1]["content"].startswith(f"Your key is {MASK}."), "the hostile answer, key masked"
    state = json.dumps(chat.get_state())
    assert leaks(state) == []
    assert leaks(json.dumps(conv.history())) == []
    assert leaks(json.dumps(conv.messages)) == [], "the next request does not send the key back either"
    assert leaks(sent.text()) == [], "deltas, partials and trait updates"
    data, _ = chat._repr_mimebundle_()
    assert leaks(json.dumps(data)) == []
    assert sum(1 for r in echo.requests if r[2] == f"Bearer {KEY}") >= 6
    echoed = client.chat("echo", [{"role": "user", "content": "hi"}])
    assert KEY in echoed.content, "the Reply itself keeps the server's text as sent (it is the data)"
    assert leaks(repr(echoed)) == [] and leaks(json.dumps(echoed._repr_mimebundle_())) == []
    chat.close()


def test_model_browser_state_never_carries_the_key(echo, client):
    echo.fail_tags = True
    try:
        browser = ModelBrowser(client=client)
        browser._join()
    finally:
        echo.fail_tags = False
    assert browser.error.get("action") == "refresh"
    assert leaks(json.dumps(browser.get_state())) == []
    with pytest.raises(OllamaError):
        browser.pull("anything")
    assert browser.pulls["anything"]["state"] == "failed"
    assert leaks(json.dumps(browser.get_state())) == []
    browser.refresh()
    browser.selected = "e500"
    browser._join()
    assert browser.details.get("failed")
    state = json.dumps(browser.get_state())
    assert MASK in state and leaks(state) == []
    data, _ = browser._repr_mimebundle_()
    assert leaks(json.dumps(data)) == []
    browser.close()


# --------------------------------------------------------------------------- proxies


def test_loopback_hosts_bypass_environment_proxies(emu, monkeypatch):
    import requests
    from loopback_proxy import LoopbackProxy

    with LoopbackProxy() as proxy:
        for name, value in proxy.env().items():
            monkeypatch.setenv(name, value)
        # The control: with these variables, plain requests goes through the proxy, even to 127.0.0.1.
        assert requests.get(f"{emu.url}/api/version", timeout=10).ok
        assert [r[:2] for r in proxy.requests] == [("GET", f"{emu.url}/api/version")]
        proxy.requests.clear()
        port = emu.url.rsplit(":", 1)[1]
        for host in (emu.url, f"http://localhost:{port}"):
            with Client(host, api_key=KEY) as c:
                assert c.list()["models"]
                assert c.chat("llama3.2", [{"role": "user", "content": "hi"}]).done
        assert proxy.requests == [], "nothing for this machine went through the proxy"
        assert sum(1 for r in emu.requests if r.path == "/api/chat") == 2
        # A redirect to this machine goes direct too (requests re-reads the environment on redirects).
        with EchoAuthServer() as redirecting, Client(redirecting.url) as c:
            redirecting.redirect_to = f"http://localhost:{port}/api/version"
            assert c.version()["version"]
        assert proxy.requests == []
        assert emu.requests[-1].path == "/api/version"
        # Other hosts keep the environment's proxy: the web tools (ollama.com) tunnel through it with
        # CONNECT, which carries no Authorization. (This proxy refuses tunnels: nothing leaves.)
        with Client(emu.url, api_key=KEY) as c, pytest.raises(OllamaError):
            c.web_search("anything")
        assert proxy.requests == [("CONNECT", "ollama.com:443", "")]


def test_a_key_split_across_chunks_never_reaches_a_view_in_two_halves():
    """The widget's deltas are masked one by one; a key whose halves arrive in two chunks (and would
    leave in two deltas) is held back until it is whole, then masked."""
    import threading

    from ollama_nb._reply import Reply
    from ollama_nb._widgets._deltas import DeltaStream

    remember(KEY)
    sent: list[dict] = []
    arrived = threading.Condition()

    def emit(msg: dict) -> None:
        with arrived:
            sent.append(mask_data(msg))  # what ChatWidget._emit does
            arrived.notify_all()

    def wait_for(count: int) -> None:
        with arrived:
            assert arrived.wait_for(lambda: len(sent) >= count, timeout=10), sent

    reply = Reply("m")
    deltas = DeltaStream("t1", emit, reply, model="m")
    deltas.start()
    half = len(KEY) // 2
    reply.add({"message": {"content": f"The key is {KEY[:half]}"}})
    deltas.poke()
    wait_for(1)  # the first text goes at once: everything but the possible start of a key
    assert sent[0]["content"] == "The key is "
    assert deltas.snapshot()["content"] == "The key is ", "a view that asks mid-stream gets no half either"
    reply.add({"message": {"content": f"{KEY[half:]} and more."}})
    deltas.poke()
    wait_for(3)
    deltas.close()
    whole = "".join(m["content"] for m in sent if m["type"] == "delta")
    assert whole == f"The key is {MASK} and more."


def test_a_key_set_in_the_environment_later_reaches_the_shared_client(echo, monkeypatch):
    # A student runs a cell first, then sets os.environ["OLLAMA_API_KEY"]: the next request of the
    # shared client (the magic's, the widgets') carries it; unset again, none does.
    from ollama_nb import _config as config

    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    config.forget_clients()
    try:
        config.client_for(echo.url).list()
        monkeypatch.setenv("OLLAMA_API_KEY", KEY)
        config.client_for(echo.url).list()
        monkeypatch.delenv("OLLAMA_API_KEY")
        config.client_for(echo.url).list()
    finally:
        config.forget_clients()
    sent = [auth for method, path, auth in echo.requests if path == "/api/tags"][-3:]
    assert sent == ["", f"Bearer {KEY}", ""]
