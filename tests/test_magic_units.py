"""The magic's pure parts, where a kernel adds nothing: interpolation, options, flags, safe
Markdown, the throttle, the terminal path, the curl command."""

from __future__ import annotations

import io
import itertools
import re

import pytest
from IPython.core.error import UsageError

from ollama_nb._live import LiveOutput
from ollama_nb._live.schedule import Schedule
from ollama_nb._magic.args import parse_line
from ollama_nb._magic.options import coerce_option, parse_options
from ollama_nb._magic.prompt import fields, interpolate, unresolved, unresolved_note
from ollama_nb._magic.show_request import curl_command
from ollama_nb._reply import Reply


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


@pytest.mark.parametrize("prompt, expected", INTERPOLATION)
def test_unresolved_is_every_field_left_as_written_and_nothing_else(prompt, expected):
    left = unresolved(prompt, NS)
    assert all(f in expected for f in left)  # each was sent literally
    assert set(left).isdisjoint(fields(prompt, NS))  # never one that was filled in


def test_unresolved_note_names_the_fields_and_what_to_do():
    assert unresolved("Explain {topic} to {who.name} {{x}} {topic} {json: 1}", {}) == ["{topic}", "{who.name}"]
    assert unresolved("{n.nope} {n}", NS) == ["{n.nope}"]  # the name exists, the step does not
    note = unresolved_note(["{topic}", "{who.name}"])
    assert note.startswith("Sent as written, not filled in: {topic}, {who.name}") and "--no-interpolate" in note
    many = unresolved_note([f"{{v{i}}}" for i in range(9)])
    assert "{v4} and 4 more" in many and "{v5}" not in many and "\n" not in many
    assert unresolved_note([]) == ""


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
    from ollama_nb._magic import OllamaMagics
    from ollama_nb._magic.args import OPTIONS
    from ollama_nb._magic.line import COMMANDS

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
    assert "'ollama_nb._magic'" in out, out
    for lazy in ("ollama_nb._live", "ollama_nb._magic.cell", "ollama_nb._magic.line", "ollama_nb._widgets"):
        assert lazy not in out, out


def test_load_ext_preloads_the_render_layer_and_a_lexer_off_the_main_thread():
    # In a kernel, the first answer with a code block would otherwise pause its stream ~0.1-0.4 s
    # (markdown-it, nh3, Pygments' lexer registry and lexer, imported on the main thread).
    from kernel_helpers import Kernel

    loaded = "[m in __import__('sys').modules for m in ('pygments.lexers.python', 'ollama_nb._render.markdown')]"
    with Kernel() as kernel:
        assert kernel.value(loaded) == [False, False]
        kernel.run("%load_ext ollama_nb").check()
        kernel.run("import threading\n[t.join() for t in threading.enumerate() if t.name == 'ollama-nb-preload']").check()
        assert kernel.value(loaded) == [True, True]


# -- the throttle ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _no_pause_watcher(request, monkeypatch):
    """Tests on a fake clock: only chunks send updates (the watcher thread runs on real time)."""
    if "pause" not in request.node.name:
        monkeypatch.setattr(LiveOutput, "watch_pauses", False)


class FakeHandle:
    def __init__(self):
        self.sent = []

    def update(self, bundle, raw=True, metadata=None):
        self.sent.append(bundle)


def _paced(monkeypatch, live, reply, gaps):
    """Feed one token per gap of fake time; returns (arrival times, [(update time, tokens shown)])."""
    now = [100.0]
    live.schedule.clock = lambda: now[0]
    arrivals, shown = [], []
    live.render = lambda final: (shown.append((now[0], len(arrivals))) or ({"text/plain": reply.content}, {}))
    for gap in gaps:
        now[0] += gap
        reply.add({"message": {"content": " w"}})
        arrivals.append(now[0])
        live.tick(reply)
    return arrivals, shown


def _longest_wait(arrivals, shown):
    waits, j = [], 0
    for t, n in shown:
        while j < n:
            waits.append(t - arrivals[j])
            j += 1
    assert j == len(arrivals), "a token was never shown"
    return max(waits)


@pytest.mark.parametrize("rate", [3, 10, 30, 100, 1000])
def test_updates_come_steadily_and_no_token_waits_long(monkeypatch, rate):
    reply = Reply("m")
    live = LiveOutput(lambda final: ({}, {}), terminal=False)
    live.handle = FakeHandle()
    arrivals, shown = _paced(monkeypatch, live, reply, [1 / rate] * (rate * 6))
    live.finish()
    assert shown[0] == (arrivals[0], 1)  # the first token at once
    seconds = arrivals[-1] - arrivals[0]
    during = [t for t, _ in shown if t <= arrivals[-1]]
    assert len(during) - 1 >= 4 * seconds or len(during) >= len(arrivals)  # >= 4/s, or every token
    assert len(during) <= seconds / Schedule.interval + 3 or rate < 1 / Schedule.interval
    assert _longest_wait(arrivals, shown) <= 0.3
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert max(gaps) <= max(1 / rate, Schedule.max_gap)


def test_at_a_slow_pace_each_token_shows_as_it_comes(monkeypatch):
    # Tokens every 0.15 s: waiting for the next one would leave this one waiting too long.
    reply = Reply("m")
    live = LiveOutput(lambda final: ({}, {}), terminal=False)
    live.handle = FakeHandle()
    arrivals, shown = _paced(monkeypatch, live, reply, [0.15] * 20)
    assert _longest_wait(arrivals, shown) == 0


def test_slow_updates_space_the_next_ones_out_but_one_slow_update_does_not(monkeypatch):
    now = [10.0]
    clock = lambda: now[0]  # noqa: E731

    def slow(final):
        now[0] += 0.05  # making this update took 50 ms
        return {"text/plain": "x"}, {}

    # One slow update (a lexer loading, a collection) is not a reason to wait: the next update
    # still comes within max_gap, the longest a chunk may wait to be shown.
    live = LiveOutput(slow, terminal=False, clock=clock)
    live.handle = FakeHandle()
    live._send(False)
    assert live.next_at - now[0] <= Schedule.max_gap
    # Update after update that slow: making them takes a tenth of the time, no more.
    for _ in range(30):
        live._send(False)
    assert live.next_at - now[0] == pytest.approx(0.05 / Schedule.work_share, rel=0.02)
    live.render = lambda final: ({"text/plain": "x"}, {})
    for _ in range(30):  # fast again: back to the usual pace
        live._send(False)
    assert live.next_at - now[0] <= Schedule.interval


def test_after_the_first_token_the_next_chunk_sets_the_pace(monkeypatch):
    now = [10.0]
    clock = lambda: now[0]  # noqa: E731
    rendered: list[bool] = []
    live = LiveOutput(lambda final: rendered.append(final) or ({"text/plain": "x"}, {}), terminal=False, clock=clock)
    live.handle = FakeHandle()
    live._send(False, chunks=1)  # the first token: shown at once
    assert live.next_at == now[0]  # the next chunk is let in...
    now[0] += 0.000_01  # ...a fast server's, 10 microseconds later:
    live._send(False, chunks=2)
    assert rendered == [False]  # nothing rendered: the next update is an interval away
    assert live.next_at == pytest.approx(10.0 + Schedule.interval)
    now[0] = live.next_at
    live._send(False, chunks=20_000)
    assert rendered == [False, False]
    # A slow model (a chunk every 0.15 s): its second chunk is shown as it comes, and the next
    # update is due so that the chunk after it (0.15 s later) is not later than max_gap.
    live = LiveOutput(lambda final: rendered.append(final) or ({"text/plain": "x"}, {}), terminal=False, clock=clock)
    live.handle = FakeHandle()
    live._send(False, chunks=1)
    now[0] += 0.15
    live._send(False, chunks=2)
    assert rendered == [False, False, False, False]
    assert live.next_at == pytest.approx(now[0] + Schedule.max_gap - 0.15)


def test_a_chunk_before_a_pause_is_shown_without_waiting_for_the_next():
    # Real time here: the watcher thread waits on its own. Nothing but the pause happens after
    # the second chunk, so only the watcher can show it.
    import threading

    reply = Reply("m")
    shown = threading.Event()
    seen = []

    def render(final):
        seen.append(reply.content)
        if reply.content == "a b":
            shown.set()
        return {"text/plain": reply.content}, {}

    live = LiveOutput(render, terminal=False)
    live.handle = FakeHandle()
    reply.add({"message": {"content": "a"}})
    live.tick(reply)  # the first token, at once
    reply.add({"message": {"content": " b"}})
    live.tick(reply)  # not due yet: nothing sent...
    assert seen == ["a"]
    assert shown.wait(30), seen  # ...and then the stream pauses: the watcher shows it
    live.finish()
    live._watcher.join(5)
    assert seen[-1] == "a b" and not live._watcher.is_alive()


def test_a_huge_open_block_is_re_sent_less_often(monkeypatch):
    now = [10.0]
    clock = lambda: now[0]  # noqa: E731
    size = [100]
    live = LiveOutput(lambda final: ({"text/html": "x" * size[0]}, {}), terminal=False, clock=clock)
    live.handle = FakeHandle()
    live._send(False)
    assert live.next_at <= 10.0 + Schedule.interval  # a paragraph: the usual pace
    size[0] = 200_000  # one paragraph of 30 000 words
    now[0] += Schedule.interval  # (the chunks since tell the pace; the update is due)
    live._send(False)
    assert live.next_at == pytest.approx(now[0] + 200_000 / Schedule.resend_per_second)


def test_settled_parts_become_outputs_that_are_never_updated_again(monkeypatch):
    from ollama_nb._live import Frame

    made = []

    def display(bundle, metadata):
        made.append(FakeHandle())
        made[-1].update(bundle, metadata=metadata)
        return made[-1]

    frames = iter([
        Frame([{"text/html": "<style>"}], {"text/html": "waiting"}, {}),
        Frame([], {"text/html": "a"}, {}),
        Frame([{"text/html": "a."}], {"text/html": "b"}, {}),
        Frame([{"text/html": "b."}, {"text/html": "c."}], {"text/html": "d"}, {}),
        Frame([], {"text/html": "d. end", "text/plain": "a. b. c. d. end"}, {"ollama_nb": {}}),
    ])
    live = LiveOutput(lambda final: next(frames), terminal=False)
    monkeypatch.setattr(live.parts, "_display", display)
    live.start()
    live.refresh()
    live.refresh()
    live.refresh()
    live.finish()
    assert [h.sent for h in made] == [
        [{"text/html": "<style>"}],
        [{"text/html": "waiting"}, {"text/html": "a"}, {"text/html": "a."}],
        [{"text/html": "b"}, {"text/html": "b."}],
        [{"text/html": "c."}],
        [{"text/html": "d"}, {"text/html": "d. end", "text/plain": "a. b. c. d. end"}],
    ]


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
    assert text == "Thinking: hmm\n\nHello\nm · 2 tokens\n"  # named, as a terminal may not dim it


# -- curl --------------------------------------------------------------------------------------
def test_curl_command_never_contains_the_key():
    from ollama_nb import Client

    client = Client("http://127.0.0.1:9", api_key="sk-very-secret")
    body = {"model": "m", "messages": [{"role": "user", "content": "it's", "images": ["QUJD" * 100]}], "stream": True}
    command = curl_command(client, "/api/chat", body)
    assert "sk-very-secret" not in command
    assert '-H "Authorization: Bearer $OLLAMA_API_KEY"' in command
    assert "it'\\''s" in command and "<base64 image, 400 characters>" in command


def test_ctrl_c_waits_for_the_update_and_the_handler_is_swapped_once_per_answer(monkeypatch):
    """A Ctrl-C while an update is sent is raised once it is whole; the SIGINT handler is set at
    the first update and put back at the end, not swapped for each of the many updates."""
    import signal

    import ollama_nb._live as live_mod

    swaps = []
    real = signal.signal
    monkeypatch.setattr(live_mod.signal, "signal", lambda sig, handler: swaps.append(sig) or real(sig, handler))
    before = signal.getsignal(signal.SIGINT)
    now = [10.0]
    sent = []

    def render(final):
        if len(sent) == 5:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C in the middle of making an update
        sent.append(final)
        return {"text/plain": "x"}, {}

    live = LiveOutput(render, terminal=False, clock=lambda: now[0])
    live.handle = FakeHandle()
    with pytest.raises(KeyboardInterrupt):
        for _ in range(20):
            now[0] += 1
            live._send(False, chunks=len(sent) + 1)
    assert len(sent) == 6  # the interrupted update was made and sent whole, then Ctrl-C counted
    for _ in range(20):
        now[0] += 1
        live._send(False, chunks=len(sent) + 1)
    live.finish()
    assert swaps == [signal.SIGINT, signal.SIGINT]  # set once, put back once
    assert signal.getsignal(signal.SIGINT) is before


def test_terminal_shows_control_characters_of_model_text_instead_of_obeying_them():
    out = io.StringIO()
    live = LiveOutput(lambda final: ({}, {}), terminal=True, stream=out)
    hostile = "clear\x1b[2J bell\x07 c1\x9b31m tab\tand\nnewline"
    live.tick(Reply("m"), {"message": {"thinking": "\x1b]0;title\x07", "content": hostile}})
    live.finish()
    text = out.getvalue()
    model_part = text.replace("\x1b[2m", "").replace("\x1b[0m", "")
    assert "\x1b" not in model_part and "\x07" not in model_part and "\x9b" not in model_part
    assert "clear\\x1b[2J bell\\x07 c1\\x9b31m tab\tand\nnewline" in model_part
