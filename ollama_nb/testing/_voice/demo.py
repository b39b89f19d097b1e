"""The demo voice: what the ordinary models (llama3.2, qwen3, gpt-oss, llava) say.

``DemoVoice.answer`` is the answer source the emulator uses unless given another: a tool call when
tools are offered, schema-valid JSON for ``format``, a picture read for the vision model, an answer
written from a tool's result, else the topic answers of ``topics.json`` (and any extra topic
files) restyled by the instructions in the prompt (``answers.py``).
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._prompt import STOPWORDS, Answer, Prompt, json_tokens, limit, rng_for, tokens
from . import answers, structured, vision
from .topics import Topics

#: Which voice (answers.py) each ordinary model family speaks in.
VOICES = {"llama": "short", "qwen": "medium", "thinking": "medium", "gptoss": "long", "vision": "short"}


def _tool_thoughts(question: str, call: dict[str, Any]) -> list[str]:
    fn = call["function"]
    args = ", ".join(f"{k} = {json.dumps(v)}" for k, v in fn["arguments"].items()) or "no arguments"
    return [
        f'The user asks: "{_shorten(question, 120)}"',
        f"I have a tool called {fn['name']} that fits this request, so I should call it instead of guessing.",
        f"I will call it with {args}.",
    ]


def _json_thoughts(question: str) -> list[str]:
    return [
        f'The user asks: "{_shorten(question, 120)}"',
        "The answer has to be JSON in the requested shape, so I will fill in each field from the question.",
    ]


def _after_tool(prompt: Prompt, voice: str) -> str:
    """An answer written from the tool results that follow the last assistant turn."""
    results: list[dict[str, Any]] = []
    for message in reversed(prompt.messages):
        if message.get("role") != "tool":
            break
        results.insert(0, message)
    parts = []
    for message in results:
        name = message.get("tool_name") or "the tool"
        content = str(message.get("content") or "")
        try:
            value = json.loads(content)
        except ValueError:
            value = content
        parts.append(_tool_sentence(name, value, voice))
    return " ".join(parts)


def _tool_sentence(name: str, value: Any, voice: str) -> str:
    if isinstance(value, dict):
        temp = next((value[k] for k in value if k.startswith("temp")), None)
        sky = value.get("sky") or value.get("conditions") or value.get("description")
        city = value.get("city") or value.get("location")
        if temp is not None:
            unit = "°F" if any("_f" in k or "fahrenheit" in k for k in value) else "°C"
            where = f" in {city}" if city else ""
            if voice == "short":
                return f"It is currently {temp} {unit}{' and ' + str(sky) if sky else ''}{where}."
            if voice == "medium":
                return f"Right now{where} it is **{temp} {unit}**{', ' + str(sky) if sky else ''}."
            return (
                f"According to {name}, the current weather{where} is **{temp} {unit}**"
                f"{' and ' + str(sky) if sky else ''}. That is mild, so a light jacket should be enough."
            )
        listed = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())
        return f"{name} returned {listed}."
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (
            f"The answer is {value}." if voice == "short" else f"{name} returned **{value}**, so the answer is {value}."
        )
    text = str(value).strip()
    return f"According to {name}: {text}" + ("" if text.endswith((".", "!", "?")) else ".")


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _words(text: str) -> set[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return {w for w in re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")) if w not in STOPWORDS}


def tool_call(tools: list[dict[str, Any]], question: str, rng: random.Random) -> dict[str, Any]:
    """Call the tool whose name/description best matches the question, with schema-valid arguments."""
    asked = _words(question)
    best, best_score = tools[0], 0
    for tool in tools:
        fn = tool.get("function") or {}
        score = len(asked & _words(str(fn.get("name", "")) + " " + str(fn.get("description", ""))))
        if score > best_score:
            best, best_score = tool, score
    fn = best.get("function") or {}
    params = fn.get("parameters") or {"type": "object", "properties": {}}
    arguments = structured.instance(params, question)
    call_id = "call_" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    return {"id": call_id, "function": {"index": 0, "name": fn.get("name", ""), "arguments": arguments}}


# --------------------------------------------------------------------------- embeddings


class DemoVoice:
    """The offline demo's answers; ``topic_files`` add questions (JSON like ``topics.json``),
    searched before the built-in ones.

    Usage::

        Emulator(voice=DemoVoice(topic_files=["my_course.json"]))
    """

    def __init__(self, topic_files: Sequence[str | Path] | None = None) -> None:
        self.topics = Topics.load(topic_files or [])

    def answer(self, kind: str, prompt: Prompt) -> Answer:
        rng = rng_for(prompt)
        last = prompt.messages[-1] if prompt.messages else {}
        if prompt.tools and last.get("role") == "user":
            call = tool_call(prompt.tools, prompt.last_user, rng)
            thinking = tokens(" ".join(_tool_thoughts(prompt.last_user, call))) if prompt.think else []
            return limit(Answer(thinking=thinking, tool_calls=[call]), prompt)
        if prompt.format is not None and prompt.format != "":
            thinking = tokens(" ".join(_json_thoughts(prompt.last_user))) if prompt.think else []
            return limit(Answer(thinking=thinking, content=json_tokens(self._structured(prompt, rng))), prompt)
        thinking = []
        if kind == "vision":
            text = _picture(prompt)
        elif last.get("role") == "tool":
            text = _after_tool(prompt, VOICES.get(kind, "short"))
        else:
            thought, text = answers.reply(self.topics, VOICES.get(kind, "short"), prompt, rng)
            thinking = tokens(thought) if thought and kind in ("qwen", "thinking", "gptoss") else []
        return limit(Answer(thinking=thinking, content=tokens(text)), prompt)

    def _structured(self, prompt: Prompt, rng: random.Random) -> str:
        topic = self.topics.find(prompt.last_user)
        items = list(topic.items) if topic else []
        if isinstance(prompt.format, dict):
            return json.dumps(structured.instance(prompt.format, prompt.last_user, items=items))
        if items:
            return json.dumps({"items": items})
        _, text = answers.reply(self.topics, "short", Prompt(prompt.messages, prompt.system), rng)
        return json.dumps({"answer": text})


def _picture(prompt: Prompt) -> str:
    one, full = vision.describe(prompt.images, prompt.last_user)
    style = answers.style_of(prompt.system, prompt.last_user)
    text = one if style.sentences == 1 or style.short else full
    return answers.pirate(text, closing=True) if style.pirate else text
