"""``%ollama SUBCOMMAND`` in a real kernel against the emulator."""

from __future__ import annotations

import re
import socket
import threading

import pytest
from kernel_helpers import Kernel, extension_kernel, module_emulator  # noqa: F401 - fixtures emu, kernel

pytestmark = pytest.mark.kernel


def shown(ex, mime="text/plain") -> str:
    return "\n".join(d["content"]["data"].get(mime, "") for d in ex.displays)


def test_list_is_a_table(kernel):
    ex = kernel.run("%ollama list").check()
    page = shown(ex, "text/html")
    assert "<thead><tr><th>name</th><th>size</th><th>params</th><th>quantization</th><th>modified</th></tr>" in page
    assert re.search(r"<tr><td>llama3\.2:latest</td><td>2\.0 GB</td><td>3\.2B</td><td>Q4_K_M</td><td>\d+ hours? ago</td></tr>", page)
    assert "<tr><td>gpt-oss:120b-cloud</td><td>cloud</td>" in page  # not its manifest's "384 B"
    assert "text/markdown" not in ex.displays[0]["content"]["data"]


def test_ps_shows_vram_and_expiry(kernel):
    kernel.run("%%ollama -m llama3.2 --chat ps\nhi").check()
    page = shown(kernel.run("%ollama ps").check(), "text/html")
    assert "<thead><tr><th>name</th><th>size</th><th>in VRAM</th><th>context</th><th>expires</th></tr>" in page
    assert re.search(r"<td>llama3\.2:latest</td><td>[\d.]+ GB</td><td>[^<]*GPU\)</td><td>\d+</td><td>in \d+ min", page)
    assert "Unloaded" in shown(kernel.run("%ollama unload llama3.2").check())
    assert "llama3.2" not in shown(kernel.run("%ollama ps").check())


def test_show_details(kernel):
    text = shown(kernel.run("%ollama show qwen3").check(), "text/html")
    for part in ("capabilities", "thinking", "context length", "40960", "<strong>Parameters</strong>", "<strong>Template</strong>",
                 "<strong>License</strong> (excerpt)"):
        assert part in text


def test_cp_and_rm_say_what_they_did(kernel, emu):
    assert "Copied" in shown(kernel.run("%ollama cp llama3.2 my-llama").check())
    assert "my-llama:latest" in emu.model_names()
    assert "Deleted my-llama" in shown(kernel.run("%ollama rm my-llama").check())
    assert "my-llama:latest" not in emu.model_names()
    ex = kernel.run("%ollama rm my-llama").check()  # a failure is a red message, not a traceback
    assert "not found" in shown(ex, "text/html") and not ex.errors


def test_embed_returns_vectors(kernel):
    kernel.run('vectors = %ollama embed nomic-embed-text "a cat" "a dog"').check()
    assert kernel.value("[len(vectors), len(vectors[0])]") == [2, 768]
    kernel.run("one = %ollama embed nomic-embed-text the cat didn't sit on the mat").check()
    assert kernel.value("len(one)") == 1
    ex = kernel.run("%ollama embed nomic-embed-text hello").check()
    assert re.match(r"<1 embedding × 768 dims from nomic-embed-text: \[\[", ex.result()["data"]["text/plain"])


def test_pull_shows_progress_bars_then_installs(kernel, emu):
    ex = kernel.run("%ollama pull smollm2:135m", timeout=60).check()
    assert len(ex.displays) == 1 and len(ex.updates) >= 2
    html = ex.final()["data"]["text/html"]
    assert html.count("<tr") >= 3  # overall + one row per layer
    assert "done" in html and "width:100.0%" in html
    plain = [u["content"]["data"]["text/plain"] for u in ex.updates]
    assert any(re.search(r"\d+% .*MB / 271 MB", p) for p in plain)  # bytes shown while running
    assert "smollm2:135m" in emu.model_names()


def test_pull_cancel_closes_the_stream(kernel, emu):
    def on_message(msg, ex):
        if msg["header"]["msg_type"] == "update_display_data" and not getattr(ex, "_interrupted", False):
            ex._interrupted = True
            threading.Timer(0.5, kernel.km.interrupt_kernel).start()

    msg_id = kernel.send("%ollama pull big-model")
    ex = kernel.collect(msg_id, timeout=60, on_message=on_message)
    assert emu.wait_for_disconnect(30) and ("/api/pull", "big-model") in emu.disconnects
    assert ex.status == "error" and ex.reply["content"]["ename"] == "KeyboardInterrupt"
    assert len(ex.errors[0]["content"]["traceback"]) == 1
    final = ex.final()["data"]
    assert "cancelled" in final["text/plain"] and "ETA" not in final["text/plain"]
    assert "big-model:latest" not in emu.model_names()  # cancelled, not the whole download


def test_pull_unknown_model(kernel):
    ex = kernel.run("%ollama pull no-such-model-xyz").check()
    assert "not" in shown(ex, "text/html").lower() and not ex.errors


def test_config_never_shows_the_key(kernel):
    ex = kernel.run("%ollama config api_key=sk-should-never-show model=llama3.2 temperature=0.2").check()
    try:
        text = shown(ex)
        assert "sk-should-never-show" not in ex.all_text()
        assert re.search(r"api_key\s+set \(by %ollama config\)", text)
        assert re.search(r"model\s+llama3\.2", text) and "temperature=0.2" in text
    finally:
        ex = kernel.run("%ollama config api_key= model= temperature=").check()
    assert re.search(r"api_key\s+not set", shown(ex)) and re.search(r"options\s+none", shown(ex))
    bad = kernel.run("%ollama config temprature=1")
    assert bad.status == "error" and "Did you mean 'temperature'" in bad.stderr


def test_history_and_clear(kernel):
    kernel.run("%%ollama -m llama3.2 --chat hist\nfirst question").check()
    kernel.run("%%ollama -m llama3.2 --chat hist\nsecond question").check()
    text = shown(kernel.run("%ollama history --chat hist").check())
    assert "first question" in text and "second question" in text and "done" in text
    assert "Cleared 2 turns" in shown(kernel.run("%ollama clear --chat hist").check())
    assert "is empty" in shown(kernel.run("%ollama history --chat hist").check())


def test_doctor_recognises_the_emulator(kernel):
    kernel.run("%ollama config model=nosuch-default").check()
    try:
        text = shown(kernel.run("%ollama doctor").check())
    finally:
        kernel.run("%ollama config model=").check()
    assert "built-in emulator" in text and "not a real Ollama" in text
    assert "✓ server version: Ollama" in text
    assert "✗ default model: nosuch-default is not installed -> Pull it: `%ollama pull nosuch-default`" in text
    assert "cloud key: not set" in text
    # Its settings read as `%ollama config`'s table, not "host: URL (environment (OLLAMA_HOST))".
    assert "Settings:\nsetting" in text and re.search(r"^model +nosuch-default +cell \(%ollama config\)$", text, re.M)


def test_doctor_says_whether_the_server_can_run_cloud_models(kernel, emu):
    assert "! cloud models: the server is not signed in to ollama.com -> To use cloud models" in shown(kernel.run("%ollama doctor").check())
    emu.set_cloud("signed-in")
    try:
        assert "✓ cloud models: signed in as emulator (free)" in shown(kernel.run("%ollama doctor").check())
        emu.set_cloud("disabled")
        assert "✓ cloud models: disabled on this server" in shown(kernel.run("%ollama doctor").check())
    finally:
        emu.set_cloud("signed-out")


def test_doctor_when_the_server_is_down():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Kernel(env={"OLLAMA_HOST": f"127.0.0.1:{port}", "OLLAMA_NB_MODEL": "llama3.2"}, unset=("OLLAMA_API_KEY",)) as k:
        k.run("%load_ext ollama_nb").check()
        ex = k.run("%ollama doctor").check()
        text = shown(ex)
        assert f"✗ host reachable: http://127.0.0.1:{port} (OLLAMA_HOST): Cannot reach Ollama" in text
        assert "ollama serve" in text
        assert "problem" in shown(ex, "text/html")


def test_unknown_subcommand_is_a_usage_error(kernel):
    ex = kernel.run("%ollama lsit")
    assert ex.status == "error" and ex.reply["content"]["ename"] == "UsageError"
    assert "Did you mean `%ollama list`?" in ex.stderr
    ex = kernel.run("%ollama show")
    assert ex.status == "error" and "Usage: %ollama show MODEL" in ex.stderr


def test_a_typo_in_a_model_name_gets_did_you_mean(kernel):
    ex = kernel.run("%%ollama -m lama3.2\nHi").check()
    assert "Did you mean `llama3.2`?" in ex.all_text() or "Did you mean <code>llama3.2</code>?" in ex.all_text()
    pulled = kernel.run("%ollama pull no-such-model").check()
    text = pulled.all_text()
    assert "was not found in the Ollama library: check the spelling and the tag" in text
    assert "Pull it first" not in text and "%ollama pull no-such-model" not in text  # not circular


def test_commands_in_hints_quote_the_name():
    from ollama_nb._errors import ModelNotFound
    from ollama_nb._suggest import close_models

    err = ModelNotFound("model 'my model' not found", 404, "my model")
    assert "`%ollama pull 'my model'`" in err.hint and "`ollama pull 'my model'`" in err.hint
    assert close_models("lama3.2", ["llama3.2:latest", "qwen3:latest"]) == ["llama3.2"]
    assert close_models("qwen", ["llama3.2:latest", "qwen3:latest"]) == ["qwen3"]
    assert close_models("llama3.2:latest", ["llama3.2:latest"]) == []  # the same model is no suggestion
    assert close_models("zzzz", ["llama3.2:latest"]) == []
