"""ollama_nb.map in a real kernel: one progress output updated in place, and an interrupt
half-way that keeps the rows done, closes the open streams, and a rerun that asks only the rest."""

from __future__ import annotations

import re
import uuid

import pytest

from ollama_nb.testing import Emulator
from tests.kernel_helpers import Kernel
from tests.waiting import wait_until

pytestmark = pytest.mark.kernel

DONE = re.compile(r"(\d+) of (\d+) done")


@pytest.fixture(scope="module")
def emu():
    with Emulator(num_parallel=2, scenarios=True) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def kernel(emu):
    with Kernel(env={"OLLAMA_HOST": emu.url}) as k:
        k.run("import ollama_nb as ollama\n%load_ext ollama_nb").check()
        yield k


def asked(emu: Emulator, tag: str) -> list[str]:
    return [r.json["messages"][-1]["content"] for r in emu.requests if r.path == "/api/chat" and tag in r.body.decode()]


def test_a_run_shows_one_output_updated_in_place(kernel):
    tag = uuid.uuid4().hex[:6]
    ex = kernel.run(
        f"r = ollama.map([f'q{{i}} {tag}' for i in range(200)], model='llama3.2')\nprint(len(r), r.stats['done'])",
        timeout=120,
    ).check()
    assert len(ex.displays) == 1  # one output, then updates of that same output
    display_id = ex.displays[0]["content"]["transient"]["display_id"]
    assert ex.updates and all(u["content"]["transient"]["display_id"] == display_id for u in ex.updates)
    assert len(ex.updates) < 200  # paced, not one per row
    final = ex.updates[-1]["content"]["data"]["text/plain"]
    assert final.startswith("finished: 200 of 200 done · 0 failed") and ex.stdout.strip() == "200 200"


def test_an_interrupt_keeps_the_rows_done_and_a_rerun_asks_only_the_rest(kernel, emu):
    tag = uuid.uuid4().hex[:6]
    cell = (
        f"items = [f'row {{i}} {tag}' for i in range(40)]\n"
        "r = ollama.map(items, model='slow', options={'num_predict': 20}, concurrency=2)\n"
        "print(r.stats['cached'], r.stats['done'])"
    )
    interrupted = []

    def watch(msg, ex):
        text = msg["content"].get("data", {}).get("text/plain", "")
        found = DONE.search(text)
        # Interrupted while rows stream (a row takes a second), so there are streams to close.
        if found and int(found.group(1)) >= 10 and " 2 running" in text and not interrupted:
            interrupted.append(True)
            kernel.km.interrupt_kernel()

    first = kernel.run(cell, on_message=watch, timeout=120)
    assert first.status == "error" and first.reply["content"]["ename"] == "KeyboardInterrupt"
    final = first.of("update_display_data")[-1]["content"]["data"]["text/plain"]
    assert final.startswith("interrupted: ")
    kept = int(DONE.search(final).group(1))
    assert 10 <= kept < 40
    wait_until(lambda: emu.disconnects, "the open streams closed by the interrupt")
    sent_before = len(asked(emu, tag))
    assert sent_before < 40  # the rows never started were never sent

    second = kernel.run(cell, timeout=120).check()
    assert second.stdout.strip() == f"{kept} 40"  # the kept rows came from the log, the rest were asked
    again = asked(emu, tag)[sent_before:]
    assert len(again) == 40 - kept and len(set(again)) == len(again)


def test_the_magic_maps_the_cell_over_items_into_a_variable(kernel, emu):
    tag = uuid.uuid4().hex[:6]
    kernel.run(f"rows = [{{'q': 'what is 2+2? {tag}'}}, {{'q': 'is 91 prime? {tag}'}}]").check()
    ex = kernel.run("%%ollama --map rows -m llama3.2 --out labels\n{q} ({item[q]}) {{q}}").check()
    assert ex.result() is None and len(ex.displays) == 1  # the progress, nothing else
    assert kernel.value("[len(labels), labels.stats['done'], '4' in labels[0], '91' in labels[1]]") == [
        2,
        2,
        True,
        True,
    ]
    expected = [f"{q} ({q}) {{{{q}}}}" for q in (f"is 91 prime? {tag}", f"what is 2+2? {tag}")]
    assert sorted(asked(emu, tag)) == expected  # fields from each item; {{q}} kept as written
    missing = kernel.run("%%ollama --map nowhere -m llama3.2\n{q}")
    assert missing.status == "error" and "--map nowhere: no such variable" in missing.reply["content"]["evalue"]


def test_the_map_magic_spreads_over_the_config_files_hosts_and_says_so(emu, tmp_path):
    with Emulator(scenarios=True) as other:
        config = tmp_path / "ollama_nb.toml"
        config.write_text(f'hosts = ["{emu.url}", "{other.url}"]\n[options]\nnum_predict = 4\n')
        env = {"OLLAMA_HOST": emu.url, "OLLAMA_NB_CONFIG": str(config), "JUPYTER_CONFIG_DIR": str(tmp_path / "none")}
        with Kernel(env=env) as k:
            k.run("%load_ext ollama_nb").check()
            tag = uuid.uuid4().hex[:6]
            k.run(f"items = [f'q{{i}} {tag}' for i in range(30)]").check()
            ex = k.run("%%ollama --map items -m llama3.2 --out labels\nAnswer: {item}", timeout=120).check()
            assert k.value("[len(labels), len(labels.errors)]") == [30, 0]
        line = (ex.updates or ex.displays)[-1]["content"]["data"]["text/plain"]
        assert f"on {emu.url}, {other.url} (config file {config})" in line
        sent = [r.json for r in emu.requests + other.requests if r.path == "/api/chat" and tag in r.body.decode()]
        assert len(sent) == 30 and asked(other, tag)  # the second server took rows
        assert all(body["options"] == {"num_predict": 4} for body in sent)  # the file's options, as a cell's
