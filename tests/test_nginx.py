"""The client through a real nginx (Debian's package) in front of the emulator, as a class server
runs it: every refusal keeps its meaning through the proxy, nginx's own pages are summarised, and
with the recommended settings a stream stays live."""

from __future__ import annotations

import pytest
import requests
from nginx_helpers import LIVE_SETTINGS, nginx_emulator, nginx_proxy  # noqa: F401 - fixtures emu, proxy

from ollama_nb import (
    Client,
    CloudDisabled,
    HostRefused,
    ProxyError,
    RateLimited,
    Retry,
    ServerBusy,
    SigninRequired,
    UsageLimit,
)
from ollama_nb._retry import RetryWait

HI = [{"role": "user", "content": "hi"}]
QUICK = Retry(attempts=5, budget=30, first=0.01, longest=0.05)


@pytest.fixture(autouse=True)
def fresh(emu):
    emu.set_cloud("signed-out")
    yield
    emu._local("reset").cloud.clear()


@pytest.mark.parametrize("site", ["live", "buffered"])
def test_busy_503_with_and_without_retry_after_is_retried_through_nginx(emu, proxy, site):
    emu.refuse("busy")
    emu.refuse("overloaded", retry_after=0.1)
    waits: list[RetryWait] = []
    reply = Client(proxy.url(site), retries=QUICK, on_retry=waits.append).chat("llama3.2", HI)
    assert reply.done and reply.content
    assert [w.error.status_code for w in waits] == [503, 503]
    assert "server busy" in waits[0].error.error and waits[1].seconds >= 0.1  # Retry-After passed through


def test_still_busy_through_nginx_is_server_busy(emu, proxy):
    emu.refuse("busy", times=3)
    with pytest.raises(ServerBusy) as info:
        Client(proxy.url("live"), retries=Retry(attempts=2, first=0.01, longest=0.01)).chat("llama3.2", HI)
    assert info.value.attempts == 2 and "server busy" in info.value.error


@pytest.mark.parametrize("kind", ["hourly", "session", "weekly"])
def test_usage_limits_through_nginx(emu, proxy, kind):
    emu.refuse(kind)
    with pytest.raises(UsageLimit) as info:
        Client(proxy.url("live"), retries=QUICK).chat("llama3.2", HI)
    assert info.value.limit == kind and "https://ollama.com/upgrade" in info.value.hint


def test_rate_limit_with_retry_after_through_nginx(emu, proxy):
    emu.refuse("ratelimit", retry_after=0.05)
    assert Client(proxy.url("live"), retries=QUICK).chat("llama3.2", HI).done
    emu.refuse("ratelimit")
    with pytest.raises(RateLimited):
        Client(proxy.url("live"), retries=QUICK).chat("llama3.2", HI)


def test_signin_and_cloud_disabled_through_nginx(emu, proxy):
    with pytest.raises(SigninRequired) as info:
        Client(proxy.url("live")).chat("gpt-oss:120b-cloud", HI)
    assert info.value.signin_url.startswith("https://ollama.com/connect?")
    emu.set_cloud("disabled")
    with pytest.raises(CloudDisabled):
        Client(proxy.url("live")).chat("gpt-oss:120b-cloud", HI)


def test_nginx_502_page_is_summarised_not_dumped(proxy):
    with pytest.raises(ProxyError) as info:
        Client(proxy.url("dead"), retries=QUICK).chat("llama3.2", HI)
    err = info.value
    assert err.status_code == 502 and err.title == "502 Bad Gateway"
    assert str(err).startswith("A proxy between you and Ollama answered 502 Bad Gateway.")
    assert "<" not in str(err) and "nginx" not in str(err) and "Ollama Cloud" not in str(err)
    assert "is Ollama running there?" in err.hint


def test_nginx_504_when_the_model_takes_longer_than_its_read_timeout(emu, proxy):
    with pytest.raises(ProxyError) as info:
        Client(proxy.url("impatient"), retries=QUICK).chat("loading", HI)
    assert info.value.status_code == 504 and "504 Gateway Time" in info.value.title
    assert "proxy_read_timeout" in info.value.hint
    assert emu.wait_for_disconnect(30)  # nginx gave up on the upstream too


def test_the_live_settings_stream_each_line_as_it_comes(emu, proxy):
    """With buffering off the first token arrives while the model is still writing: the student
    leaves after it, and the emulator records that the answer was abandoned mid-way."""
    stream = Client(proxy.url("live")).chat("slow", HI, stream=True)
    first = next(iter(stream))
    assert first["message"]["content"]
    stream.close()
    assert emu.wait_for_disconnect(30)
    assert stream.reply.status == "stopped" and stream.reply.chunks < 200


def test_streaming_answers_are_intact_through_both_settings(emu, proxy):
    for site in ("live", "buffered"):
        direct = Client(emu.url).chat("llama3.2", HI, options={"seed": 3})
        proxied = "".join(c["message"]["content"] for c in
                          Client(proxy.url(site)).chat("llama3.2", HI, options={"seed": 3}, stream=True))
        assert proxied == direct.content


def test_readme_shows_the_live_settings():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for line in LIVE_SETTINGS.splitlines():
        directive = line.split("#")[0].strip()
        assert directive in readme, f"README's nginx section lacks {directive!r}"


def test_plain_requests_see_the_same_statuses(emu, proxy):
    emu.refuse("busy", retry_after=2)
    r = requests.post(proxy.url("live") + "/api/chat", json={"model": "llama3.2", "messages": HI}, timeout=10)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"


def test_a_proxy_forwarding_its_public_name_is_refused_by_ollamas_host_guard(emu, proxy):
    """nginx's default `Host $host` sends the name students typed; Ollama on loopback refuses it.
    The README's settings send `Host localhost` and pass."""
    headers = {"Host": "ollama.school.example"}
    with pytest.raises(HostRefused) as info:
        Client(proxy.url("buffered"), headers=headers).list()
    assert "proxy_set_header Host localhost;" in info.value.hint
    assert Client(proxy.url("live"), headers=headers).list()["models"]


def test_nginx_503_page_is_retried_then_summarised(proxy):
    waits: list[RetryWait] = []
    with pytest.raises(ProxyError) as info:
        Client(proxy.url("maintenance"), retries=Retry(attempts=2, first=0.01, longest=0.01)).chat(
            "llama3.2", HI, on_retry=waits.append
        )
    assert info.value.status_code == 503 and info.value.title.startswith("503 Service")
    assert [str(w).split(",")[0] for w in waits] == ["the proxy says the service is unavailable"] * 2
    assert "<" not in str(info.value)
