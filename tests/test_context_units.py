"""The notebook-as-context parts without a kernel: config files (a corpus of bad ones), Basic auth
in host text, summaries, code blocks, prompt conversions, tracebacks, TUTOR.md lookup."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from ollama_nb import Client
from ollama_nb._codeblocks import code_blocks
from ollama_nb._errors import InsecureKeyError
from ollama_nb._hosts import parse_host, split_userinfo
from ollama_nb._magic.prompt import interpolate
from ollama_nb._notebook import CellRecord, fence, traceback_text
from ollama_nb._settings_file import _read, env_headers
from ollama_nb._summary import summarise
from ollama_nb._tutor import course_prompt

# (file name, text, the line the message must name, words it must hold)
BAD_CONFIGS = [
    ("a.json", '{\n  "model": "llama3.2",\n  "host": \n}\n', 4, "not valid JSON"),
    ("b.json", '{"model": "x",\n "hots": "h"}\n', 2, "unknown key 'hots' (did you mean 'host"),
    ("c.json", '[1, 2]\n', 1, "must hold an object"),
    ("d.json", '{"model": 3}\n', 1, "model must be text, not int"),
    ("e.json", '{"models": ["a", 2]}\n', 1, "models must be list of text"),
    ("f.json", '{\n"headers": {"X-A": 1}\n}\n', 2, "the value of X-A must be text"),
    ("g.json", '{\n\n"headers": {"X-A": "a\\nb"}}\n', 3, "contains a line break"),
    ("h.json", '{"headers": {"Bad Name": "v"}}\n', 1, "not a valid header name"),
    ("i.json", '{"cache": "yes"}\n', 1, "cache must be true or false"),
    ("j.json", '{"timeout": -3}\n', 1, "timeout must be number"),
    ("k.json", '{\n "options": {"temperature": {"a": 1}}}\n', 2, "options: temperature must be text, a number"),
    ("l.json", '{"headers": ["X-A"]}\n', 1, "headers must be a table"),
    ("m.toml", 'model = "x"\nhost = \n', 2, "not valid TOML"),
    ("n.toml", 'model = "x"\nmodle = "y"\n', 2, "unknown key 'modle'"),
    ("o.toml", '\n[headers]\nX-Course = "a\\r\\nSet-Cookie: x"\n', 3, "contains a line break"),
    ("p.toml", 'system = 42\n', 1, "system must be text"),
    ("q.toml", 'model = "x"\n[headers]\nX-Null = "a\\u0000b"\n', 3, "line break"),
    ("r.toml", '\ufeffmodel = "x"\n', 1, "not valid TOML"),
    ("s.toml", 'hosts = "http://a"\n', 1, "hosts must be list of text"),
]


@pytest.mark.parametrize(("name", "text", "line", "words"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_a_bad_config_file_is_one_message_naming_file_and_line(tmp_path, name, text, line, words):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        _read(path)
    message = str(caught.value)
    assert message.startswith(f"Config file {path}, ") and words in message, message
    assert f"line {line}" in message, message
    assert "ignored until it is fixed" in message and "\n" not in message
    assert "Set-Cookie" not in message  # a header's value is never repeated


def test_a_good_config_file_in_both_formats(tmp_path):
    settings = {"host": "https://ollama.school.example", "model": "llama3.2", "models": ["llama3.2"],
                "headers": {"X-Course": "ml101"}, "cache": True, "store": "~/ollama.db", "system": "Hints.",
                "options": {"temperature": 0, "stop": ["END"]}, "timeout": 60}
    (tmp_path / "c.json").write_text(json.dumps(settings))
    toml = ('host = "https://ollama.school.example"\nmodel = "llama3.2"\nmodels = ["llama3.2"]\ncache = true\n'
            'store = "~/ollama.db"\nsystem = "Hints."\ntimeout = 60\n[headers]\nX-Course = "ml101"\n'
            '[options]\ntemperature = 0\nstop = ["END"]\n')
    (tmp_path / "c.toml").write_text(toml)
    assert _read(tmp_path / "c.json") == settings == _read(tmp_path / "c.toml")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('{"X-A": "v"}', None),
        ("X-A: v", "not a JSON object"),
        ('{"X-A": "v\\r\\nX-B: w"}', "line break"),
        ('{"X-A": 5}', "must be text"),
        ('["X-A"]', "must be a table"),
    ],
)
def test_ollama_headers(monkeypatch, value, problem):
    monkeypatch.setenv("OLLAMA_HEADERS", value)
    headers, message = env_headers()
    if problem is None:
        assert headers == {"X-A": "v"} and message is None
    else:
        assert headers == {} and problem in message and "OLLAMA_HEADERS" in message and "X-B: w" not in message


def test_basic_auth_is_taken_out_of_the_host_text():
    assert split_userinfo("https://ann:p%40ss@h.example:8443/ollama") == ("https://h.example:8443/ollama", ("ann", "p@ss"))
    assert split_userinfo("ann:pw@127.0.0.1:11434") == ("127.0.0.1:11434", ("ann", "pw"))
    assert split_userinfo("http://h.example/a@b") == ("http://h.example/a@b", None)  # an @ in the path is not userinfo
    assert parse_host("https://ann:pw@h.example") == "https://h.example"
    with pytest.raises(ValueError) as caught:
        parse_host("http://ann:Sup3rSecret@h.example:99999")
    assert "Sup3rSecret" not in str(caught.value)


def test_basic_auth_only_over_https_or_to_this_machine(monkeypatch):
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    with pytest.raises(InsecureKeyError) as caught:
        Client("http://ann:Sup3rSecret@class.example.org")
    assert "Sup3rSecret" not in str(caught.value) and "Sup3rSecret" not in repr(caught.value)
    assert Client("https://ann:pw@class.example.org").has_key
    assert Client("http://ann:pw@127.0.0.1:1").has_key
    # A key given outright wins over the host's user and password.
    client = Client("https://ann:pw@class.example.org", api_key="k" * 20)
    assert "Sup3rSecret" not in repr(client)


def test_frames_are_summarised_and_bounded():
    df = pd.DataFrame({f"c{i}": range(1000) for i in range(200)})
    text = summarise(df)
    assert text.startswith("pandas DataFrame, 1,000 rows × 200 columns:") and "… [170 more columns]" in text
    assert len(text) < 4000
    frame = pl.DataFrame({"price": [1.5, None, 3.0], "city": ["Oslo", "Bergen", None]})
    text = summarise(frame)
    assert text.startswith("polars DataFrame, 3 rows × 2 columns:")
    assert "| price | Float64 | 1 |" in text and "| city | String | 1 |" in text and "| 1.5 | Oslo |" in text
    series = summarise(pl.Series("n", [1, 2, None]))
    assert series.startswith("polars Series 'n', 3 values, dtype Int64, 1 nulls.")
    assert summarise(pd.Series([1.0, None], name="x")).startswith("pandas Series 'x', 2 values, dtype float64, 1 nulls.")
    assert summarise(np.zeros((3, 4), dtype=np.float32)).startswith("numpy array, shape (3, 4), dtype float32:")
    assert summarise({"k": "v" * 10_000}).endswith("characters cut]")
    assert summarise("short") == "short" and summarise(42) == "42" and summarise([1, 2]) == "[1, 2]"


def test_a_table_cell_cannot_break_the_markdown_table():
    df = pd.DataFrame({"a|b": ["x|y\n| z |", "```\nfence"]})
    text = summarise(df)
    rows = [line for line in text.splitlines() if line.startswith("| 0 ") or line.startswith("| 1 ")]
    assert rows == ["| 0 | x\\|y \\| z \\| |", "| 1 | ``` fence |"]


def test_conversions_in_a_prompt():
    ns = {"df": pd.DataFrame({"a": [1]}), "s": "it's"}
    assert interpolate("{df!s}", ns) == str(ns["df"])
    assert interpolate("{s!r}", ns) == repr("it's")
    assert interpolate("{df}", ns, convert=summarise).startswith("pandas DataFrame, 1 rows")
    assert interpolate("{s!x} {{s!r}}", ns) == "{s!x} {{s!r}}"


CODE_CORPUS = [
    ("```python\nprint(1)\n```", [("python", "print(1)\n")]),
    ("~~~\nx\n~~~", [("", "x\n")]),
    ("text\n\n    indented()\n", [("", "indented()\n")]),
    ("````md\n```python\ninner\n```\n````", [("md", "```python\ninner\n```\n")]),
    ("```python\nnever closed\n", [("python", "never closed\n")]),
    ("inline ```code``` only", []),
    ("> ```py\n> quoted\n> ```", [("py", "quoted\n")]),
    ("- item\n\n  ```sh\n  ls\n  ```", [("sh", "ls\n")]),
    ("<pre>```\nnot html\n```</pre>", []),  # the parser's reading: text, then an empty fence
    ("```\n\n```", []),
    ("```py title=x.py\nA\n```\n```\nB\n```", [("py", "A\n"), ("", "B\n")]),
]


@pytest.mark.parametrize(("text", "expected"), CODE_CORPUS)
def test_code_blocks_as_the_markdown_parser_sees_them(text, expected):
    assert [(b.language, b.code) for b in code_blocks(text)] == expected


def test_a_cells_result_is_summarised_only_when_asked():
    class Costly:
        made = 0

        def __str__(self) -> str:
            Costly.made += 1
            return "costly"

    record = CellRecord(1, "x", result=Costly())
    assert Costly.made == 0  # kept, not yet made text
    assert record.as_prompt() == "Cell [1]:\n```python\nx\n```\nOutput:\n```\ncostly\n```" and Costly.made == 1
    big = CellRecord(2, "list(range(10**6))", result=list(range(10**6)))
    assert big.output.startswith("list of 1,000,000 items: 0, 1, 2") and len(big.output) < 500
    frame = CellRecord(3, "df", result=pd.DataFrame({"a": range(1000)}))
    assert frame.output.startswith("pandas DataFrame, 1,000 rows × 1 columns:")


def test_a_fence_outlasts_the_backticks_inside():
    assert fence("a ```` b").startswith("`````\n")
    assert fence("plain") == "```\nplain\n```"


def test_tracebacks_are_plain_and_trimmed():
    try:
        raise KeyError("\x1b[31mred\x1b[0m" + "x" * 5000)
    except KeyError as exc:
        text = traceback_text(exc)
    assert "\x1b" not in text and "more characters]" in text and text.startswith("Traceback")


def test_tutor_md_is_found_in_a_parent(tmp_path):
    (tmp_path / "TUTOR.md").write_text("Hints only.")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    found = course_prompt(deep)
    assert found is not None and found.text == "Hints only." and found.source == str(tmp_path / "TUTOR.md")
    (deep / "TUTOR.md").write_text("x" * 30_000)
    closer = course_prompt(deep)
    assert closer is not None and closer.source == str(deep / "TUTOR.md") and closer.cut == 10_000


def test_no_tutor_md_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "none"))
    monkeypatch.delenv("OLLAMA_NB_CONFIG", raising=False)
    assert Path("/TUTOR.md").exists() or course_prompt(tmp_path) is None
