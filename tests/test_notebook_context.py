"""The notebook as context, in a real kernel against the emulator: ``%ollama fix``, ``{Err[n]}``,
``--context N``, summarised values, the warning for a prompt too long, ``%ollama insert``."""

from __future__ import annotations

import json
import re

import pytest
from kernel_helpers import Kernel, extension_kernel, module_emulator  # noqa: F401 - fixtures emu, kernel

pytestmark = pytest.mark.kernel

ANSI = re.compile(r"\x1b\[")


def shown(ex, mime="text/plain") -> str:
    return "\n".join(d["content"]["data"].get(mime, "") for d in ex.displays)


def last_question(emu) -> str:
    chats = [r for r in emu.requests if r.path == "/api/chat"]
    return chats[-1].json["messages"][-1]["content"]


def chats(emu) -> int:
    return sum(r.path == "/api/chat" for r in emu.requests)


def canned_answer(emu, text: str) -> None:
    lines = [
        {"model": "llama3.2", "message": {"role": "assistant", "content": text}, "done": False},
        {"model": "llama3.2", "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
         "prompt_eval_count": 10, "eval_count": 20},
    ]
    emu.answer_next("/api/chat", "".join(json.dumps(x) + "\n" for x in lines).encode(), content_type="application/x-ndjson")


def test_fix_sends_the_traceback_and_the_cell_source(kernel, emu):
    kernel.run("%ollama config model=llama3.2").check()
    failing = 'prices = {"cost": 3}\ndef total(d):\n    return d["price"] * 2\ntotal(prices)'
    ex = kernel.run(failing)
    assert ex.status == "error"
    ex = kernel.run("%ollama fix").check()
    question = last_question(emu)
    assert failing in question  # the cell's source, as typed
    assert "KeyError: 'price'" in question and 'return d["price"] * 2' in question
    assert "Traceback (most recent call last)" in question
    assert not ANSI.search(question)
    # IPython's and our own frames are left out: only the cell's.
    assert "IPython" not in question and "ollama_nb" not in question and "interactiveshell" not in question
    assert "corrected cell" in question
    assert ex.text()  # the answer streamed into the cell, like %%ollama
    kernel.run("%ollama explain").check()
    assert "plain words" in last_question(emu) and "KeyError: 'price'" in last_question(emu)


def test_a_long_repr_in_an_error_is_trimmed(kernel, emu):
    assert kernel.run("raise ValueError('x' * 50_000)").status == "error"
    kernel.run("%ollama fix").check()
    question = last_question(emu)
    assert "more characters]" in question
    assert len(question) < 3000


def test_err_fields_name_a_cells_error(kernel, emu):
    ex = kernel.run("1 / 0")
    number = ex.reply["content"]["execution_count"]
    kernel.run("x_ok = 1").check()
    kernel.run(f"%%ollama -m llama3.2\nWhy does this fail?\n{{Err[{number}]}}").check()
    question = last_question(emu)
    assert question.startswith("Why does this fail?\n") and "ZeroDivisionError: division by zero" in question
    assert f"Cell [{number}]:" in question and "1 / 0" in question
    before = chats(emu)
    ex = kernel.run("%%ollama -m llama3.2\nAnd this? {Err[99999]}")
    assert ex.status == "error" and "cell [99999] raised no error" in ex.reply["content"]["evalue"]
    assert str(number) in ex.reply["content"]["evalue"]  # the cells that did raise are named
    assert chats(emu) == before  # nothing was sent
    kernel.run("Err = 'mine'").check()  # a variable of the user's own named Err wins
    kernel.run("%%ollama -m llama3.2\n{Err}").check()
    assert last_question(emu) == "mine"
    kernel.run("del Err").check()


def test_no_error_to_explain_is_a_clear_message(emu):
    with Kernel(env={"OLLAMA_HOST": emu.url}) as fresh:
        fresh.run("%load_ext ollama_nb").check()
        before = chats(emu)
        ex = fresh.run("%ollama fix -m llama3.2").check()
        assert "No error to fix" in shown(ex) and "%ollama fix" in shown(ex)
        assert chats(emu) == before
        ex = fresh.run("%%ollama -m llama3.2\nwhat is {Err}")
        assert ex.status == "error" and "no cell has raised an error yet" in ex.reply["content"]["evalue"]


def test_context_adds_the_last_cells_exactly(kernel, emu):
    kernel.run("a = 21").check()
    kernel.run("from IPython.display import Image\nprint('printed')\na * 2").check()
    kernel.run("%%ollama -m llama3.2 --context 2\nWhat is the value?").check()
    expected = (
        "The last 2 cell(s) I ran in my notebook, oldest first:\n\n"
        "Cell [{0}]:\n```python\na = 21\n```\n\n"
        "Cell [{1}]:\n```python\nfrom IPython.display import Image\nprint('printed')\na * 2\n```\nOutput:\n```\n42\n```\n\n"
        "My question:\nWhat is the value?"
    )
    question = last_question(emu)
    numbers = [int(n) for n in re.findall(r"Cell \[(\d+)\]", question)]
    assert question == expected.format(*numbers) and numbers[1] == numbers[0] + 1
    ex = kernel.run("%%ollama -m llama3.2 --context 1 --show-request\nAgain?").check()
    assert "Cell [" in shown(ex) and "My question:" in shown(ex)  # --show-request shows what was added


def test_dataframe_numpy_and_long_values_are_summarised(kernel, emu):
    kernel.run(
        "import numpy as np, pandas as pd\n"
        "df = pd.DataFrame({'price': np.arange(10_000) * 1.5, 'city': ['Oslo'] * 9_999 + [None]})\n"
        "arr = np.arange(1_000_000).reshape(1000, 1000)\n"
        "long_text = 'word ' * 20_000\n"
        "many = list(range(100_000))"
    ).check()
    kernel.run("%%ollama -m llama3.2\nDescribe {df}").check()
    question = last_question(emu)
    assert "10,000 rows × 2 columns" in question
    assert "| price | float64 | 0 |" in question and re.search(r"\| city \| (object|str) \| 1 \|", question)
    assert "| 0 | 0.0 | Oslo |" in question and len(question) < 1000
    kernel.run("%%ollama -m llama3.2\n{arr}").check()
    question = last_question(emu)
    assert "shape (1000, 1000), dtype int64" in question and "..." in question and len(question) < 1500
    kernel.run("%%ollama -m llama3.2\n{long_text}").check()
    assert "characters cut]" in last_question(emu) and len(last_question(emu)) < 2100
    kernel.run("%%ollama -m llama3.2\n{many}").check()
    assert "more items]" in last_question(emu) and len(last_question(emu)) < 2100
    kernel.run("%%ollama -m llama3.2\n{df!s}").check()  # today's behaviour, for who wants it
    assert last_question(emu) == kernel.value("str(df)")
    kernel.run("%%ollama -m llama3.2\n{df.price!r}").check()
    assert last_question(emu) == kernel.value("repr(df.price)")


def test_a_prompt_too_long_for_the_context_warns_first(kernel, emu):
    kernel.run("huge = 'lorem ipsum ' * 10_000").check()  # ~30k tokens: over 4096
    ex = kernel.run("%%ollama -m llama3.2 --no-interpolate\n" + "lorem ipsum " * 10_000).check()
    warning = shown(ex)
    assert "Too long" in warning and "4,096-token context" in warning and "num_ctx=" in warning
    assert ex.displays.index(next(d for d in ex.displays if "Too long" in d["content"]["data"].get("text/plain", ""))) == 0
    ex = kernel.run("%%ollama -m llama3.2 -o num_ctx=65536\n{huge!s}").check()
    assert "Too long" not in shown(ex)  # room enough: no warning


def test_insert_puts_a_code_block_in_the_next_cell(kernel, emu):
    canned_answer(emu, "First:\n\n```python\nprint('one')\n```\n\nThen:\n\n```python\nprint('two')\n```\n")
    kernel.run("%%ollama -m llama3.2 --chat ins\nShow me code").check()
    ex = kernel.run("%ollama insert --chat ins").check()
    payload = ex.reply["content"]["payload"]
    assert payload == [{"source": "set_next_input", "text": "print('two')", "replace": False}]
    assert "Code block 2 of 2" in shown(ex) and "Nothing ran" in shown(ex)
    ex = kernel.run("%ollama insert 1 --chat ins").check()
    assert ex.reply["content"]["payload"][0]["text"] == "print('one')"
    ex = kernel.run("%ollama insert 3 --chat ins").check()
    assert not ex.reply["content"]["payload"] and "2 code block(s), not a block 3" in shown(ex)
    canned_answer(emu, "Here:\n\n~~~\nx = 1\n~~~\n")
    ex = kernel.run("%%ollama -m llama3.2 --chat ins --insert\nmore").check()
    assert ex.reply["content"]["payload"][0]["text"] == "x = 1"
    assert kernel.value("'x' in globals()") is False  # nothing ran


def test_insert_without_a_code_block_says_so(kernel, emu):
    canned_answer(emu, "No code here, ```only inline``` words.")
    kernel.run("%%ollama -m llama3.2 --chat nocode\nTalk").check()
    ex = kernel.run("%ollama insert --chat nocode").check()
    assert "no code block" in shown(ex) and not ex.reply["content"]["payload"]
    ex = kernel.run("%ollama insert --chat never-asked")
    assert ex.status == "error" and "no conversation 'never-asked'" in ex.reply["content"]["evalue"]
