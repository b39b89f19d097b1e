"""A class set up once, in real kernels: the config file, Basic auth in the host, OLLAMA_HEADERS,
TUTOR.md; the precedence file < environment < cell; secrets never shown."""

from __future__ import annotations

import base64
import json
import re

import pytest
from echo_auth import EchoAuthServer
from kernel_helpers import Kernel, module_emulator  # noqa: F401 - fixture emu

pytestmark = pytest.mark.kernel

PASSWORD = "Tr0ub4dor-and-3-horses"
HEADER_VALUE = "course-token-8c1f2e9a77"


def shown(ex, mime="text/plain") -> str:
    return "\n".join(d["content"]["data"].get(mime, "") for d in ex.displays)


def chat_requests(emu):
    return [r for r in emu.requests if r.path == "/api/chat"]


def test_basic_auth_in_the_host_is_sent_and_never_shown():
    with EchoAuthServer() as echo:
        host = echo.url.replace("http://", f"http://ann:{PASSWORD}@")
        token = base64.b64encode(f"ann:{PASSWORD}".encode()).decode()
        with Kernel(env={"OLLAMA_HOST": host}) as kernel:
            kernel.run("%load_ext ollama_nb").check()
            outputs = [
                kernel.run("%%ollama -m echo\nhi").check(),  # the echo model repeats the token
                kernel.run("%%ollama -m e401\nhi").check(),  # an error page that echoes the header
                kernel.run("%%ollama -m echo --show-request\nhi").check(),
                kernel.run("%ollama config").check(),
                kernel.run("%ollama doctor").check(),
                kernel.run("import ollama_nb\nollama_nb.list()").check(),  # the default client too
                kernel.run(f"%%ollama -m echo --host http://bob:{PASSWORD}@127.0.0.1:1\nhi").check(),
            ]
        sent = [auth for _method, _path, auth in echo.requests]
        assert sent and all(auth == f"Basic {token}" for auth in sent)
        assert ("GET", "/api/tags", f"Basic {token}") in echo.requests
        for ex in outputs:
            assert PASSWORD not in ex.all_text() and token not in ex.all_text()
        assert "with a user name and password, not shown" in shown(outputs[3])


def test_headers_reach_every_request_and_are_never_printed(emu, tmp_path):
    env = {"OLLAMA_HOST": emu.url, "OLLAMA_HEADERS": json.dumps({"X-Course": HEADER_VALUE})}
    with Kernel(env=env) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        first = len(emu.requests)
        outputs = [
            kernel.run("%%ollama -m llama3.2\nhi").check(),
            kernel.run("import ollama_nb\nollama_nb.chat('llama3.2', messages=[{'role': 'user', 'content': 'hi'}])").check(),
            kernel.run("w = ollama_nb.ChatWidget(model='llama3.2'); w.ask('hi')").check(),
            kernel.run("%ollama list").check(),
            kernel.run("%ollama config").check(),
            kernel.run("%ollama doctor").check(),
        ]
    received = emu.requests[first:]
    assert {r.path for r in received} >= {"/api/chat", "/api/tags"}
    assert all(r.headers.get("x-course") == HEADER_VALUE for r in received)
    assert sum(r.path == "/api/chat" for r in received) >= 3  # magic, module function, widget
    for ex in outputs:
        assert HEADER_VALUE not in ex.all_text()
    assert "X-Course (values not shown)" in shown(outputs[4])


def test_config_file_then_environment_then_cell(emu, tmp_path):
    config = tmp_path / "ollama_nb.toml"
    config.write_text(
        f'host = "{emu.url}"\nmodel = "qwen3"\nsystem = "Give hints, not full solutions."\n'
        '[options]\ntemperature = 0.5\n[headers]\nX-Class = "from-file"\n'
    )
    env = {"OLLAMA_NB_CONFIG": str(config), "OLLAMA_HOST": "", "JUPYTER_CONFIG_DIR": str(tmp_path / "none")}
    with Kernel(env=env) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        kernel.run("%%ollama --chat a\nhi").check()
        first = chat_requests(emu)[-1]
        assert first.json["model"] == "qwen3" and first.json["options"] == {"temperature": 0.5}
        assert first.json["messages"][0] == {"role": "system", "content": "Give hints, not full solutions."}
        assert first.headers["x-class"] == "from-file"
        page = shown(kernel.run("%ollama config").check())
        assert f"config file {config}" in page and "qwen3" in page and "X-Class" in page
        assert "Give hints" not in page and "from-file" not in page  # the prompt is %ollama tutor's
        doctor = kernel.run("%ollama doctor").check()
        # Doctor's settings table (as %ollama config's since 7e9af29): setting, value, where from.
        assert re.search(rf"^model +qwen3 +config file {re.escape(str(config))}$", shown(doctor), re.M)
        assert "from-file" not in doctor.all_text()
        kernel.run("import os; os.environ['OLLAMA_NB_MODEL'] = 'llama3.2'").check()
        kernel.run("%%ollama --chat b\nhi").check()
        assert chat_requests(emu)[-1].json["model"] == "llama3.2"  # the environment wins over the file
        assert "environment (OLLAMA_NB_MODEL)" in shown(kernel.run("%ollama config").check())
        kernel.run("%ollama config model=gemma3 temperature=0").check()
        kernel.run("%%ollama --chat c --system 'Be terse.'\nhi").check()
        last = chat_requests(emu)[-1].json
        assert last["model"] == "gemma3" and last["options"] == {"temperature": 0.0}
        assert last["messages"][0]["content"] == "Be terse."  # --system wins over the course prompt
        kernel.run("%%ollama -m llama3.2 --chat d\nhi").check()
        assert chat_requests(emu)[-1].json["model"] == "llama3.2"  # the cell's option wins over all
        assert "cell (%ollama config)" in shown(kernel.run("%ollama config").check())


def test_allowed_models_in_the_config_file(emu, tmp_path):
    config = tmp_path / "class.json"
    config.write_text(json.dumps({"host": emu.url, "models": ["llama3.2"]}))
    with Kernel(env={"OLLAMA_NB_CONFIG": str(config)}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        kernel.run("%%ollama -m llama3.2\nhi").check()
        before = len(chat_requests(emu))
        ex = kernel.run("%%ollama -m qwen3\nhi")
        assert ex.status == "error" and "not one of this class's models (llama3.2" in ex.reply["content"]["evalue"]
        assert str(config) in ex.reply["content"]["evalue"] and len(chat_requests(emu)) == before
        config.write_text(json.dumps({"host": emu.url, "options": {"temprature": 0}}, indent=1))  # read again
        ex = kernel.run("%%ollama -m llama3.2\nhi")
        message = ex.reply["content"]["evalue"]
        assert ex.status == "error" and f"Config file {config}, line 4:" in message and "'temperature'" in message
        assert len(chat_requests(emu)) == before


def test_tutor_md_in_a_parent_folder_is_the_course_prompt(emu, tmp_path):
    course = tmp_path / "ml101"
    (course / "week1").mkdir(parents=True)
    (course / "TUTOR.md").write_text("You are a tutor. Give hints, never whole solutions.\n")
    notebook = course / "week1" / "lab.ipynb"
    notebook.write_text("{}")
    with Kernel(env={"OLLAMA_HOST": emu.url, "JPY_SESSION_NAME": str(notebook)}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        ex = kernel.run("%ollama tutor").check()
        assert str(course / "TUTOR.md") in shown(ex) and "Give hints, never whole solutions." in shown(ex)
        kernel.run("%%ollama -m llama3.2\nhelp me").check()
        system = chat_requests(emu)[-1].json["messages"][0]
        assert system == {"role": "system", "content": "You are a tutor. Give hints, never whole solutions."}
        kernel.run("import ollama_nb\nw = ollama_nb.ChatWidget(model='llama3.2', conversation='w'); w.ask('hi')").check()
        assert chat_requests(emu)[-1].json["messages"][0]["role"] == "system"
    with Kernel(env={"OLLAMA_HOST": emu.url, "JPY_SESSION_NAME": str(tmp_path / "elsewhere.ipynb")}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        assert "No course prompt" in shown(kernel.run("%ollama tutor").check())


def test_a_bad_config_file_is_one_message_and_the_extension_still_loads(emu, tmp_path):
    config = tmp_path / "ollama_nb.toml"
    config.write_text('model = "qwen3"\n[headers]\nX-Evil = "a\\r\\nInjected: yes"\n')
    with Kernel(env={"OLLAMA_HOST": emu.url, "OLLAMA_NB_CONFIG": str(config)}) as kernel:
        ex = kernel.run("%load_ext ollama_nb").check()
        errors = [d for d in ex.displays if "Config file" in d["content"]["data"].get("text/plain", "")]
        assert len(errors) == 1
        text = errors[0]["content"]["data"]["text/plain"]
        assert str(config) in text and "line 3" in text and "line break" in text and "Injected" not in text
        kernel.run("%%ollama -m llama3.2\nhi").check()  # works, with the defaults
        assert "line break" in shown(kernel.run("%ollama doctor").check())
        received = chat_requests(emu)[-1]
        assert "x-evil" not in received.headers and "injected" not in received.headers
