"""What a student sees in a ``%%ollama`` cell when the class server is busy or limited, in a real
kernel, straight to the emulator and through a real nginx: the wait shows in place of the answer,
the answer follows; limits, sign-in and proxy pages end in one clear line; interrupt ends a wait."""

from __future__ import annotations

import threading

import pytest
from kernel_helpers import Kernel
from nginx_helpers import nginx_emulator, nginx_proxy  # noqa: F401 - fixtures emu, proxy

from ollama_nb.testing import Emulator

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def kernel(emu):
    with Kernel(env={"OLLAMA_HOST": emu.url}) as k:
        k.run("%load_ext ollama_nb").check()
        yield k


@pytest.fixture(params=["direct", "nginx"])
def host(request, emu, proxy):
    emu.set_cloud("signed-out")
    emu._local("reset").cloud.clear()
    return emu.url if request.param == "direct" else proxy.url("live")


def notices(ex) -> list[str]:
    return [m["content"]["data"]["text/plain"] for m in ex.of("display_data", "update_display_data")
            if 'class="onb-notice"' in m["content"]["data"].get("text/html", "")]


def error_text(ex) -> str:
    blocks = [m["content"]["data"]["text/plain"] for m in ex.of("display_data", "update_display_data")
              if 'class="onb-error"' in m["content"]["data"].get("text/html", "")]
    assert blocks, [m["content"] for m in ex.iopub]
    return blocks[-1]


def clean(ex) -> None:
    assert ex.status == "ok" and not ex.errors and "Traceback" not in ex.all_text()


@pytest.mark.parametrize("retry_after", [0.2, None])
def test_busy_shows_the_wait_then_the_answer(kernel, emu, host, retry_after):
    emu.refuse("busy", retry_after=retry_after)
    ex = kernel.run(f"%%ollama -m llama3.2 --host {host} --chat busy --new\nhello")
    clean(ex)
    assert notices(ex) and notices(ex)[0].startswith("server busy, retrying in 1 s (1 of 5)")
    assert "Interrupt the kernel to stop waiting" in notices(ex)[0]
    final = ex.final()
    assert final["metadata"]["ollama_nb"]["status"] == "done" and 'class="onb-notice"' not in str(final["data"])


@pytest.mark.parametrize("kind", ["hourly", "session", "weekly"])
def test_usage_limit_names_the_limit_and_links_upgrade(kernel, emu, host, kind):
    emu.refuse(kind, retry_after=1)
    ex = kernel.run(f"%%ollama -m llama3.2 --host {host} --chat limits\nhello")
    clean(ex)
    text = error_text(ex)
    assert f"{kind} usage limit" in text and "https://ollama.com/upgrade" in text and not notices(ex)


def test_signin_and_cloud_disabled(kernel, emu, host):
    ex = kernel.run(f"%%ollama -m gpt-oss:120b-cloud --host {host} --chat cloud\nhello")
    clean(ex)
    assert "`ollama signin`" in error_text(ex)
    emu.set_cloud("disabled")
    ex = kernel.run(f"%%ollama -m gpt-oss:120b-cloud --host {host} --chat cloud\nhello")
    clean(ex)
    assert "cloud models disabled" in error_text(ex)


def test_proxy_pages_are_one_line(kernel, proxy):
    ex = kernel.run(f"%%ollama -m llama3.2 --host {proxy.url('dead')} --chat proxy\nhello")
    clean(ex)
    text = error_text(ex)
    assert text.startswith("A proxy between you and Ollama answered 502 Bad Gateway.") and "<html" not in text
    ex = kernel.run(f"%%ollama -m loading --host {proxy.url('impatient')} --chat proxy\nhello")
    clean(ex)
    assert "answered 504 Gateway Time" in error_text(ex)


def test_interrupt_ends_the_wait_and_nothing_is_sent_again(kernel, emu, host):
    emu.refuse("busy", retry_after=60)
    before = sum(1 for r in emu.requests if r.path == "/api/chat")

    def on_message(msg, ex):
        if 'class="onb-notice"' in msg["content"].get("data", {}).get("text/html", "") and not getattr(ex, "_sent", False):
            ex._sent = True
            threading.Thread(target=kernel.km.interrupt_kernel).start()

    ex = kernel.run(f"%%ollama -m llama3.2 --host {host} --chat waiting\nhello", on_message=on_message)
    assert getattr(ex, "_sent", False) and ex.status == "error"  # Run All stops here
    assert "KeyboardInterrupt" in ex.all_text() and "Traceback" not in ex.all_text()
    assert sum(1 for r in emu.requests if r.path == "/api/chat") == before + 1
    turn = kernel.value("__import__('ollama_nb').Conversation.named('waiting').history()")[-1]
    assert turn["status"] == "interrupted"


def test_ollama_usage_shows_the_cloud_quota_bars():
    key = "usage-key-for-tests"
    with Emulator(key=key) as cloud, Kernel(env={"OLLAMA_HOST": cloud.url}) as k:
        k.run("%load_ext ollama_nb").check()
        cloud.set_legacy_quota(session_left=60, weekly_left=20)  # the share LEFT: 40 % and 80 % used
        k.run(f"import os; os.environ['OLLAMA_API_KEY'] = {key!r}").check()
        ex = k.run(f"%ollama usage --host {cloud.url}")
        clean(ex)
        out = [m for m in ex.of("display_data") if "onb-usage" in m["content"]["data"].get("text/html", "")]
        assert out, [m["content"] for m in ex.iopub]
        html, plain = out[-1]["content"]["data"]["text/html"], out[-1]["content"]["data"]["text/plain"]
        assert 'style="width:40.0%"' in html and 'style="width:80.0%"' in html
        assert "session" in plain and "40.0% used · 60.0% left" in plain and "weekly" in plain
        assert "80.0% used · 20.0% left" in plain and "last 7 days" in plain and key not in html + plain


def test_ollama_usage_without_a_key_says_how_to_give_one(kernel):
    ex = kernel.run("%ollama usage")
    clean(ex)
    assert "%ollama login" in ex.all_text() and "OLLAMA_API_KEY" in ex.all_text()
