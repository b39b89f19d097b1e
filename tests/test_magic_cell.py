"""``%%ollama`` in a real IPython kernel against the emulator: what the front end receives.

Each test runs cells the way JupyterLab does (execute_request with a cellId) and asserts on the
IOPub messages: the first update, the number of updates, the final Markdown and its metadata.
"""

from __future__ import annotations

import base64
import re

import pytest
from kernel_helpers import Kernel, extension_kernel, live_markup, module_emulator, visible_text  # noqa: F401 - fixtures emu, kernel

from ollama_nb import Client
from ollama_nb._render import chrome
from ollama_nb.testing import Emulator

pytestmark = pytest.mark.kernel

SECRET = "sk-emulator-secret-0123456789"
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def keyed():
    with Emulator(key=SECRET) as emulator:
        yield emulator


def chat_bodies(emu):
    return [r.json for r in emu.requests if r.path == "/api/chat"]


def history(kernel, chat):
    return kernel.value(f"__import__('ollama_nb').Conversation.named({chat!r}).history()")


# -- streaming into the cell -------------------------------------------------------------------
def test_answer_streams_into_outputs_that_read_as_one_with_a_footer_and_metadata(kernel, emu):
    prompt = "Explain NDJSON in three bullet points."
    ex = kernel.run(f"%%ollama -m llama3.2 -o seed=7 --chat stream\n{prompt}").check()
    expected = list(Client(emu.url).chat("llama3.2", [{"role": "user", "content": prompt}], options={"seed": 7}, stream=True))
    first_token = next(c["message"]["content"] for c in expected if c["message"]["content"])
    text = "".join(c["message"]["content"] for c in expected)

    outputs = ex.outputs()
    # The stylesheet once, in an output of its own that shows nothing, then the answer's parts.
    assert outputs[0]["data"] == {"text/html": outputs[0]["data"]["text/html"]}
    assert outputs[0]["data"]["text/html"].startswith("<style>") and not visible_text(outputs[0]["data"]["text/html"]).strip()
    assert ex.html().count("<style>") == 1
    assert "waiting for llama3.2" in ex.displays[1]["content"]["data"]["text/plain"]
    first = ex.updates[0]["content"]["data"]
    assert visible_text(first["text/html"]).startswith(first_token.strip()) and first_token.strip()
    assert len(visible_text(first["text/html"])) < len(text)  # sent at the first token, not at the end
    assert "text/plain" not in first  # while streaming, only the HTML is re-sent
    assert "text/markdown" not in first
    assert 2 <= len(ex.updates) <= 2 + ex.wall * 20  # coalesced: at most 20 updates/s (+ first + final)
    final = ex.final()
    assert final["data"]["text/plain"].startswith(text)
    assert set(final["data"]) == {"text/html", "text/plain"}
    # One footer, one text/plain and one set of metadata, all on the last output.
    assert [bool(o["metadata"]) for o in outputs] == [False] * (len(outputs) - 1) + [True]
    assert [("text/plain" in o["data"]) for o in outputs[1:]] == [False] * (len(outputs) - 2) + [True]
    assert ex.html().count('class="onb-footer"') == 1
    shown = ex.text()
    assert shown.startswith(text.split("\n")[0].lstrip("- "))
    assert re.search(r"llama3\.2 · \d+ tokens · [\d.]+ tok/s · load .* · prompt .* · generate .*$", shown)
    assert 'class="onb-footer"' in ex.html()
    meta = final["metadata"]["ollama_nb"]
    assert meta["model"] == "llama3.2" and meta["status"] == "done" and meta["done_reason"] == "stop"
    assert meta["options"] == {"seed": 7}
    assert meta["stats"]["eval_count"] > 10 and meta["stats"]["tokens_per_second"] > 0
    assert not ex.errors and ex.result() is None  # no traceback, no Out[n]


def test_markdown_tables_code_and_latex_survive(kernel):
    ex = kernel.run("%%ollama -m markdown --chat md\nshow me everything").check()
    page = ex.html()
    assert "<table>" in page and "<th" in page  # a table
    assert '<code class="language-python">' in page and "return x * x" in visible_text(page)
    assert "\\(e^{i\\pi}+1=0\\)" in page and "\\[\\int_0^1 x^2\\,dx = \\frac{1}{3}\\]" in page
    assert page.count("mathjax_process") >= 2


def test_hostile_html_is_escaped(kernel):
    ex = kernel.run("%%ollama -m hostile --chat hostile\nhi").check()
    for update in ex.of("display_data", "update_display_data"):
        page = update["content"]["data"].get("text/html", "").replace(chrome.STYLE, "")
        assert live_markup(page) == [], page
    shown = ex.text()
    assert "Readable text survives." in shown and "Readable text survives after it too." in shown
    assert "<script>" in shown  # shown as text, not dropped
    assert "<script" in ex.final()["data"]["text/plain"]  # plain text is inert: kept as the model wrote it


def test_thinking_is_folded_and_not_sent_back_as_content(kernel, emu):
    kernel.run("%%ollama -m qwen3 --think high --chat think\nWhat is 17 * 23?").check()
    kernel.run("%%ollama -m qwen3 --no-think --chat think\nAnd doubled?").check()
    first, second = chat_bodies(emu)[-2:]
    assert first["think"] == "high" and second["think"] is False
    assistant = second["messages"][1]
    assert assistant["role"] == "assistant" and assistant["thinking"]
    assert assistant["thinking"] not in assistant["content"]
    turns = history(kernel, "think")
    assert turns[0]["thinking"] and "<details>" not in turns[0]["assistant"]
    ex2 = kernel.run("%%ollama -m qwen3 --chat think2\nWhy?").check()
    assert ex2.html().index('<details class="onb-thinking"><summary>Thinking</summary>') < ex2.html().index("onb-footer\">")


def test_raw_output_has_no_markdown(kernel):
    ex = kernel.run("%%ollama -m llama3.2 --raw --chat raw\nhello").check()
    assert set(ex.final()["data"]) == {"text/plain"} and ex.final()["data"]["text/plain"]


# -- conversations -----------------------------------------------------------------------------
def test_conversation_replays_history_and_rerun_replaces_its_turn(kernel, emu):
    kernel.run("%%ollama -m llama3.2 --chat conv\nWhat is a monad?", cell_id="cell-a").check()
    ex = kernel.run("%%ollama -m llama3.2 --chat conv\nWhat did I ask before?", cell_id="cell-b").check()
    assert 'You asked me: "What is a monad?"' in ex.text()
    # Re-running the first cell (same cellId) replaces its turn instead of appending a third.
    kernel.run("%%ollama -m llama3.2 --chat conv\nWhat is a functor?", cell_id="cell-a").check()
    turns = history(kernel, "conv")
    assert [t["user"] for t in turns] == ["What is a functor?", "What did I ask before?"]
    # ...and the model sees the edited history on the next run of the second cell.
    ex = kernel.run("%%ollama -m llama3.2 --chat conv\nWhat did I ask before?", cell_id="cell-b").check()
    assert 'You asked me: "What is a functor?"' in ex.text()
    assert len(history(kernel, "conv")) == 2
    assert [m["role"] for m in chat_bodies(emu)[-1]["messages"]] == ["user", "assistant", "user"]


def test_magic_called_from_code_appends_each_call(kernel):
    code = "for q in ['one?', 'two?']:\n    get_ipython().run_cell_magic('ollama', '-m llama3.2 --chat loop', q)"
    kernel.run(code, cell_id="loop-cell").check()
    kernel.run(code, cell_id="loop-cell").check()
    assert [t["user"] for t in history(kernel, "loop")] == ["one?", "two?", "one?", "two?"]


def test_new_and_system_and_named_conversations(kernel, emu):
    kernel.run("%%ollama -m llama3.2 --chat sys\nfirst").check()
    kernel.run('%%ollama -m llama3.2 --chat sys --new -s "You are a pirate."\nsecond').check()
    body = chat_bodies(emu)[-1]
    assert body["messages"] == [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "second"}]
    assert kernel.value("__import__('ollama_nb').Conversation.named('sys').system") == "You are a pirate."
    assert [t["user"] for t in history(kernel, "sys")] == ["second"]


def test_default_conversation_is_shared_by_name(kernel):
    kernel.run("%ollama clear").check()
    kernel.run("%%ollama -m llama3.2\nhello there").check()
    assert [t["user"] for t in history(kernel, "default")] == ["hello there"]


# -- the prompt --------------------------------------------------------------------------------
def test_interpolation_in_a_cell(kernel, emu):
    kernel.run("topic = 'recursion'\nlevel = {'name': 'beginner'}").check()
    cell = "Explain {topic} to a {level[name]}; keep {undefined} and {\"json\": 1} and f'{x!r}'."
    ex = kernel.run(f"%%ollama -m llama3.2 --chat interp\n{cell}").check()
    sent = chat_bodies(emu)[-1]["messages"][-1]["content"]
    assert sent == "Explain recursion to a beginner; keep {undefined} and {\"json\": 1} and f'{x!r}'."
    # The one field left as written is named above the answer, with what to do.
    note = ex.displays[0]["content"]["data"]["text/plain"]
    assert note.startswith("Sent as written, not filled in: {undefined} (no such variable") and "{topic}" not in note
    assert 'class="onb-notice"' in ex.displays[0]["content"]["data"]["text/html"]
    plain = kernel.run(f"%%ollama -m llama3.2 --chat interp --no-interpolate\n{cell}").check()
    assert chat_bodies(emu)[-1]["messages"][-1]["content"] == cell
    assert "Sent as written" not in plain.all_text()
    filled = kernel.run("%%ollama -m llama3.2 --chat interp\nExplain {topic} again, {{topic}} stays.").check()
    assert "Sent as written" not in filled.all_text()


def test_options_think_keep_alive_are_sent(kernel, emu):
    kernel.run("%ollama config temperature=0.5").check()
    try:
        kernel.run("%%ollama -m qwen3 -o seed=3 -o stop=END -o num_predict=50 --think low --keep-alive 10m --chat opts\nhi").check()
    finally:
        kernel.run("%ollama config temperature=").check()
    body = chat_bodies(emu)[-1]
    assert body["options"] == {"temperature": 0.5, "seed": 3, "stop": ["END"], "num_predict": 50}
    assert body["think"] == "low" and body["keep_alive"] == "10m"
    kernel.run("%%ollama -m llama3.2 --keep-alive 300 --chat opts2\nhi").check()
    assert chat_bodies(emu)[-1]["keep_alive"] == 300  # seconds, as a number: the server rejects "300"


@pytest.mark.parametrize(
    "line, message",
    [
        ("-m llama3.2 --modle x", "did you mean --model"),
        ("-m llama3.2 -o temprature=0", "Did you mean 'temperature'"),
        ("-m llama3.2 -o seed=1 -o seed=2", "given twice"),
        ("-m llama3.2 --think extreme", "--think: think='extreme' is not allowed"),
        ("-m llama3.2 --format Nope", "not defined"),
        ("-m llama3.2 --image nothing_here.png", "no variable or file"),
        ("-m llama3.2 --keep-alive 10x", "not a duration"),
        ("-m a --compare b,c", "not both"),
    ],
)
def test_bad_flags_are_usage_errors(kernel, line, message):
    ex = kernel.run(f"%%ollama {line}\nhi")
    assert ex.status == "error" and ex.reply["content"]["ename"] == "UsageError"
    assert message in ex.stderr


def test_help_lists_the_options(kernel):
    out = kernel.run("%%ollama --help\nanything").check().stdout
    line = kernel.run("%ollama help").check().displays[0]["content"]["data"]["text/plain"]
    for flag in ("--model", "--chat", "--think", "--format", "--compare", "--show-request", "--image", "--out"):
        assert flag in out and flag in line
    assert "%ollama pull MODEL" in line
    # A narrow JupyterLab (700 px) shows 64 monospace characters: a longer line would wrap in the
    # middle of a column. (The kernel's terminal width would be 80.)
    assert max(len(row) for row in out.splitlines()) <= 64, out


def test_no_model_lists_installed_models(kernel):
    ex = kernel.run("%%ollama --chat nomodel\nhi").check()
    text = ex.displays[-1]["content"]["data"]["text/plain"]
    assert "No model given" in text and "OLLAMA_NB_MODEL" in text and "llama3.2:latest" in text


def test_default_model_from_config(kernel, emu):
    kernel.run("%ollama config model=llama3.2").check()
    try:
        kernel.run("%%ollama --chat cfgmodel\nhi").check()
    finally:
        kernel.run("%ollama config model=").check()
    assert chat_bodies(emu)[-1]["model"] == "llama3.2"


# -- structured output, images, --out ----------------------------------------------------------
def test_format_schema_becomes_the_cells_value(kernel, emu):
    kernel.run(
        "schema = {'type': 'object', 'properties': {'name': {'type': 'string'}, 'age': {'type': 'integer'}},"
        " 'required': ['name', 'age']}"
    ).check()
    ex = kernel.run("%%ollama -m llama3.2 --format schema --chat fmt\nInvent a person.").check()
    assert chat_bodies(emu)[-1]["format"]["required"] == ["name", "age"]
    assert ex.result() is not None  # shown as Out[n]
    value = kernel.value("_")
    assert isinstance(value["name"], str) and isinstance(value["age"], int)
    assert '<pre><code class="language-json">{' in ex.html()


def test_format_pydantic_model_and_json(kernel):
    kernel.run(
        "from pydantic import BaseModel\nclass City(BaseModel):\n    name: str\n    population: int"
    ).check()
    kernel.run("%%ollama -m llama3.2 --format City --chat fmt2\nA city please.").check()
    assert kernel.value("[type(_).__name__, isinstance(_.population, int)]") == ["City", True]
    kernel.run("%%ollama -m llama3.2 --format json --chat fmt3\nSome JSON please.").check()
    assert kernel.value("type(_).__name__") in ("dict", "list")


def test_image_is_sent_and_thumbnailed(kernel, emu, tmp_path):
    path = tmp_path / "dot.png"
    path.write_bytes(PNG_1x1)
    kernel.run(f"img = open({str(path)!r}, 'rb').read()").check()
    ex = kernel.run(f"%%ollama -m llava --image img --image {path} --chat vision\nWhat is this?").check()
    assert chat_bodies(emu)[-1]["messages"][-1]["images"] == [base64.b64encode(PNG_1x1).decode()] * 2
    assert "image/png" in ex.displays[0]["content"]["data"]  # the thumbnail, above the answer
    assert "I see 2 images" in ex.text()


def test_image_from_an_array(kernel):
    kernel.run("import numpy as np\narr = np.zeros((4, 6, 3), dtype='uint8')").check()
    ex = kernel.run("%%ollama -m llava --image arr --chat vision-array\nWhat is this?").check()
    assert "I see a plain black picture. The picture is a PNG image, 6 × 4 pixels." in ex.text()


def test_unload_and_reload_the_extension(kernel):
    kernel.run("%unload_ext ollama_nb").check()
    ex = kernel.run("%ollama help")
    assert ex.status == "error" and "not found" in ex.reply["content"]["evalue"]
    kernel.run("%load_ext ollama_nb").check()
    kernel.run("%ollama help").check()


def test_out_stores_the_reply(kernel):
    kernel.run("%%ollama -m llama3.2 --out answer --chat out\nhi").check()
    assert kernel.value("[type(answer).__name__, answer.status, len(answer.content) > 0]") == ["Reply", "done", True]


# -- compare, show-request ---------------------------------------------------------------------
def test_compare_shows_models_side_by_side(kernel, emu):
    ex = kernel.run("%%ollama --compare llama3.2,qwen3,nosuch -o seed=1 --out cmp\nWhat is a prime?").check()
    # Streamed in parts, one answer below the other; at the end the parts are emptied and the last
    # output is the table (with the stylesheet): what the saved notebook keeps.
    outputs = ex.outputs()
    assert len(outputs) > 2 and all(o["data"] == {"text/html": ""} for o in outputs[:-1])
    streamed = "".join(m["content"]["data"].get("text/html", "") for m in ex.of("display_data", "update_display_data"))
    assert all(f"<h5>{m}</h5>" in streamed for m in ("llama3.2", "qwen3", "nosuch"))
    page = ex.html()
    assert page.count("<style>") == 1
    assert '<table class="onb-cols"><thead><tr><th>llama3.2</th><th>qwen3</th><th>nosuch</th></tr>' in page
    assert "%ollama pull nosuch" in visible_text(page) and 'class="onb-error"' in page
    assert [b["options"] for b in chat_bodies(emu)[-2:]] == [{"seed": 1}, {"seed": 1}]
    answers = ex.final()["metadata"]["ollama_nb"]["answers"]
    assert [(a["model"], a["status"]) for a in answers] == [("llama3.2", "done"), ("qwen3", "done"), ("nosuch", "failed")]
    assert all(a["stats"].get("eval_count") for a in answers[:2])
    assert kernel.value("sorted(cmp)") == ["llama3.2", "qwen3"]


def test_show_request_redacts_the_key(kernel, keyed):
    kernel.run(f"%ollama config api_key={SECRET}").check()
    try:
        ex = kernel.run(f"%%ollama -m llama3.2 --host {keyed.url} --show-request --chat req\nhi").check()
    finally:
        kernel.run("%ollama config api_key=").check()
    assert [r for r in keyed.requests if r.path == "/api/chat"][-1].headers["authorization"] == f"Bearer {SECRET}"  # it was sent...
    assert SECRET not in ex.all_text()  # ...and never shown
    request = visible_text(ex.displays[0]["content"]["data"]["text/html"])
    assert f"curl {keyed.url}/api/chat" in request and "Bearer $OLLAMA_API_KEY" in request
    assert '"stream": true' in request
    chunks = ex.displays[-1]["content"]["data"]["text/html"]
    assert "<details><summary>Response: " in chunks and '"done": true' in visible_text(chunks)


def test_401_names_the_key_variable(kernel, keyed):
    ex = kernel.run(f"%%ollama -m llama3.2 --host {keyed.url} --chat unauth\nhi").check()
    text = ex.final()["data"]["text/plain"]
    assert "unauthorized" in text and "OLLAMA_API_KEY" in text and not ex.errors


# -- the measured rules ------------------------------------------------------------------------
def test_fast_stream_stays_within_bytes_and_rate(kernel):
    ex = kernel.run("%%ollama -m bulk -o num_predict=20000 --chat bulk\ngo", timeout=120).check()
    final_text = ex.final()["data"]["text/plain"]
    sent = ex.iopub_bytes("display_data", "update_display_data")
    assert len(final_text) > 100_000
    assert sent <= 20 * len(final_text.encode()) * 2  # text/plain + text/html are each ≤ 20×
    assert len(ex.updates) / ex.wall <= 20 + 2 / ex.wall


# -- the saved notebook ------------------------------------------------------------------------
def test_saved_notebook_keeps_the_final_answer(emu, monkeypatch):
    """Run by nbclient (as nbval and CI do): the .ipynb keeps the final answer as sanitized HTML +
    plain text with metadata. nbclient sends no cellId, so turns are appended in run order."""
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    monkeypatch.setenv("OLLAMA_HOST", emu.url)
    monkeypatch.delenv("OLLAMA_NB_MODEL", raising=False)
    nb = new_notebook(cells=[
        new_code_cell("%load_ext ollama_nb"),
        new_code_cell("%%ollama -m llama3.2\nWhat is a monad?"),
        new_code_cell("%%ollama -m llama3.2\nWhat did I ask before?"),
    ])
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # what a saved file holds
    outputs = nb.cells[2].outputs
    # The stylesheet, the answer's parts, and the last part with the footer, text and metadata.
    assert {o.output_type for o in outputs} == {"display_data"} and len(outputs) >= 2
    assert list(outputs[0].data) == ["text/html"] and outputs[0].data["text/html"].startswith("<style>")
    data, meta = outputs[-1].data, outputs[-1].metadata
    assert set(data) == {"text/html", "text/plain"}
    assert all(set(o.data) == {"text/html"} and not o.metadata for o in outputs[:-1])
    page = "".join(o.data["text/html"] for o in outputs)
    shown = visible_text(page)
    assert 'You asked me: "What is a monad?"' in shown
    assert data["text/plain"].startswith(shown[:20])
    assert page.count('<div class="onb-footer">llama3.2 ·') == 1 and '<div class="onb-footer">' in data["text/html"]
    assert meta["ollama_nb"]["model"] == "llama3.2" and meta["ollama_nb"]["done_reason"] == "stop"
    assert meta["ollama_nb"]["stats"]["eval_count"] > 0
