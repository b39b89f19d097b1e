"""The demo's voice is a part of its own, and its answers are data (issue 18): a course adds its
questions with a topic file, or gives the emulator another voice, and no emulator code changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from ollama_nb.testing import DemoVoice, Emulator
from ollama_nb.testing._prompt import Answer, Prompt, tokens
from ollama_nb.testing._voice import Topics

COURSE = {"topics": [{
    "key": "tides",
    "pattern": r"\btides?\b",
    "short": "Tides are the daily rise and fall of the sea. The Moon's gravity pulls the oceans into two bulges.",
    "medium": "**Tides** come from the Moon's pull on the oceans, and a little from the Sun's.",
    "long": "The sea rises and falls about twice a day because the Moon's gravity stretches the oceans.",
    "think": ["The user asks about tides.", "The Moon's gravity causes them."],
}]}


def chat(emu: Emulator, model: str, question: str, **extra: Any) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": question}], "stream": False, **extra}
    return requests.post(emu.url + "/api/chat", json=body, timeout=10).json()


@pytest.fixture()
def course(tmp_path):
    path = tmp_path / "course.json"
    path.write_text(json.dumps(COURSE))
    return path


def test_a_topic_file_adds_a_question_in_every_voice(course):
    with Emulator(topics=[course]) as emu:
        assert chat(emu, "llama3.2", "What causes tides?")["message"]["content"] == COURSE["topics"][0]["short"]
        assert "**Tides**" in chat(emu, "qwen3", "Explain the tides", think=False)["message"]["content"]
        one = chat(emu, "llama3.2", "Explain tides in one sentence.")["message"]["content"]
        assert one == "Tides are the daily rise and fall of the sea."  # the instructions still apply
        assert "7 × 13" in chat(emu, "llama3.2", "Is 91 a prime number?")["message"]["content"]  # built-ins stay
    with Emulator() as plain:
        assert "built-in Ollama emulator" in chat(plain, "llama3.2", "What causes tides?")["message"]["content"]


def test_a_topic_file_reaches_an_emulator_in_its_own_process(course):
    with Emulator(process=True, topics=[course]) as emu:
        assert chat(emu, "llama3.2", "What causes tides?")["message"]["content"] == COURSE["topics"][0]["short"]


class Echo:
    """A voice of one's own: says the question back, in capitals."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def answer(self, kind: str, prompt: Prompt) -> Answer:
        self.asked.append(kind)
        return Answer(content=tokens(prompt.last_user.upper()))


def test_another_voice_speaks_for_the_ordinary_models_only():
    echo = Echo()
    with Emulator(voice=echo, scenarios=True) as emu:
        answer = chat(emu, "llama3.2", "hello there")
        assert answer["message"]["content"] == "HELLO THERE" and answer["done_reason"] == "stop"
        assert chat(emu, "essay", "one two", options={"num_predict": 2})["message"]["content"] == "one-0 one-1"
        streamed = requests.post(emu.url + "/v1/chat/completions", timeout=10, json={
            "model": "qwen3", "messages": [{"role": "user", "content": "via openai"}]}).json()
        assert streamed["choices"][0]["message"]["content"] == "VIA OPENAI"
    assert echo.asked == ["llama", "qwen"]


@pytest.mark.parametrize(("content", "error"), [
    ({"topics": [{"key": "x"}]}, "needs the strings"),
    ({"topics": [{**COURSE["topics"][0], "pattern": "(unclosed"}]}, "bad pattern"),
    ({"topics": "not a list"}, "list of topics"),
    ([], "list of topics"),
])
def test_a_bad_topic_file_says_what_is_wrong(tmp_path, content, error):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=error) as caught:
        DemoVoice([path])
    assert str(path) in str(caught.value)


def test_voice_and_topics_are_one_or_the_other(course):
    with pytest.raises(ValueError, match="either a voice or topic files"):
        Emulator(voice=Echo(), topics=[course])
    with pytest.raises(ValueError, match="cannot take a voice object"):
        Emulator(voice=Echo(), process=True)


def test_the_built_in_topics_are_data_the_code_does_not_name():
    known = Topics.load()
    assert len(known.topics) >= 10 and known.robots
    keys = [t.key for t in known.topics]
    assert len(keys) == len(set(keys))
