"""A student's client against a busy or limited server: what is retried, what is not, what the
message says, and that Stop ends a wait. Everything goes through the emulator on loopback."""

from __future__ import annotations

import random
import threading

import pytest

from ollama_nb import (
    Client,
    CloudDisabled,
    ProxyError,
    RateLimited,
    ResponseError,
    Retry,
    RetryCancelled,
    ServerBusy,
    SigninRequired,
    UsageLimit,
)
from ollama_nb._http_errors import page_title, retry_after, status_error
from ollama_nb._retry import RetryWait
from ollama_nb.testing import Emulator

HI = [{"role": "user", "content": "hi"}]
QUICK = Retry(attempts=5, budget=30, first=0.01, longest=0.05)


@pytest.fixture()
def emu():
    with Emulator() as emulator:
        yield emulator


def chats(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if r.path == "/api/chat")


def test_busy_503_is_retried_with_backoff_and_the_waits_are_reported(emu):
    emu.refuse("busy", times=2)
    waits: list[RetryWait] = []
    reply = Client(emu.url, retries=QUICK, on_retry=waits.append).chat("llama3.2", HI)
    assert reply.done and reply.content
    assert chats(emu) == 3
    assert [(w.attempt, w.attempts) for w in waits] == [(1, 5), (2, 5)]
    assert str(waits[1]) == "server busy, retrying in 1 s (2 of 5)"
    assert all(w.seconds <= QUICK.longest for w in waits)


def test_retry_after_is_honoured_never_shortened(emu):
    emu.refuse("overloaded", retry_after=0.3)
    waits: list[RetryWait] = []
    Client(emu.url, retries=QUICK).chat("llama3.2", HI, on_retry=waits.append)
    assert len(waits) == 1 and 0.3 <= waits[0].seconds <= 0.3 + QUICK.jitter
    assert "Server overloaded" in waits[0].error.error


def test_streaming_requests_are_retried_before_the_first_chunk(emu):
    emu.refuse("busy")
    stream = Client(emu.url, retries=QUICK).chat("llama3.2", HI, stream=True)
    assert "".join(c["message"]["content"] for c in stream) and stream.reply.done


def test_still_busy_after_every_retry_says_so_and_what_to_do(emu):
    emu.refuse("busy", times=10)
    with pytest.raises(ServerBusy) as info:
        Client(emu.url, retries=Retry(attempts=2, first=0.01, longest=0.01)).chat("llama3.2", HI)
    err = info.value
    assert isinstance(err, ResponseError) and err.status_code == 503 and err.attempts == 2
    assert "server busy" in err.error and "tried 3 times" in err.hint and "OLLAMA_NUM_PARALLEL" in err.hint
    assert chats(emu) == 3


def test_retries_zero_fails_at_once(emu):
    emu.refuse("busy")
    with pytest.raises(ServerBusy):
        Client(emu.url, retries=0).chat("llama3.2", HI)
    assert chats(emu) == 1


def test_a_retry_after_beyond_the_budget_gives_up_without_waiting(emu):
    emu.refuse("busy", retry_after=600)
    waits: list[RetryWait] = []
    with pytest.raises(ServerBusy) as info:
        Client(emu.url, retries=Retry(budget=60), on_retry=waits.append).chat("llama3.2", HI)
    assert waits == [] and info.value.retry_after == 600 and chats(emu) == 1


@pytest.mark.parametrize("kind", ["hourly", "session", "weekly"])
def test_usage_limits_are_not_retried_and_name_the_limit_and_the_upgrade_page(emu, kind):
    emu.refuse(kind, retry_after=1)
    with pytest.raises(UsageLimit) as info:
        Client(emu.url, retries=QUICK).chat("llama3.2", HI)
    err = info.value
    assert err.status_code == 429 and err.limit == kind and chats(emu) == 1
    assert f"{kind} usage limit" in err.hint and "https://ollama.com/upgrade" in err.hint
    assert "usage limit" in str(err)


def test_429_with_retry_after_is_retried_without_is_not(emu):
    emu.refuse("ratelimit", retry_after=0.05)
    waits: list[RetryWait] = []
    Client(emu.url, retries=QUICK, on_retry=waits.append).chat("llama3.2", HI)
    assert str(waits[0]).startswith("too many requests, retrying in")
    emu.refuse("ratelimit")
    with pytest.raises(RateLimited) as info:
        Client(emu.url, retries=QUICK).chat("llama3.2", HI)
    assert not isinstance(info.value, UsageLimit) and "wait a moment" in info.value.hint


def test_stop_ends_the_wait_at_once_and_nothing_is_sent_again(emu):
    emu.refuse("busy", retry_after=60)
    stop = threading.Event()
    waits: list[RetryWait] = []

    def on_wait(wait: RetryWait) -> None:
        waits.append(wait)
        threading.Thread(target=stop.set).start()  # the Stop button, on another thread

    with pytest.raises(RetryCancelled) as info:
        Client(emu.url, retries=Retry(budget=120)).chat("llama3.2", HI, on_retry=on_wait, cancel_retry=stop)
    assert len(waits) == 1 and chats(emu) == 1
    assert "Stopped while waiting to retry" in str(info.value) and isinstance(info.value.cause, ServerBusy)


def test_cloud_model_not_signed_in_says_run_ollama_signin(emu):
    with pytest.raises(SigninRequired) as info:
        Client(emu.url).chat("gpt-oss:120b-cloud", HI)
    err = info.value
    assert err.status_code == 401 and err.signin_url.startswith("https://ollama.com/connect?")
    assert "`ollama signin`" in err.hint and "on the machine where Ollama runs" in err.hint
    emu.set_cloud("signed-in")
    assert Client(emu.url).chat("gpt-oss:120b-cloud", HI).content


def test_cloud_disabled_is_its_own_error(emu):
    emu.set_cloud("disabled")
    with pytest.raises(CloudDisabled) as info:
        Client(emu.url).generate("gpt-oss:120b-cloud", "hi")
    assert info.value.status_code == 403 and "local model" in info.value.hint


def test_a_silent_digest_verification_never_trips_the_silence_limit(emu):
    client = Client(emu.url, timeout=(5, 0.5))  # half a second of silence allowed; verifying takes 1.5 s
    statuses = [p["status"] for p in client.pull("slowverify", stream=True)]
    assert statuses[-1] == "success" and "verifying sha256 digest" in statuses
    assert "slowverify:latest" in emu.model_names()


def test_default_silence_limit_outlasts_the_servers_load_timeout():
    assert Client("http://127.0.0.1:9").timeout[1] > 300


# --------------------------------------------------------------------------- pure parts


def test_a_proxy_page_is_summarised_by_its_title_never_dumped():
    page = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
            "</h1></center>\r\n<hr><center>nginx/1.26.3</center>\r\n</body>\r\n</html>\r\n")
    err = status_error(502, page, {"Content-Type": "text/html"}, host="http://127.0.0.1:8080")
    assert isinstance(err, ProxyError) and err.title == "502 Bad Gateway"
    assert err.message == "A proxy between you and Ollama answered 502 Bad Gateway."
    assert "<" not in str(err) and "nginx/1.26.3" not in str(err) and "Ollama Cloud" not in str(err)
    assert page_title("<title>  a\n  b &amp; c</title><title>second</title>") == "a b & c"
    assert page_title("<p>no title") == "" and len(page_title("<title>" + "x" * 500)) <= 120
    assert status_error(504, "<html><body>timeout</body></html>", {}, host="h").message.endswith("answered 504 Gateway Timeout.")


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after({"retry-after": "7"}) == 7
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past: now
    assert retry_after({"Retry-After": "soon"}) is None and retry_after({}) is None


def test_backoff_doubles_up_to_the_longest_wait_and_jitter_only_shortens():
    policy = Retry(first=1, longest=8, jitter=0.5)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8)]:
        assert ceiling * 0.5 <= policy.delay(attempt, None, rng) <= ceiling
    assert Retry.of(0).attempts == 0 and Retry.of(3).attempts == 3 and Retry.of(None) == Retry()
    with pytest.raises(ValueError):
        Retry.of(-1)


def test_an_unknown_cloud_model_is_not_told_to_pull(emu):
    from ollama_nb import ModelNotFound

    emu.set_cloud("signed-in")
    with pytest.raises(ModelNotFound) as info:
        Client(emu.url).chat("gpt-oss:999b-cloud", HI)
    assert "pull" not in info.value.hint and "https://ollama.com/search?c=cloud" in info.value.hint


def test_a_long_wait_counts_down_each_second(emu):
    emu.refuse("busy", retry_after=3.2)
    waits: list[RetryWait] = []
    Client(emu.url, retries=Retry(jitter=0)).hooked(on_retry=waits.append).chat("llama3.2", HI)
    assert str(waits[0]) == "server busy, retrying in 3 s (1 of 5)"
    assert len(waits) >= 2 and [w.tick for w in waits] == list(range(len(waits)))
    left = [w.remaining for w in waits[1:]]
    assert left == sorted(left, reverse=True) and all(0.5 <= x < 3.2 for x in left)
    assert all(w.attempt == 1 for w in waits)
