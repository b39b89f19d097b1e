"""The emulator refuses web pages from foreign origins as a real Ollama does (issue 24, item 7).

ollama/ollama's ``envconfig.AllowedOrigins`` and gin-contrib/cors v1.7.2 (read at fb30760): a request
whose ``Origin`` is not allowed gets a bare 403 before any route runs; ``OLLAMA_ORIGINS`` adds origins.
A cross-origin "simple" request (``Content-Type: text/plain``) needs no preflight, so without this a
page on any site could make the ``./dev lab`` emulator copy or delete models.
"""

from __future__ import annotations

import pytest
import requests

from ollama_nb.testing import Emulator
from ollama_nb.testing._origins import ORIGINS_ENV, Origins

EVIL = "https://evil.example"


def simple_post(emu: Emulator, path: str, body: str, origin: str | None) -> requests.Response:
    """What a page's ``fetch(url, {method: "POST", mode: "no-cors", body})`` sends."""
    headers = {"Content-Type": "text/plain;charset=UTF-8"}
    if origin is not None:
        headers["Origin"] = origin
    return requests.post(emu.url + path, data=body.encode(), headers=headers, timeout=10)


COPY = '{"source": "llama3.2", "destination": "stolen"}'


def test_a_foreign_page_cannot_copy_a_model():
    with Emulator() as emu:
        refused = simple_post(emu, "/api/copy", COPY, EVIL)
        assert refused.status_code == 403
        assert refused.content == b""
        assert "access-control-allow-origin" not in {k.lower() for k in refused.headers}
        assert "stolen:latest" not in emu.model_names()
        assert emu.last_request is not None and emu.last_request.headers["origin"] == EVIL  # it did arrive


@pytest.mark.parametrize("origin", [None, "http://localhost:8888", "http://127.0.0.1:5173", "https://localhost",
                                    "http://0.0.0.0:3000", "vscode-webview://abc", "app://ollama"])
def test_local_pages_and_plain_clients_still_work(origin):
    with Emulator() as emu:
        done = simple_post(emu, "/api/copy", COPY, origin)
        assert done.status_code == 200, done.text
        assert "stolen:latest" in emu.model_names()
        if origin is not None:  # allowed, so the page may read the answer
            assert done.headers["Access-Control-Allow-Origin"] == origin
            assert done.headers["Vary"] == "Origin"


def test_same_origin_is_not_cross_origin():
    """gin-contrib/cors lets ``Origin: http://<Host>`` through whatever the list says."""
    with Emulator(host="127.0.0.1") as emu:
        host = emu.url.split("//", 1)[1]
        assert simple_post(emu, "/api/copy", COPY, f"http://{host}").status_code == 200


@pytest.mark.parametrize("origin", ["https://localhost.evil.example", "http://127.0.0.1.evil.example",
                                    "null", "http://LOCALHOST:1", "https://evil.example/http://localhost"])
def test_look_alike_origins_are_refused(origin):
    with Emulator() as emu:
        assert simple_post(emu, "/api/copy", COPY, origin).status_code == 403
        assert "stolen:latest" not in emu.model_names()


def test_every_route_is_guarded_even_streaming_and_unknown_ones():
    with Emulator() as emu:
        for method, path in (("POST", "/api/chat"), ("POST", "/api/pull"), ("DELETE", "/api/delete"),
                             ("GET", "/api/tags"), ("GET", "/no/such/route"), ("POST", "/v1/chat/completions")):
            answer = requests.request(method, emu.url + path, headers={"Origin": EVIL}, timeout=10)
            assert answer.status_code == 403, (method, path)
        assert emu.model_names().count("llama3.2:latest") == 1


def test_ollama_origins_adds_a_site_and_a_preflight_is_answered(monkeypatch):
    monkeypatch.setenv(ORIGINS_ENV, "https://notebooks.example,https://*.trusted.example")
    with Emulator() as emu:
        assert simple_post(emu, "/api/copy", COPY, "https://notebooks.example").status_code == 200
        assert simple_post(emu, "/api/copy", COPY, "https://a.trusted.example").status_code == 200
        assert simple_post(emu, "/api/copy", COPY, EVIL).status_code == 403
        pre = requests.options(emu.url + "/api/chat", headers={"Origin": "https://notebooks.example",
                                                               "Access-Control-Request-Method": "POST"}, timeout=10)
        assert pre.status_code == 204
        assert pre.headers["Access-Control-Allow-Origin"] == "https://notebooks.example"
        assert "POST" in pre.headers["Access-Control-Allow-Methods"].split(",")
        assert "Authorization" in pre.headers["Access-Control-Allow-Headers"].split(",")


def test_ollama_origins_star_allows_every_page(monkeypatch):
    monkeypatch.setenv(ORIGINS_ENV, "*")
    with Emulator() as emu:
        done = simple_post(emu, "/api/copy", COPY, EVIL)
        assert done.status_code == 200
        assert done.headers["Access-Control-Allow-Origin"] == "*"


def test_a_bad_origin_stops_the_start_with_the_reason():
    with pytest.raises(ValueError, match="origins must contain"):
        Origins.from_env({ORIGINS_ENV: "notebooks.example"})
    with pytest.raises(ValueError, match="only one"):
        Origins.from_env({ORIGINS_ENV: "https://*.*.example"})
    assert Origins.from_env({ORIGINS_ENV: "'https://quoted.example'"}).allows("https://quoted.example")
