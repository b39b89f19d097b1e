"""ChatWidget sends the config file's ``options`` as ``%%ollama`` does, through the same function:
its own (``options=``, the temperature slider) over ``%ollama config``'s over the file's; and
``%ollama config`` lists each option with where it came from."""

from __future__ import annotations

import pytest

from ollama_nb._config import settings
from ollama_nb._magic.sources import config_rows
from ollama_nb._widgets.chat import ChatWidget


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "ollama_nb.toml"
    path.write_text("[options]\ntemperature = 0.3\nseed = 7\n")
    monkeypatch.setenv("OLLAMA_NB_CONFIG", str(path))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "none"))
    monkeypatch.setattr(settings, "options", {})
    return path


def sent_options(emu) -> dict:
    return [r for r in emu.requests if r.path == "/api/chat"][-1].json.get("options")


def ask(widget: ChatWidget, text: str = "hi") -> None:
    reply = widget.ask(text)
    assert reply is not None and reply.status == "done", reply


def test_the_widget_sends_the_files_options_under_its_own(emu, client, config):
    chat = ChatWidget(client=client, model="llama3.2")
    assert chat.temperature == 0.3  # the slider shows the option in force
    ask(chat)
    assert sent_options(emu) == {"temperature": 0.3, "seed": 7}
    mine = ChatWidget(client=client, model="llama3.2", options={"seed": 1, "num_ctx": 8192})
    ask(mine)
    assert sent_options(emu) == {"temperature": 0.3, "seed": 1, "num_ctx": 8192}
    mine.temperature = 0.9  # moved in the panel: the widget's own now
    ask(mine)
    assert sent_options(emu) == {"temperature": 0.9, "seed": 1, "num_ctx": 8192}
    for widget in (chat, mine):
        widget.close()


def test_percent_ollama_config_options_sit_between_the_file_and_the_widget(emu, client, config):
    chat = ChatWidget(client=client, model="llama3.2")
    settings.options = {"temperature": 0.0}  # %ollama config temperature=0, after the widget was made
    ask(chat)
    assert sent_options(emu) == {"temperature": 0.0, "seed": 7}  # the slider never pinned the file's 0.3
    row = next(r for r in config_rows() if r["setting"] == "options")
    assert row["value"] == "temperature=0.0, seed=7"
    assert row["from"] == f"cell (%ollama config): temperature; config file {config}: seed"
    config.write_text('[options]\ntemperature = 1\nstop = "END"\n')
    settings.options = {}
    row = next(r for r in config_rows() if r["setting"] == "options")
    assert row["value"] == "temperature=1.0, stop=['END']"  # as they are sent, not as the file spells them
    chat.close()


def test_a_mistake_in_the_files_options_is_said_and_nothing_is_sent(emu, client, config):
    config.write_text("[options]\ntemprature = 0.3\n")
    chat = ChatWidget(client=client, model="llama3.2")  # made all the same: the message says what to fix
    chats = sum(r.path == "/api/chat" for r in emu.requests)
    with pytest.raises(Exception, match=r"line 2: Unknown option 'temprature'\. Did you mean 'temperature'\?") as info:
        chat.ask("hi")
    assert type(info.value).__name__ == "UsageError" and str(config) in str(info.value)
    chat._on_view_msg(chat, {"type": "send", "text": "hi"}, [])  # typed in the panel: shown there
    assert "Unknown option 'temprature'" in chat.error["message"] and chat.busy is False
    assert sum(r.path == "/api/chat" for r in emu.requests) == chats
    row = next(r for r in config_rows() if r["setting"] == "options")  # %ollama config and doctor say it first
    assert row["value"].startswith("temprature=0.3 (nothing is sent until it is fixed: Config file ")
    assert "line 2: Unknown option 'temprature'" in row["value"] and row["from"] == f"config file {config}: temprature"
    chat.close()


def test_a_temperature_past_the_sliders_range_is_sent_and_not_shown(emu, client, config):
    config.write_text("[options]\ntemperature = 3\n")
    chat = ChatWidget(client=client, model="llama3.2")  # the slider stops at 2: it shows nothing
    assert chat.temperature is None
    ask(chat)
    assert sent_options(emu) == {"temperature": 3.0}
    chat.close()
