"""The magic's pure parts, where a kernel adds nothing: interpolation, options, flags, safe
Markdown, the throttle, the terminal path, the curl command."""

from __future__ import annotations

import io
import re

import pytest
from IPython.core.error import UsageError

from ollama_nb.live import LiveOutput
from ollama_nb.magic.cell import curl_command, parse_line
from ollama_nb.magic.options import coerce_option, parse_options
from ollama_nb.magic.prompt import fields, interpolate
from ollama_nb.reply import Reply


class Obj:
    name = "Ada"
    _secret = "no"

    @property
    def broken(self):
        raise RuntimeError("boom")


NS = {
    "topic": "NDJSON",
    "n": 3,
    "user": Obj(),
    "cfg": {"lr": 0.1, 2: "two", "layers": [{"units": 64}]},
    "items": ["a", "b", "c"],
    "In": ["", "x = 1", "print(x)"],
    "Out": {2: 42},
}

# (prompt, expected) — every row is one rule of the "Interpolation" section.
INTERPOLATION = [
    ("Explain {topic}.", "Explain NDJSON."),
    ("{n} bullets about {topic}", "3 bullets about NDJSON"),
    ("Hi {user.name}", "Hi Ada"),
    ("lr={cfg[lr]} two={cfg[2]} '{cfg['lr']}' \"{cfg[\"lr\"]}\"", "lr=0.1 two=two '0.1' \"0.1\""),
    ("units: {cfg[layers][0][units]}", "units: 64"),
    ("last={items[-1]}", "last=c"),
    ("{In[1]} then {Out[2]}", "x = 1 then 42"),
    ("keep {undefined} as is", "keep {undefined} as is"),
    ("missing attr {user.nope} and key {cfg[nope]} and index {items[9]}", "missing attr {user.nope} and key {cfg[nope]} and index {items[9]}"),
    ("no private {user._secret} or dunder {user.__class__}", "no private {user._secret} or dunder {user.__class__}"),
    ("a property that raises {user.broken}", "a property that raises {user.broken}"),
    ('JSON {"a": 1, "b": [1, 2]} stays', 'JSON {"a": 1, "b": [1, 2]} stays'),
    ('JSON with a value {"k": {n}}', 'JSON with a value {"k": 3}'),
    ("code: def f(): return {}", "code: def f(): return {}"),
    ("expressions {n + 1} {n*2} {topic.upper()} stay", "expressions {n + 1} {n*2} {topic.upper()} stay"),
    ("f-string f'{n!r:>4}' stays", "f-string f'{n!r:>4}' stays"),
    ("escaped {{topic}} stays", "escaped {{topic}} stays"),
    ("set {1, 2} and {  topic  }", "set {1, 2} and {  topic  }"),
    ("", ""),
]


@pytest.mark.parametrize("prompt, expected", INTERPOLATION)
def test_interpolation_table(prompt, expected):
    assert interpolate(prompt, NS) == expected


def test_fields_lists_what_was_substituted():
    assert fields("{topic} {undefined} {{n}} {n}", NS) == ["{topic}", "{n}"]


# -- options -----------------------------------------------------------------------------------
def test_options_are_typed():
    opts = parse_options(["temperature=0", "seed=42", "num_ctx=8192", "top_p=0.9", "use_mmap=false",
                          "stop=END", "num_predict=1e3"])
    assert opts == {"temperature": 0.0, "seed": 42, "num_ctx": 8192, "top_p": 0.9, "use_mmap": False,
                    "stop": ["END"], "num_predict": 1000}
    assert coerce_option("stop", '["a", "b"]') == ["a", "b"]
    assert coerce_option("stop", "\\n\\n") == ["\n\n"]


@pytest.mark.parametrize(
    "pairs, message",
    [
        (["temprature=0"], "Did you mean 'temperature'"),
        (["num_tcx=1"], "Did you mean 'num_ctx'"),
        (["mirostat=1"], "no longer used"),
        (["seed=1.5"], "whole number"),
        (["temperature=hot"], "must be a number"),
        (["use_mmap=maybe"], "true or false"),
        (["stop=[1, 2]"], "JSON list"),
        (["seed=1", "seed=2"], "given twice"),
        (["temperature"], "key=value"),
    ],
)
def test_bad_options_are_usage_errors(pairs, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_options(pairs)


# -- flags -------------------------------------------------------------------------------------
def test_flags_parse_with_shell_quotes():
    args = parse_line('-m llama3.2 -s "You are terse." -o temperature=0 -o seed=1 --think high --chat tutor')
    assert (args.model, args.system, args.option, args.think, args.chat) == (
        "llama3.2", "You are terse.", ["temperature=0", "seed=1"], "high", "tutor")
    assert parse_line("--think").think is True


@pytest.mark.parametrize(
    "line, message",
    [
        ("--modle llama3.2", "did you mean --model"),
        ("--mod llama3.2", "unrecognized"),  # no abbreviations
        ("-m a -m b", "given twice"),
        ("-s 'unclosed", "cannot read"),
    ],
)
def test_bad_flags_are_usage_errors(line, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_line(line)


def test_the_magics_docstring_lists_every_flag():
    from ollama_nb.magic import OllamaMagics
    from ollama_nb.magic.cell import OPTIONS
    from ollama_nb.magic.line import COMMANDS

    doc = OllamaMagics.ollama.__doc__
    for names in OPTIONS:
        assert any(flag in doc for flag in names), names
    for command in COMMANDS:
        assert command.split()[0] in doc


def test_load_ext_imports_no_view_code():
    import subprocess
    import sys

    code = ("import sys, IPython; from IPython.testing.globalipapp import get_ipython; ip = get_ipython();"
            "ip.run_line_magic('load_ext', 'ollama_nb');"
            "print(sorted(m for m in sys.modules if m.startswith('ollama_nb.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "'ollama_nb.magic'" in out, out
    for lazy in ("ollama_nb.live", "ollama_nb.magic.cell", "ollama_nb.magic.line", "ollama_nb.widgets"):
        assert lazy not in out, out


# -- the throttle ------------------------------------------------------------------------------
class FakeHandle:
    def __init__(self):
        self.sent = []

    def update(self, bundle, raw=True, metadata=None):
        self.sent.append(bundle)


def test_first_token_at_once_then_coalesced(monkeypatch):
    import ollama_nb.live as live_mod

    now = [100.0]
    monkeypatch.setattr(live_mod, "_monotonic", lambda: now[0])
    reply = Reply("m")
    live = LiveOutput(lambda final: ({"text/plain": reply.content}, {}), terminal=False)
    live.handle = FakeHandle()
    live.tick(reply)  # no token yet: nothing sent
    assert live.handle.sent == []
    reply.add({"message": {"content": "Hello"}})
    live.tick(reply)
    assert live.handle.sent == [{"text/plain": "Hello"}]  # the first token, at once
    for i in range(1000):  # 1000 tokens within 10 ms of fake time: coalesced
        reply.add({"message": {"content": " w"}})
        now[0] += 0.00001
        live.tick(reply)
    assert len(live.handle.sent) == 1
    now[0] += 0.06
    reply.add({"message": {"content": "?"}})
    live.tick(reply)
    assert len(live.handle.sent) == 1  # 2nd update not before 3 intervals from the start
    now[0] += 0.1
    reply.add({"message": {"content": "!"}})
    live.tick(reply)
    assert len(live.handle.sent) == 2 and live.handle.sent[-1]["text/plain"].endswith("!")
    live.finish()
    assert len(live.handle.sent) == 3


def test_interval_grows_with_length(monkeypatch):
    import ollama_nb.live as live_mod

    now = [0.0]
    monkeypatch.setattr(live_mod, "_monotonic", lambda: now[0])
    text = ["x" * 10]
    live = LiveOutput(lambda final: ({"text/plain": text[0]}, {}), terminal=False)
    live.handle = FakeHandle()
    now[0] = 10.0  # long after the start: only the length-based interval applies
    live._send(False)
    assert live.next_at == pytest.approx(10.0 + LiveOutput.min_interval)
    text[0] = "x" * 2_000
    live._send(False)
    assert live.next_at == pytest.approx(10.0 + 2_000 / LiveOutput.bytes_per_second)
    assert LiveOutput.min_interval < 2_000 / LiveOutput.bytes_per_second < LiveOutput.max_interval
    text[0] = "x" * 100_000
    live._send(False)
    assert live.next_at == pytest.approx(10.0 + LiveOutput.max_interval)  # capped


def test_terminal_prints_tokens_as_they_arrive():
    out = io.StringIO()
    reply = Reply("m")
    live = LiveOutput(lambda final: ({}, {}), terminal=True, stream=out, footer=lambda: "m · 2 tokens")
    for chunk in ({"message": {"thinking": "hmm"}}, {"message": {"content": "Hel"}}, {"message": {"content": "lo"}}):
        reply.add(chunk)
        live.tick(reply, chunk)
        if chunk["message"].get("content") == "Hel":
            assert out.getvalue().endswith("Hel")
    live.finish()
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert text == "hmm\n\nHello\nm · 2 tokens\n"


# -- curl --------------------------------------------------------------------------------------
def test_curl_command_never_contains_the_key():
    from ollama_nb import Client

    client = Client("http://127.0.0.1:9", api_key="sk-very-secret")
    body = {"model": "m", "messages": [{"role": "user", "content": "it's", "images": ["QUJD" * 100]}], "stream": True}
    command = curl_command(client, "/api/chat", body)
    assert "sk-very-secret" not in command
    assert '-H "Authorization: Bearer $OLLAMA_API_KEY"' in command
    assert "it'\\''s" in command and "<base64 image, 400 characters>" in command
