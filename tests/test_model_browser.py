"""ModelBrowser without a browser: the view's custom messages go straight to the widget's handler,
and we check what the view would be told (the synced traitlets) and what the server saw (the
emulator's state and request log)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from waiting import wait_until

from ollama_nb import (
    Client,
    ModelBrowser,
    ModelNotFound,
    OllamaError,
    ServerUnreachable,
)
from ollama_nb._widgets import models as models_module
from ollama_nb.testing import Emulator


def send(browser: ModelBrowser, wait: bool = True, **msg) -> None:
    """What the view does: model.send({...}) -> the widget's on_msg callback."""
    browser._on_view_msg(browser, msg, [])
    if wait:
        assert browser._join(15), "background work did not finish"


def names(browser: ModelBrowser) -> list[str]:
    return [m["name"] for m in browser.models]


@pytest.fixture
def browser(client):
    b = ModelBrowser(client=client)
    yield b
    b._join(5)
    b.close()


def test_lists_the_servers_models(emu, browser):
    assert names(browser) == emu.model_names()
    row = next(m for m in browser.models if m["name"] == "llama3.2:latest")
    assert row["size"] > 1e9 and row["parameter_size"] == "3.2B" and row["quantization"] == "Q4_K_M"
    assert row["family"] == "llama" and row["format"] == "gguf" and row["modified_at"]
    assert "tools" in row["capabilities"]
    # A cloud model's few bytes are its manifest: its size reads "cloud", not "384 B".
    cloud = next(m for m in browser.models if m["name"] == "gpt-oss:120b-cloud")
    assert (row["size_text"], cloud["size_text"]) == ("2.0 GB", "cloud")
    assert browser.running == [] and browser.error == {} and browser.busy == ""
    assert browser.host == emu.url and browser.cloud is False


def test_select_shows_details_from_show(emu, browser):
    send(browser, action="select", name="qwen3:latest")
    assert browser.selected == "qwen3:latest"
    d = browser.details
    assert d["name"] == "qwen3:latest"
    assert d["capabilities"] == ["completion", "tools", "thinking"]
    assert d["context_length"] == 40960  # model_info["qwen3.context_length"]
    assert d["architecture"] == "qwen3" and d["parameter_size"] == "8.2B"
    assert "<|im_start|>" in d["template"] and "stop" in d["parameters"]
    assert d["license"] and d["modelfile"].startswith("# Modelfile")
    assert emu.last_request.json == {"model": "qwen3:latest"}

    browser.selected = "llava:latest"  # the Python API moves the pane too
    wait_until(lambda: browser.details.get("name") == "llava:latest" and "capabilities" in browser.details)
    assert "vision" in browser.details["capabilities"]

    send(browser, action="select", name="")
    assert browser.details == {}


def test_pull_streams_progress_at_a_bounded_rate_and_the_model_appears(emu, browser):
    seen: list[dict] = []
    browser.observe(lambda ch: seen.append(ch["new"].get("smollm2:135m") or {}), "pulls")
    started = time.monotonic()
    send(browser, action="pull", name="smollm2:135m")
    elapsed = time.monotonic() - started

    final = browser.pulls["smollm2:135m"]
    assert final["state"] == "done" and final["status"] == "success"
    assert final["completed"] == final["total"] > 270e6
    assert final["layers"] and all(layer["completed"] == layer["total"] for layer in final["layers"])
    running = [s["completed"] for s in seen if s.get("state") == "running" and s.get("total")]
    assert len(set(running)) >= 3, f"progress did not move: {running}"
    assert running == sorted(running)
    assert any(s.get("speed") for s in seen) and any(s.get("eta") for s in seen)
    # <= 10 updates a second (+2 for the first and the final state)
    assert len(seen) <= 10 * elapsed + 2, (len(seen), elapsed)

    assert "smollm2:135m" in emu.model_names()
    assert "smollm2:135m" in names(browser)
    assert browser.notice == "Pulled smollm2:135m."


def test_cancel_mid_pull_closes_the_stream_and_installs_nothing(emu, browser):
    send(browser, wait=False, action="pull", name="big-model")
    wait_until(lambda: browser.pulls.get("big-model", {}).get("completed", 0) > 0)
    send(browser, wait=False, action="cancel", name="big-model")
    assert emu.wait_for_disconnect(30), "the emulator did not see the pull stream close"
    assert browser._join(5)
    p = browser.pulls["big-model"]
    assert p["state"] == "stopped" and 0 < p["completed"] < p["total"]
    assert "cancelled" in browser.notice
    assert not any(n.startswith("big-model") for n in emu.model_names())
    assert not any(n.startswith("big-model") for n in names(browser))
    assert browser.error == {}

    send(browser, action="dismiss", name="big-model")
    assert browser.pulls == {}


def test_copy_and_delete_change_the_servers_list(emu, browser):
    send(browser, action="copy", src="llama3.2:latest", dst="my-llama")
    assert "my-llama:latest" in emu.model_names()
    assert "my-llama:latest" in names(browser)
    assert browser.notice == "Copied llama3.2:latest to my-llama."

    send(browser, action="select", name="my-llama:latest")
    send(browser, action="delete", name="my-llama:latest")
    assert "my-llama:latest" not in emu.model_names()
    assert "my-llama:latest" not in names(browser)
    assert browser.selected == "" and browser.details == {}
    assert browser.error == {}


def test_load_and_unload_change_ps(emu, browser):
    send(browser, action="load", name="llama3.2:latest")
    assert emu.loaded_names() == ["llama3.2:latest"]
    (row,) = browser.running
    assert row["name"] == "llama3.2:latest" and row["size_vram"] > 0 and row["context_length"] > 0
    assert row["expires_at"] > "2000"

    send(browser, action="unload", name="llama3.2:latest")
    assert emu.loaded_names() == []
    assert browser.running == []
    unload = [r for r in emu.requests if r.path == "/api/generate"][-1]
    assert unload.json["keep_alive"] == 0


def test_errors_show_inline(emu, browser):
    send(browser, action="pull", name="no-such-model")
    p = browser.pulls["no-such-model"]
    assert p["state"] == "failed" and "file does not exist" in p["message"]
    assert browser.error["action"] == "pull" and "no-such-model" in browser.error["message"]
    assert "library" in browser.error["hint"]

    send(browser, action="copy", src="nope:latest", dst="other")
    assert browser.error["action"] == "copy" and "not found" in browser.error["message"]
    assert browser.error["hint"]

    send(browser, action="delete", name="nope:latest")
    assert browser.error["action"] == "delete" and "not found" in browser.error["message"]

    send(browser, action="clear")
    assert browser.error == {} and browser.notice == ""

    # the view sends junk: ignored, nothing raised
    for junk in ({"action": "format-disk"}, {"no": "action"}, {"action": "pull", "name": "  "}):
        send(browser, **junk)
    browser._on_view_msg(browser, "not a dict", [])
    assert browser.error == {}


def test_server_down_is_an_inline_error_not_an_exception():
    with Emulator() as emu:
        url = emu.url
    browser = ModelBrowser(host=url)  # nothing listens there now
    assert browser.models == []
    assert browser.error["action"] == "refresh"
    assert browser.error["message"] == f"Cannot reach Ollama at {url}."
    assert "OLLAMA_HOST" in browser.error["hint"]
    send(browser, action="pull", name="smollm2:135m")
    assert browser.pulls["smollm2:135m"]["state"] == "failed"
    assert "Cannot reach" in browser.error["message"]
    with pytest.raises(ServerUnreachable):
        browser.refresh()


def test_python_api(emu, browser):
    progress = browser.pull("smollm2:135m")
    assert progress.state == "done" and progress.fraction == 1.0
    assert "smollm2:135m" in names(browser)
    assert browser.pulls["smollm2:135m"]["state"] == "done"

    with pytest.raises(ModelNotFound):
        browser.pull("no-such-model")
    assert browser.pulls["no-such-model"]["state"] == "failed"

    browser.copy("smollm2:135m", "tiny")
    browser.selected = "tiny:latest"
    browser.delete("tiny:latest")
    assert "tiny:latest" not in emu.model_names() and browser.selected == ""
    with pytest.raises(OllamaError):
        browser.delete("tiny:latest")

    Client(emu.url).delete("llava")
    browser.refresh()
    assert "llava:latest" not in names(browser)
    assert repr(browser) == f"ModelBrowser(host={emu.url!r}, {len(browser.models)} models)"


def test_cancel_that_arrives_while_the_pull_request_is_being_sent(emu, client, browser, monkeypatch):
    # A stale cancel (no pull running) does not pre-cancel the next pull.
    browser.cancel("smollm2:135m")
    send(browser, action="pull", name="smollm2:135m")
    assert browser.pulls["smollm2:135m"]["state"] == "done"

    # Cancel can win the race against the pull request itself: the stream closes on arrival.
    real_pull = client.pull

    def pull_then_cancel(*args, **kwargs):
        stream = real_pull(*args, **kwargs)
        browser.cancel("big-model")  # the Cancel click, before the stream is registered
        return stream

    monkeypatch.setattr(client, "pull", pull_then_cancel)
    send(browser, action="pull", name="big-model")
    assert browser.pulls["big-model"]["state"] == "stopped"
    assert emu.wait_for_disconnect(30)
    assert "big-model:latest" not in emu.model_names()


def test_a_second_pull_of_the_same_model_is_refused_while_one_runs(emu, browser):
    send(browser, wait=False, action="pull", name="big-model")
    wait_until(lambda: browser.pulls.get("big-model", {}).get("total"))
    send(browser, wait=False, action="pull", name="big-model")
    wait_until(lambda: "already being pulled" in browser.notice)
    with pytest.raises(OllamaError, match="already being pulled"):
        browser.pull("big-model")
    browser.cancel("big-model")
    assert browser._join(10)
    assert [r.path for r in emu.requests].count("/api/pull") == 1


def test_the_key_never_reaches_widget_state():
    key = "sk-test-very-secret-1234567890"
    with Emulator(key=key) as emu:
        browser = ModelBrowser(host=emu.url, api_key=key)
        assert "llama3.2:latest" in names(browser)
        assert emu.last_request.headers["authorization"] == f"Bearer {key}"
        send(browser, action="select", name="llama3.2:latest")
        send(browser, action="pull", name="no-such-model")
        state = json.dumps(browser.get_state(), default=str)
        assert key not in state and key not in repr(browser)
        bundle = json.dumps(browser._repr_mimebundle_(), default=str)
        assert key not in bundle

        wrong = ModelBrowser(host=emu.url, api_key="sk-wrong-key-0987654321")
        assert wrong.error["action"] == "refresh" and "OLLAMA_API_KEY" in wrong.error["hint"]
        assert "sk-wrong-key" not in json.dumps(wrong.get_state(), default=str)


def test_cloud_mode_hides_local_only_work(emu, client, monkeypatch):
    monkeypatch.setattr(client, "cloud", True)
    browser = ModelBrowser(client=client)
    assert browser.cloud is True and "llama3.2:latest" in names(browser)
    assert "/api/ps" not in [r.path for r in emu.requests]  # Ollama Cloud has no ps
    send(browser, action="pull", name="smollm2:135m")
    assert browser.pulls["smollm2:135m"]["state"] == "failed"
    assert "/api/pull" not in [r.path for r in emu.requests]


def test_saved_notebooks_get_a_static_table(emu, browser):
    data, _meta = browser._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    page = data["text/html"]
    assert "text/markdown" not in data
    assert "<thead><tr><th>name</th><th>size</th><th>parameters</th><th>quantization</th><th>family</th><th>modified</th></tr>" in page
    for name in emu.model_names():
        assert f"<tr><td>{name}</td>" in page
    assert "<tr><td>llama3.2:latest</td><td>2.0 GB</td><td>3.2B</td><td>Q4_K_M</td><td>llama</td>" in page
    assert data["text/plain"].startswith("ModelBrowser(host=")


def test_try_it_opens_a_chat_on_the_selected_model(emu, browser):
    if not models_module._chat_available():
        send(browser, action="try", name="llama3.2:latest")
        assert browser.error["action"] == "try"
        return
    from ollama_nb._widgets.chat import ChatWidget

    assert browser.chat_available
    send(browser, action="try", name="qwen3:latest")
    (out,) = browser._tryout_area().outputs
    view = out["data"]["application/vnd.jupyter.widget-view+json"]
    chat = browser._chat
    assert isinstance(chat, ChatWidget) and chat.model == "qwen3:latest"
    assert view["model_id"] == chat.model_id
    send(browser, action="try", name="llama3.2:latest")  # replaces the previous chat
    assert len(browser._tryout_area().outputs) == 1 and browser._chat.model == "llama3.2:latest"


def test_a_slow_server_does_not_freeze_the_cell(emu, client, monkeypatch):
    monkeypatch.setattr(models_module, "INITIAL_WAIT", 0.05)
    real_list = client.list
    answer = threading.Event()

    def slow_list():
        answer.wait(30)  # the server answers only when the test says so
        return real_list()

    monkeypatch.setattr(client, "list", slow_list)
    browser = ModelBrowser(client=client)  # returns while the list is still unanswered
    assert browser.models == [] and browser.busy == "Loading…"
    answer.set()
    assert browser._join(5)
    assert names(browser) == emu.model_names() and browser.busy == ""


def test_closing_the_widget_cancels_its_pulls(emu, client):
    browser = ModelBrowser(client=client)
    send(browser, wait=False, action="pull", name="big-model")
    wait_until(lambda: browser.pulls.get("big-model", {}).get("completed", 0) > 0)
    browser.close()
    assert emu.wait_for_disconnect(30)
    assert browser._join(5)
    assert "big-model:latest" not in emu.model_names()


def test_display_is_the_browser_then_an_empty_area_for_try_it(browser, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))
    browser._ipython_display_()
    (first, kw), *rest = shown
    assert kw["raw"] and "text/html" in first and "application/vnd.jupyter.widget-view+json" in first
    if browser.chat_available:
        ((area, _kw2),) = rest
        assert area["text/plain"] == "" and "application/vnd.jupyter.widget-view+json" in area
    else:
        assert rest == []


def test_bad_names_are_refused_with_a_clear_error(browser):
    from ollama_nb._errors import InvalidRequest

    for call in (lambda: browser.pull(""), lambda: browser.pull("   "), lambda: browser.pull(None),
                 lambda: browser.delete(""), lambda: browser.copy("", "x"), lambda: browser.copy("llama3.2", " ")):
        with pytest.raises(InvalidRequest, match="needs a"):
            call()
    assert browser.pulls == {}  # nothing was started


def test_a_failed_pull_says_the_name_is_not_in_the_library_and_suggests_a_close_one(browser):
    from ollama_nb._errors import ModelNotFound

    with pytest.raises(ModelNotFound) as caught:
        browser.pull("lama3.2")
    hint = browser.error["hint"]
    assert hint == caught.value.hint and "not found in the Ollama library" in hint and "Did you mean `llama3.2`?" in hint
    assert "pull lama3.2" not in hint  # no circular "pull it first"


# -- a busy class server and the cloud quota ------------------------------------------------------
def test_a_busy_server_shows_the_wait_and_closing_ends_it(emu):
    import threading

    b = ModelBrowser(client=Client(emu.url))
    assert b._join(10)
    waiting = threading.Event()
    b.observe(lambda change: waiting.set() if "retrying in" in change["new"] else None, names="notice")
    emu.refuse("busy", retry_after=60)  # "Load" sends an empty generate, which the busy server refuses
    send(b, wait=False, action="load", name="llama3.2:latest")
    assert waiting.wait(10)
    assert b.notice.startswith("server busy, retrying in 6") and b.busy.startswith("Loading")
    b.close()
    assert b._join(10)
    assert sum(1 for r in emu.requests if r.path == "/api/generate") == 1  # nothing was sent again


def test_cloud_quota_panel_from_api_usage():
    key = "sekrit-usage-key-42"
    with Emulator(key=key) as cloud:
        cloud.set_legacy_quota(session_left=75, weekly_left=5)
        client = Client(cloud.url, api_key=key)
        client.cloud = True  # the emulator plays ollama.com here
        b = ModelBrowser(client=client)
        assert b._join(10)
        rows = {r["limit"]: r for r in b.quota}
        assert rows["session"]["fraction"] == 0.25 and rows["session"]["used"] == "25.0% used · 75.0% left"
        assert rows["weekly"]["fraction"] == 0.95 and rows["weekly"]["resets"].startswith("in ")
        cloud.set_balance(balance_usd=72.5, allowance_usd=100, purchased_usd=25)
        b.refresh()
        assert b._join(10)
        rows = {r["limit"]: r for r in b.quota}
        assert rows["included credits"]["fraction"] == 0.275
        assert rows["included credits"]["used"] == "$27.50 of $100.00 used · $72.50 left"
        assert rows["purchased credits"]["used"] == "$25.00 left"
        assert key not in json.dumps(b.get_state(), default=str)
        b.close()


def test_a_local_browser_has_no_quota_panel(client):
    b = ModelBrowser(client=client)
    assert b._join(10) and b.quota == []
    b.close()
