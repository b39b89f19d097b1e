"""Key hygiene and settings, end to end in real kernels: a key entered with ``%ollama login`` (a
password input request, answered here as JupyterLab would), proxies in the kernel's environment,
settings that must be refused, a failure before the request starts, and a whole notebook run by
nbclient against a server that echoes the Authorization header into every failure.
"""

from __future__ import annotations

import json
import math
import time
import uuid

import nbformat
import pytest
from echo_auth import EchoAuthServer
from kernel_helpers import Execution, Kernel, extension_kernel, module_emulator  # noqa: F401 - fixtures
from loopback_proxy import LoopbackProxy

from ollama_nb.testing import Emulator

KEY = "sk-kernel-test-5e8b0c2a4d6f1a3c"


def run_with_stdin(kernel: Kernel, code: str, answer: str, *, timeout: float = 60) -> tuple[Execution, dict]:
    """Run ``code`` allowing input requests; answer the first one with ``answer`` (as a front end's
    password box does). Returns the execution and the input_request's content."""
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
               "allow_stdin": True, "stop_on_error": True}
    msg = kernel.kc.session.msg("execute_request", content)
    msg["metadata"]["cellId"] = uuid.uuid4().hex
    started = time.monotonic()
    kernel.kc.shell_channel.send(msg)
    request = kernel.kc.get_stdin_msg(timeout=timeout)
    assert request["header"]["msg_type"] == "input_request"
    kernel.kc.input(answer)
    return kernel.collect(msg["header"]["msg_id"], timeout=timeout, started=started), request["content"]


# --------------------------------------------------------------------------- login / logout


def test_login_keeps_the_key_out_of_source_output_and_history():
    with Emulator(key=KEY) as keyed, Kernel(env={"OLLAMA_HOST": keyed.url}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        refused = kernel.run("%%ollama -m llama3.2\nhi").check()
        assert "%ollama login" in refused.all_text(), "the 401 hint says how to give the key"
        assert "api_key=" not in refused.all_text(), "and never suggests typing it into a cell"

        ex, request = run_with_stdin(kernel, "%ollama login", KEY)
        ex.check()
        assert request["password"] is True, "JupyterLab shows a password box: the key is not echoed"
        assert "kernel only" in ex.all_text()

        answered = kernel.run("%%ollama -m llama3.2\nhi").check()
        assert [r for r in keyed.requests if r.path == "/api/chat"][-1].headers["authorization"] == f"Bearer {KEY}"
        assert answered.final()["metadata"]["ollama_nb"]["status"] == "done"
        config = kernel.run("%ollama config").check()
        assert "set (by %ollama login)" in config.all_text()
        for shown in (ex, answered, config):
            assert KEY not in shown.all_text()
        history = kernel.value("list(get_ipython().history_manager.input_hist_raw)")
        assert "%ollama login" in "".join(history) and KEY not in json.dumps(history)

        out = kernel.run("%ollama logout").check()
        assert "Forgot the API key" in out.all_text()
        again = kernel.run("%%ollama -m llama3.2\nhi").check()
        assert "%ollama login" in again.all_text(), "logged out: refused again, with the hint"
        assert "authorization" not in keyed.requests[-1].headers

        empty, _ = run_with_stdin(kernel, "%ollama login", "   ")
        assert empty.status == "error" and "no key entered" in empty.reply["content"]["evalue"]
        assert kernel.value("__import__('ollama_nb')._config.settings.api_key") is None


def test_login_without_stdin_says_what_to_do_instead(kernel):
    ex = kernel.run("%ollama login")  # nbclient and nbconvert send allow_stdin=False, as here
    assert ex.status == "error" and ex.reply["content"]["ename"] == "UsageError"
    assert "OLLAMA_API_KEY" in ex.reply["content"]["evalue"]


def test_a_key_typed_into_config_works_but_says_where_it_now_is(kernel):
    ex = kernel.run(f"%ollama config api_key={KEY}").check()
    try:
        text = ex.all_text()
        assert KEY not in text
        assert "IPython's history" in text and "%ollama login" in text
    finally:
        kernel.run("%ollama config api_key=").check()
    assert "IPython's history" not in kernel.run("%ollama config model=").check().all_text()


def test_no_hint_suggests_typing_a_key_into_a_cell():
    """Every string the package can show, and the notebooks and README, suggest `%ollama login` or
    OLLAMA_API_KEY, never a key written in a cell (`config api_key=...`, `Client(api_key=...)`)."""
    import ast
    import pathlib
    import re

    banned = re.compile(r"api_key\s*=\s*(\.\.\.|['\"]?sk-|<)|config\s+(api_)?key=(?!value)|pass api_key")
    root = pathlib.Path(__file__).resolve().parent.parent
    found = []
    for path in sorted((root / "ollama_nb").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and banned.search(node.value):
                found.append(f"{path.name}:{node.lineno}: {node.value[:80]!r}")
    for path in [root / "README.md", *sorted((root / "notebooks").glob("*.ipynb"))]:
        found += [f"{path.name}: {m.group(0)!r}" for m in banned.finditer(path.read_text())]
    assert found == []
    from ollama_nb._errors import AuthenticationError
    from ollama_nb._magic import doctor

    assert "%ollama login" in AuthenticationError.hint and "OLLAMA_API_KEY" in AuthenticationError.hint
    assert "%ollama login" in pathlib.Path(doctor.__file__).read_text()


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize("value", ["0", "-1", "-0.5", "nan", "inf", "-inf", "1e999", "soon"])
def test_config_timeout_rejects_what_can_never_work(kernel, value):
    kernel.run("%ollama config timeout=30").check()
    ex = kernel.run(f"%ollama config timeout={value}")
    assert ex.status == "error" and ex.reply["content"]["ename"] == "UsageError"
    assert "number of seconds" in ex.reply["content"]["evalue"]
    assert not ex.of("display_data"), "nothing changed, so no settings table either"
    assert kernel.value("__import__('ollama_nb')._config.settings.timeout") == 30
    kernel.run("%ollama config timeout=").check()


@pytest.mark.parametrize("option", ["temperature=nan", "top_p=inf", "seed=inf", "num_ctx=-inf"])
def test_numeric_options_reject_nan_and_inf(kernel, emu, option):
    sent = len(emu.requests)
    for code in (f"%ollama config {option}", f"%%ollama -m llama3.2 -o {option}\nhi"):
        ex = kernel.run(code)
        assert ex.status == "error" and ex.reply["content"]["ename"] == "UsageError", code
    assert len(emu.requests) == sent, "nothing was sent"
    assert kernel.value("__import__('ollama_nb')._config.settings.options") == {}


def test_a_failure_before_the_request_leaves_no_pending_turn_and_no_waiting(kernel, emu):
    # A schema the client cannot even encode (a set is not JSON): it fails after the turn began and
    # the "waiting" placeholder was shown, before any byte is sent.
    kernel.run("bad_schema = {'type': 'object', 'properties': {'x': {'enum': {1, 2}}}}").check()
    sent = len(emu.requests)
    ex = kernel.run("%%ollama -m llama3.2 --chat pend --format bad_schema\nfirst").check()
    assert not ex.errors, "a short message, not a traceback"
    final = ex.final()["data"]
    assert "waiting" not in json.dumps(final)
    assert "unexpectedly" in final["text/plain"] and "TypeError" in final["text/plain"]
    assert len(emu.requests) == sent
    history = kernel.value("__import__('ollama_nb').Conversation.named('pend').history()")
    assert [t["status"] for t in history] == ["failed"]

    kernel.run("%%ollama -m llama3.2 --chat pend\nsecond").check()
    roles = [m["role"] for m in [r for r in emu.requests if r.path == "/api/chat"][-1].json["messages"]]
    assert roles == ["user"], "the failed prompt is not sent again: never two user messages in a row"
    assert [r for r in emu.requests if r.path == "/api/chat"][-1].json["messages"][0]["content"] == "second"


def test_a_client_refuses_a_timeout_that_can_never_work():
    from ollama_nb import Client

    for bad in (0, -1, math.nan, math.inf, (5, 0), (0, 5)):
        with pytest.raises(ValueError, match="positive number of seconds"):
            Client("http://127.0.0.1:9", timeout=bad)


# --------------------------------------------------------------------------- proxies


def test_a_kernel_with_proxy_variables_sends_nothing_for_this_machine_through_them(emu):
    with LoopbackProxy() as proxy, Kernel(env={"OLLAMA_HOST": emu.url, "OLLAMA_API_KEY": KEY, **proxy.env()}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        kernel.run("%ollama list").check()
        ex = kernel.run("%%ollama -m llama3.2\nhi").check()
        assert ex.final()["metadata"]["ollama_nb"]["status"] == "done"
        kernel.run("from ollama_nb import ChatWidget, ModelBrowser\n"
                   "c = ChatWidget(model='llama3.2'); r = c.ask('hi'); assert r.done, r.status\n"
                   "b = ModelBrowser(); b._join(); assert b.models and not b.error, b.error").check()
        assert any(r.headers.get("authorization") == f"Bearer {KEY}" for r in emu.requests), "the key was in use"
        assert proxy.requests == [], "the proxy saw no request (and so no key) for a loopback Ollama"
        # The control: in that kernel, plain requests does go through the proxy.
        kernel.run(f"import requests; assert requests.get('{emu.url}/api/version', timeout=10).ok").check()
        assert [r[0] for r in proxy.requests] == ["GET"]


def test_show_request_and_a_displayed_reply_mask_an_echoed_key():
    with EchoAuthServer() as echo, Kernel(env={"OLLAMA_HOST": echo.url, "OLLAMA_API_KEY": KEY}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        ex = kernel.run("%%ollama -m echo --show-request\nhi").check()
        text = ex.all_text()
        assert "Bearer $OLLAMA_API_KEY" in text, "the curl line names the variable, not the key"
        assert KEY not in text and text.count("[redacted]") >= 3  # the answer, its model, the NDJSON lines
        shown = kernel.run("from ollama_nb import Client\nClient().chat('echo', [{'role': 'user', 'content': 'x'}])").check()
        assert KEY not in shown.all_text() and "[redacted]" in shown.result()["data"]["text/html"]
        assert echo.requests[-1][2] == f"Bearer {KEY}"


# --------------------------------------------------------------------------- a saved notebook


CELLS = [
    "%load_ext ollama_nb",
    *[f"%%ollama -m {m} --chat k\nhello {m}" for m in ("e401", "e403", "e500", "e502", "midstream", "echo")],
    "%%ollama --compare e401,midstream,echo\nhi",
    "from ollama_nb import Client\nClient().chat('e401', [{'role': 'user', 'content': 'x'}])",
    "for part in Client().chat('midstream', [{'role': 'user', 'content': 'x'}], stream=True):\n    print(part)",
    "Client().generate('e502', 'x')",
    "%ollama show e500",
    "%ollama pull anything",
    "%ollama history --chat k",
    "from ollama_nb import Conversation\nprint(Conversation.named('k').history())",
    "from ollama_nb import ChatWidget\nchat = ChatWidget(model='e401')\nfor m in ('e401', 'e500', 'midstream', 'echo'):\n"
    "    chat.model = m\n    chat.ask('q')\nchat",
    "print(chat.messages)",
    "from ollama_nb import ModelBrowser\nb = ModelBrowser()\nb.selected = 'e500'\nb._join()\n"
    "try:\n    b.pull('anything')\nexcept Exception as e:\n    print(repr(e))\nb",
    "print(b.error, b.pulls)",
    "%ollama doctor",
    "Client().chat('echo', [{'role': 'user', 'content': 'x'}])",  # a displayed Reply
    "%ollama list",
]


def test_a_saved_notebook_never_carries_the_key(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    with EchoAuthServer() as echo:
        env = {"OLLAMA_HOST": echo.url, "OLLAMA_API_KEY": KEY}
        with Kernel(env=env) as probe:  # the environment the notebook's kernel gets
            env = probe.env
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute(env=env)
        received = [auth for _, _, auth in echo.requests]
    path = tmp_path / "keys.ipynb"
    nbformat.write(nb, path)
    text = path.read_text()
    assert received.count(f"Bearer {KEY}") >= 15, "the server got the key on every request, and echoed it"
    assert KEY not in text and json.dumps(KEY)[1:-1] not in text
    assert "Bearer" not in text and "bearer" not in text
    assert text.count("[redacted]") >= 10, "the echoes did arrive, masked"
    widget_state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    assert widget_state.get("state"), "the widgets' state was saved (and checked above)"
    tracebacks = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(tracebacks) == 3, "the three direct Client calls raised, with their tracebacks saved"
