"""``%%ollama`` at a real model's pace, in a real kernel: an answer streamed in parts.

Counted, not timed: which output each display message goes to, how big each message is, how the
bytes grow with the answer, and (from a probe in the kernel) how many chunks had arrived when each
message was made. The update schedule itself is tested with a fake clock in test_magic_units.py.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest
from kernel_helpers import extension_kernel, module_emulator, visible_text  # noqa: F401 - fixtures emu, kernel

from ollama_nb._render import model_html
from ollama_nb.testing import _scenarios as scenarios

pytestmark = pytest.mark.kernel

DISPLAY = ("display_data", "update_display_data")

# For one magic run: how many chunks with text had arrived when each display message was made.
PROBE = """
import json as _j
from ollama_nb import _reply as _reply_mod
_arrived, _made = [0], []
_orig_add = _reply_mod.Reply.add
def _probe_add(self, obj, _orig=_orig_add):
    n = len(self._content)
    _orig(self, obj)
    _arrived[0] += len(self._content) > n
_dp = get_ipython().display_pub
_orig_publish = _dp.publish
def _probe_publish(*a, _orig=_orig_publish, **k):
    _made.append(_arrived[0])
    return _orig(*a, **k)
_reply_mod.Reply.add, _dp.publish = _probe_add, _probe_publish
try:
    get_ipython().run_cell_magic('ollama', {line!r}, {prompt!r})
finally:
    _reply_mod.Reply.add, _dp.publish = _orig_add, _orig_publish
print('__made__', _j.dumps(_made))
"""


def _run(kernel, tokens: int, chat: str, rate: int = 300):
    ex = kernel.run(PROBE.format(line=f"-m paced -o num_predict={tokens} --chat {chat}", prompt=f"at {rate} tokens/s"),
                    timeout=120).check()
    made = json.loads(ex.stdout.split("__made__", 1)[1])
    return ex, [m for m in ex.iopub if m["header"]["msg_type"] in DISPLAY], made


def _id(msg) -> str:
    return msg["content"]["transient"]["display_id"]


def _size(msg) -> int:
    return len(json.dumps(msg["content"], ensure_ascii=False).encode())


def test_finished_parts_are_sent_once_and_only_the_open_end_is_updated(kernel):
    ex, msgs, made = _run(kernel, 600, "parts", rate=150)  # ~20 updates: one per block or so
    text = "".join(scenarios.paced_tokens(600))
    ids = list(dict.fromkeys(_id(m) for m in msgs))
    assert len(ids) > 8  # the stylesheet, many parts, the last one
    # Once the next output has appeared, an output gets no message again: a part that settled
    # (its last state holds only finished blocks) is never re-sent.
    first_seen = {i: next(n for n, m in enumerate(msgs) if _id(m) == i) for i in ids}
    for earlier, later in itertools.pairwise(ids):
        assert all(n < first_seen[later] for n, m in enumerate(msgs) if _id(m) == earlier), earlier
    # Every chunk is shown, in order, by some message: the counts at each message only grow and the
    # last one has them all.
    assert made == sorted(made) and made[-1] == 600
    # The settled parts and the end are the answer, once (one stylesheet, one footer).
    html = ex.html()
    # (Word for word: a list split between parts has a line break more between two items' text.)
    words = visible_text(model_html(text)).split()
    assert visible_text(html).split()[: len(words)] == words
    assert html.count("<style>") == 1 and html.count('class="onb-footer"') == 1
    assert ex.final()["data"]["text/plain"].startswith(text.rstrip())


def test_messages_stay_small_and_bytes_grow_linearly_with_the_answer(kernel):
    # Counted against the answer's own blocks, so that a busy machine (fewer, fuller updates)
    # changes nothing: no message re-sends more than the part it settles into and the open block
    # after it, so the bytes are at most (messages x the largest block) + each part once. (The
    # output cap, tested below, is lifted here: past it, parts are re-sent by design.)
    kernel.run("from ollama_nb._live import LiveOutput as _L\n_L.max_parts = 10_000").check()
    try:
        runs = {n: _run(kernel, n, f"linear{n}") for n in (300, 1200)}
    finally:
        kernel.run("_L.max_parts = 30").check()
    slack = 400  # the message's envelope and the part's wrapper
    for n, (_ex, msgs, _made) in runs.items():
        text = "".join(scenarios.paced_tokens(n))
        block = max(len(model_html(b)) for b in re.split(r"\n\n(?=\S)", text))  # the largest block's HTML
        final = {_id(m): _size(m) for m in msgs}
        last = msgs[-1]
        for m in msgs[1:]:  # (the first is the stylesheet; the last carries the whole text/plain)
            if m is not last:
                assert _size(m) <= final[_id(m)] + block + slack, (n, _size(m), final[_id(m)], block)
        total = sum(_size(m) for m in msgs)
        assert total <= len(msgs) * (block + slack) + sum(final.values()), (n, total, len(msgs), block)
        # Far from re-sending the answer every time (messages x half the answer, on average).
        resent = total - _size(msgs[0]) - _size(last)
        assert n < 1200 or resent < len(msgs) * len(text.encode()) / 4, (n, resent, len(msgs))
    assert len("".join(scenarios.paced_tokens(1200))) > 3.5 * len("".join(scenarios.paced_tokens(300)))


# SIGINT (what the stop button sends) from the display publisher, as it sends message number `at`.
INTERRUPT = """
import os, signal
_dp = get_ipython().display_pub
_orig_publish = _dp.publish
_count = [0]
def _interrupting(*a, _orig=_orig_publish, **k):
    _count[0] += 1
    if _count[0] == {at}:
        os.kill(os.getpid(), signal.SIGINT)
    return _orig(*a, **k)
_dp.publish = _interrupting
try:
    get_ipython().run_cell_magic('ollama', {line!r}, 'at 300 tokens/s')
finally:
    _dp.publish = _orig_publish
"""


@pytest.mark.parametrize("at", [12, 13, 14])
def test_an_interrupted_answer_keeps_its_parts_and_ends_marked_once(kernel, at):
    # SIGINT (what the stop button sends) in the middle of an update, once a few parts have
    # settled, counted by the display publisher: the update completes, then the interrupt ends
    # the answer. Whichever message of an update it lands on, no part is lost or shown twice.
    code = INTERRUPT.format(at=at, line=f"-m paced -o num_predict=3000 --chat cut{at}")
    ex = kernel.run(code, timeout=120)
    final = ex.final()
    assert "partial answer (interrupted)" in final["data"]["text/plain"]
    assert ex.html().count('class="onb-footer"') == 1 and "partial answer (interrupted)" in ex.text()
    assert final["metadata"]["ollama_nb"]["status"] == "interrupted"
    partial = kernel.value(f"__import__('ollama_nb').Conversation.named('cut{at}').messages[-1]['content']")
    assert 0 < len(partial) < len("".join(scenarios.paced_tokens(3000)))
    shown = visible_text(ex.html().split('<div class="onb-footer">')[0])
    # Word for word (a list split between parts has a line break more between two items' text).
    assert shown.split() == visible_text(model_html(partial)).split(), (shown[-200:], visible_text(model_html(partial))[-200:])


def test_raw_answers_stream_in_parts_too(kernel):
    ex = kernel.run("%%ollama -m paced -o num_predict=1200 --raw --chat raw\nat 300 tokens/s", timeout=60).check()
    text = "".join(scenarios.paced_tokens(1200))
    outputs = ex.outputs()
    assert len(outputs) > 5 and all(set(o["data"]) == {"text/plain"} for o in outputs)
    # Whole lines settle; joined, the parts are the answer once, then the footer.
    assert all(o["data"]["text/plain"].endswith("\n") for o in outputs[:-1])
    plain = ex.final()["data"]["text/plain"]
    assert plain.startswith(text.rstrip()) and plain.count("paced · ") == 1
    # No message re-sends the answer: all of them together carry it about once (re-sending what was
    # sent would make this grow with the number of updates; a busy kernel only makes fewer, fuller ones).
    sent = sum(len(m["content"]["data"].get("text/plain", "")) for m in ex.of(*DISPLAY)[:-1])
    assert sent < 2 * len(text), (sent, len(text), len(ex.of(*DISPLAY)))


def test_a_long_answer_never_outgrows_the_outputs_a_cell_shows(kernel):
    """JupyterLab shows a cell's first 50 outputs and folds the rest behind "Show more outputs":
    however many blocks an answer has, it settles into at most LiveOutput.max_parts outputs, and
    the text shown is still the whole reply."""
    from ollama_nb._live import LiveOutput

    ex, msgs, _ = _run(kernel, 3000, "many-parts", rate=300)  # ~50 updates, each settling a part
    outputs = {_id(m) for m in msgs}
    assert len(outputs) <= LiveOutput.max_parts + 2, len(outputs)  # + the stylesheet and the growing one
    reply = kernel.value("__import__('ollama_nb').Conversation.named('many-parts').history()[-1]['assistant']")
    blocks = model_html(reply).count("<p>") + model_html(reply).count("<li>")
    assert blocks > LiveOutput.max_parts, "the answer must have more blocks than outputs for this to mean anything"
    assert " ".join(visible_text(ex.html()).split()).startswith(" ".join(visible_text(model_html(reply)).split())[:2000])


def _html(msg) -> str:
    return msg["content"]["data"].get("text/html", "")


def test_thinking_streams_in_parts_then_folds_above_the_answer(kernel):
    ex = kernel.run("%%ollama -m paced-thinking -o num_predict=1600 --chat thinks\nat 300 tokens/s", timeout=90).check()
    thinking, answer = "".join(scenarios.paced_tokens(800)), "".join(scenarios.paced_tokens(800))
    msgs = ex.of(*DISPLAY)
    live = [m for m in msgs if 'class="onb-think-live"' in _html(m)]
    streamed_into = list(dict.fromkeys(_id(m) for m in live))
    # While it grows, the thinking is in parts: many outputs, none re-sending the thinking so far.
    assert len(streamed_into) > 5, len(streamed_into)
    # (Counted, not sized, so that a busy machine's fuller updates change nothing: the first
    # paragraph is in the few messages sent while it was written and the one that settled it.)
    first = thinking.split("\n\n")[1][:60]
    assert sum(first in visible_text(_html(m)) for m in live) <= 4, [_html(m)[:200] for m in live if first in _html(m)]
    assert sum("Thinking…" in _html(m) and _id(m) != streamed_into[0] for m in live) == 0  # one head, on top
    # Once the answer begins, the outputs it streamed into show, in order, the whole thinking folded
    # and then the answer; at the fold, those it does not fill yet are emptied (once each) until
    # the answer's next parts take them.
    last = {_id(m): m for m in msgs}
    order = list(last)
    folded = [i for i, m in last.items() if '<details class="onb-thinking">' in _html(m)]
    assert folded == streamed_into[:1]
    emptied = [i for i in order if _html(last[i]) == ""]
    assert emptied == order[len(order) - len(emptied) :], "an empty output between two parts"
    blanked = [_id(m) for m in msgs if _html(m) == ""]
    assert len(blanked) == len(set(blanked)) and set(blanked) <= set(streamed_into[1:])
    assert streamed_into[1] not in emptied  # the answer took it
    assert len(order) <= max(len(streamed_into), len(order) - len(emptied)) + 1  # no output wasted
    html = ex.html()
    assert 'class="onb-think-live"' not in html and html.count("<details") == 1
    shown = " ".join(visible_text(html).split())
    thought = " ".join(visible_text(model_html(thinking)).split())
    said = " ".join(visible_text(model_html(answer)).split())
    # All of the thinking once, folded, then all of the answer (the same words: the model's two
    # halves are alike), then the footer.
    assert shown.startswith("Thinking" + thought + " " + said + " paced-thinking · ")
    # The saved record: both texts whole.
    turn = kernel.value("__import__('ollama_nb').Conversation.named('thinks').history()[-1]")
    assert turn["assistant"] == answer and turn.get("thinking", thinking) == thinking


def test_a_list_settles_item_by_item_and_reads_as_one_list(kernel):
    # At 50 tokens/s an item (~15 tokens) takes a few updates, even on a busy machine: each settles
    # once the next begins (paced:latest's lists are short: here items are handed out one by one,
    # not list_part at a time).
    kernel.run("from ollama_nb._render.markdown import BlockStream as _B\n_B.list_part = 1").check()
    try:
        ex, msgs, _made = _run(kernel, 200, "list-items", rate=50)
    finally:
        kernel.run("_B.list_part = 400").check()
    text = "".join(scenarios.paced_tokens(200))
    items = [m for m in msgs if "<li>" in _html(m)]
    joined = [m for m in items if "onb-join" in _html(m)]
    assert len(joined) >= 2, [_html(m)[-120:] for m in items]
    # A part that joins the next ends with its list, and holds finished items only (sent once).
    for m in joined:
        assert re.search(r"</ul>\s*</div>$", _html(m)), _html(m)[-80:]
        assert sum(_id(x) == _id(m) for x in msgs[msgs.index(m) + 1 :]) == 0
    # No update re-sends the list so far: at most the open item and the one before it.
    assert max(_html(m).count("<li>") for m in items if "onb-join" not in _html(m)) <= 3
    # Joined again, the lists are one list, as a whole render makes it.
    whole = re.sub(r"</ul>\s*</div>\s*<div class=\"onb-out onb-part[^\"]*\">\s*<ul>\s*", "", ex.html())
    assert re.sub(r"\s", "", model_html(text).split("<ul>")[1].split("</ul>")[0]) in re.sub(r"\s", "", whole)


def test_an_answer_interrupted_while_thinking_keeps_its_thinking_folded_and_marked(kernel):
    code = INTERRUPT.format(at=12, line="-m paced-thinking -o num_predict=3000 --chat cut-thinking")  # a few parts in
    ex = kernel.run(code, timeout=120)
    html = ex.html()
    assert 'class="onb-think-live"' not in html and html.count('<details class="onb-thinking">') == 1
    assert html.count('class="onb-footer"') == 1 and "partial answer (interrupted)" in ex.text()
    turn = kernel.value("__import__('ollama_nb').Conversation.named('cut-thinking').messages[-1]")
    thought = turn["thinking"]
    assert 0 < len(thought) < len("".join(scenarios.paced_tokens(1500))) and not turn["content"]
    # All of the thinking the model sent, once, word for word; and in the plain text too.
    folded = html.split('<details class="onb-thinking">')[1].split("</details>")[0]
    assert " ".join(visible_text(folded).split()) == "Thinking" + " ".join(visible_text(model_html(thought)).split())
    assert thought.strip() in ex.final()["data"]["text/plain"]
