"""What each scenario model says: answer text, tokens, thinking, tool calls, images, embeddings.

Pure functions of the request, no I/O. ``generation.py`` turns an ``Answer`` into timed chunks;
what the ordinary models say comes from ``answers.py`` (and ``vision.py`` for pictures).
Answers are deterministic for a given (prompt, system, seed), or with temperature 0, so tests
and notebooks can assert on them; otherwise a little randomness shows that sampling varies.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

from . import answers, structured, topics, vision

# --------------------------------------------------------------------------- request view


@dataclass
class Prompt:
    """The parts of a generate/chat request that shape the answer."""

    messages: list[dict[str, Any]]  # chat history incl. system messages; generate: one user turn
    system: str = ""
    images: list[bytes] = field(default_factory=list)  # decoded images of the last user turn
    tools: list[dict[str, Any]] | None = None
    format: Any = None  # None, "json" or a schema dict
    think: str | None = None  # None = no thinking, else "low"/"medium"/"high"/"max"
    options: dict[str, Any] = field(default_factory=dict)  # model parameters < request options

    @property
    def last_user(self) -> str:
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return str(message.get("content") or "")
        return ""


@dataclass
class Answer:
    """The whole reply, before pacing: routes.py streams it and adds metrics."""

    content: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] | None = None
    delay: float | None = None  # seconds between tokens; None = the emulator's token_delay
    ending: str = "done"  # done | stall | drop | error | malformed
    truncated: bool = False  # num_predict cut it: done_reason "length"
    bulk: int = 0  # bulk model: this many tokens from BULK_WORDS, pre-encoded in batches


# --------------------------------------------------------------------------- tokens


def tokens(text: str) -> list[str]:
    """Word tokens with their leading whitespace (" word"); joining them gives ``text`` back."""
    parts = re.findall(r"\s*\S+", text)
    tail = text[len("".join(parts)) :]  # trailing whitespace rides on the last token
    if tail and parts:
        parts[-1] += tail
    elif tail:
        parts.append(tail)
    return parts


def json_tokens(text: str) -> list[str]:
    """Small pieces of a JSON text (words, punctuation), as models stream structured output."""
    parts = re.findall(r"\s*(?:\w+|[^\w\s])", text)
    return parts if "".join(parts) == text else list(text)


def count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "about",
        "from",
        "into",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "me",
        "my",
        "your",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "please",
        "tell",
        "give",
        "explain",
        "me",
        "some",
        "any",
        "all",
        "just",
        "very",
        "so",
        "as",
        "not",
        "no",
        "yes",
        "up",
        "out",
        "than",
        "too",
        "also",
        "its",
        "it's",
        "im",
        "i'm",
    ]
)


# --------------------------------------------------------------------------- the answers

# Which voice (answers.py) each ordinary model kind speaks in.
VOICES = {"llama": "short", "qwen": "medium", "thinking": "medium", "gptoss": "long", "vision": "short"}
MARKDOWN = r"""# Euler's identity

A short reference with the usual **Markdown** pieces and `inline code`.

| Symbol | Meaning |
|---|---|
| $e$ | Euler's number |
| $i$ | the imaginary unit |

Inline math: $e^{i\pi}+1=0$, and a display formula:

$$\int_0^1 x^2\,dx = \frac{1}{3}$$

```python
def square(x):
    return x * x
```

- first item
- second item with *emphasis*
"""
HOSTILE = (
    "Readable text survives. <script>window.__x=1</script> "
    '<img src=x onerror="window.__x=2"> [click](javascript:window.__x=3) '
    '<iframe src="javascript:window.__x=4"></iframe> <style>body{display:none}</style> '
    '<a href="#" onclick="window.__x=5">link</a> Readable text survives after it too.'
)
PARTIAL = "Here is the partial answer"  # 5 tokens, then the scenario's failure
BULK_WORDS = [
    " lorem",
    " ipsum",
    " dolor",
    " sit",
    " amet",
    " consectetur",
    " adipiscing",
    " elit",
    " sed",
    " do",
    " eiusmod",
    " tempor",
    " incididunt",
    " ut",
    " labore",
    " magna",
]
SLOW_DELAY = 0.05
STALL_SECONDS = 120.0


ESSAY_TOKENS = 300
PACED_TOKENS = 2000  # paced:latest's default length: a long answer (~13 kB)
PACED_RATE = 30.0  # paced:latest's default tokens per second: a big model on a laptop

_PACED_WORDS = (
    "the",
    "model",
    "streams",
    "each",
    "token",
    "while",
    "a",
    "student",
    "reads",
    "notebook",
    "answer",
    "grows",
    "block",
    "by",
    "block",
    "and",
    "every",
    "paragraph",
    "ends",
    "with",
    "blank",
    "line",
    "so",
    "finished",
    "parts",
    "never",
    "change",
    "again",
    "only",
    "tail",
)


def _paced_words(start: int, count: int) -> str:
    return " ".join(_PACED_WORDS[(start + i * 7) % len(_PACED_WORDS)] for i in range(count))


def paced_section(k: int) -> str:
    """Part ``k`` of paced:latest's answer, in the proportions of a long real answer: mostly
    prose (with inline markup and math) and lists; fenced code every third part, a table every
    fourth, display math every fifth."""
    text = (
        f"## Part {k}: {_paced_words(k, 3)}\n\n"
        f"In part {k} {_paced_words(k, 40)} with **bold {k}**, `code_{k}()` and $x_{{{k}}}^2$ "
        f"{_paced_words(k + 3, 30)}.\n\n"
        f"Then {_paced_words(k + 1, 45)}.\n\n"
        + "".join(f"- item {k}.{j}: {_paced_words(k + j, 12)}\n" for j in range(1, 5))
        + "\n"
    )
    if k % 3 == 0:
        text += f"```python\ndef part_{k}(x):\n    return x * {k} + {k * k}\n```\n\n"
    if k % 4 == 0:
        text += f"| n | square |\n|---|---|\n| {k} | {k * k} |\n| {k + 1} | {(k + 1) ** 2} |\n\n"
    if k % 5 == 0:
        text += f"$$\\sum_{{i=1}}^{{{k}}} i = {k * (k + 1) // 2}$$\n\n"
    return text + f"To close part {k}, {_paced_words(k + 5, 35)}.\n\n"


def paced_tokens(n: int) -> list[str]:
    """The first ``n`` tokens of paced:latest's answer (as many parts as it takes)."""
    parts: list[str] = []
    k = 1
    while len(parts) < n:
        parts.extend(tokens(paced_section(k)))
        k += 1
    return parts[:n]


_RATE = re.compile(r"(\d+(?:\.\d+)?)\s*tokens?/s")


def paced_rate(prompt: Prompt) -> float:
    """The pace of a paced:latest answer, in tokens per second: what the prompt names ("at 100
    tokens/s"), else options.tokens_per_second (a test-only option; a real server ignores options it
    does not know, and ``%%ollama -o`` refuses them), else :data:`PACED_RATE`."""
    found = _RATE.search(prompt.last_user)
    value: Any = float(found.group(1)) if found else prompt.options.get("tokens_per_second")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100_000:
        return PACED_RATE
    return float(value)


def essay_tag(question: str) -> str:
    """The word an essay answer repeats: the question's first keyword ("student7"), else "word"."""
    words = re.findall(r"[A-Za-z0-9]+", question)
    return words[0].lower() if words else "word"


def essay_tokens(tag: str, n: int) -> list[str]:
    """``tag-0 tag-1 ...``: an answer whose every token says which question and which position it
    belongs to, so a load test can tell a complete, unmixed answer from a damaged one."""
    return [f"{tag}-{i}" if i == 0 else f" {tag}-{i}" for i in range(n)]


def essay_text(question: str, n: int = ESSAY_TOKENS) -> str:
    """What ``essay:latest`` answers to ``question`` (with ``num_predict=n``)."""
    return "".join(essay_tokens(essay_tag(question), n))


def rng_for(prompt: Prompt) -> random.Random:
    """Same (prompt, system, seed) -> same answer; temperature 0 is deterministic too."""
    seed = prompt.options.get("seed")
    base = f"{prompt.last_user}\x00{prompt.system}"
    if isinstance(seed, (int, float)) and not isinstance(seed, bool) and seed >= 0:
        return random.Random(f"{int(seed)}\x00{base}")
    if prompt.options.get("temperature") == 0:
        return random.Random(base)
    return random.Random()


def answer(kind: str, prompt: Prompt) -> Answer:
    """The reply of a model of ``kind`` (see catalog.py) to ``prompt``."""
    rng = rng_for(prompt)
    if kind == "bulk":
        n = _num_predict(prompt)
        return Answer(bulk=1000 if n is None else n, delay=0.0)
    if kind == "slow":
        words = [BULK_WORDS[i % len(BULK_WORDS)] for i in range(200)]
        words[0] = words[0].lstrip()
        return limit(Answer(content=words, delay=SLOW_DELAY), prompt)
    if kind in ("paced", "paced-thinking"):
        n = _num_predict(prompt)
        total = PACED_TOKENS if n is None else n
        # paced-thinking thinks first, for the first half of the tokens (the same kind of text).
        thought = total // 2 if kind == "paced-thinking" and prompt.think else 0
        return Answer(
            thinking=paced_tokens(thought) if thought else [],
            content=paced_tokens(total - thought),
            delay=1.0 / paced_rate(prompt),
        )
    if kind == "loading":  # silent before the first byte, like a model loading for minutes
        return Answer(ending="stall")
    if kind in ("stall", "dropped", "error-midstream", "malformed"):
        ending = {"stall": "stall", "dropped": "drop", "error-midstream": "error", "malformed": "malformed"}
        return Answer(content=tokens(PARTIAL), ending=ending[kind])
    if kind == "markdown":
        return limit(Answer(content=tokens(MARKDOWN)), prompt)
    if kind == "hostile":
        return limit(Answer(content=tokens(HOSTILE)), prompt)
    if kind == "essay":
        n = _num_predict(prompt)
        return Answer(content=essay_tokens(essay_tag(prompt.last_user), ESSAY_TOKENS if n is None else n))

    voice = VOICES.get(kind, "short")
    result = Answer()
    last = prompt.messages[-1] if prompt.messages else {}
    if prompt.tools and last.get("role") == "user":
        call = tool_call(prompt.tools, prompt.last_user, rng)
        result.tool_calls = [call]
        if prompt.think:
            result.thinking = tokens(" ".join(_tool_thoughts(prompt.last_user, call)))
        return limit(result, prompt)
    if prompt.format is not None and prompt.format != "":
        if prompt.think:
            result.thinking = tokens(" ".join(_json_thoughts(prompt.last_user)))
        result.content = json_tokens(_structured(prompt, rng))
        return limit(result, prompt)
    if kind == "vision":
        one, full = vision.describe(prompt.images, prompt.last_user)
        style = answers.style_of(prompt.system, prompt.last_user)
        text = one if style.sentences == 1 or style.short else full
        text = answers.pirate(text, closing=True) if style.pirate else text
    elif last.get("role") == "tool":
        text = _after_tool(prompt, voice)
    else:
        thinking, text = answers.reply(voice, prompt.messages, prompt.system, prompt.think, rng)
        if thinking and kind in ("qwen", "thinking", "gptoss"):
            result.thinking = tokens(thinking)
    result.content = tokens(text)
    return limit(result, prompt)


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


def _structured(prompt: Prompt, rng: random.Random) -> str:
    topic = topics.find(prompt.last_user)
    items = list(topic.items) if topic else []
    if isinstance(prompt.format, dict):
        return json.dumps(structured.instance(prompt.format, prompt.last_user, items=items))
    if items:
        return json.dumps({"items": items})
    _, text = answers.reply("short", prompt.messages, prompt.system, None, rng)
    return json.dumps({"answer": text})


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _num_predict(prompt: Prompt) -> int | None:
    value = prompt.options.get("num_predict")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def limit(result: Answer, prompt: Prompt) -> Answer:
    """Apply options.stop (cuts content, done_reason stop) then options.num_predict ("length")."""
    stops = [s for s in prompt.options.get("stop") or [] if isinstance(s, str) and s]
    if stops and result.content:
        text = "".join(result.content)
        cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
        if cut >= 0:
            kept, used = [], 0
            for token in result.content:
                if used + len(token) >= cut:
                    if cut - used > 0:
                        kept.append(token[: cut - used])
                    break
                kept.append(token)
                used += len(token)
            result.content = kept
    n = _num_predict(prompt)
    total = len(result.thinking) + len(result.content) + (1 if result.tool_calls else 0)
    if n is not None and total > n:
        result.thinking = result.thinking[:n]
        result.content = result.content[: max(0, n - len(result.thinking))]
        result.tool_calls = None if len(result.thinking) + len(result.content) >= n else result.tool_calls
        result.truncated = True
    return result


# --------------------------------------------------------------------------- tools


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


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@functools.lru_cache(maxsize=4096)
def _word_vector(word: str, dims: int) -> tuple[float, ...]:
    """A fixed pseudo-random dense direction per word (dense, so ``dimensions`` can truncate)."""
    rng = random.Random(hashlib.blake2b(word.encode(), digest_size=16).digest())
    return tuple(rng.gauss(0.0, 1.0) for _ in range(dims))


def raw_embedding(text: str, dims: int) -> list[float]:
    """Bag of words: the sum of each word's direction, so texts sharing words come out similar."""
    vector = [0.0] * dims
    words = [_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())] or [""]
    for word in words:
        weight = 0.3 if word in STOPWORDS else 1.0
        for i, value in enumerate(_word_vector(word, dims)):
            vector[i] += weight * value
    return vector


def normalize(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    # float32-like precision, as the real server returns []float32
    return [float(f"{v / norm:.8g}") for v in vector]


def embed(text: str, dims: int, dimensions: int | None = None) -> list[float]:
    vector = raw_embedding(text, dims)
    if dimensions:
        vector = vector[:dimensions]
    return normalize(vector)


def legacy_embedding(text: str, dims: int) -> list[float]:
    """/api/embeddings: the same direction, not normalised (as the legacy route returns)."""
    return [float(f"{v * 0.11:.8g}") for v in raw_embedding(text, dims)]
