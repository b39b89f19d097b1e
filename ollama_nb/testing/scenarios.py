"""What each scenario model says: answer text, tokens, thinking, tool calls, images, embeddings.

Pure functions of the request, no I/O. ``routes.py`` turns an ``Answer`` into timed chunks.
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
import struct
from dataclasses import dataclass, field
from typing import Any

from . import structured

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
    "a an the and or but if then of to in on at by for with about from into is are was were be been "
    "do does did can could would should will shall may might must i you he she it we they me my your "
    "what which who whom whose when where why how this that these those there here please tell give "
    "explain me some any all just very so as not no yes up out than too also its it's im i'm".split()
)


def keywords(text: str, limit: int = 3) -> list[str]:
    seen: list[str] = []
    for word in re.findall(r"[A-Za-z][A-Za-z0-9'-]{2,}", text):
        low = word.lower()
        if low not in STOPWORDS and low not in [s.lower() for s in seen]:
            seen.append(word)
    return seen[:limit]


def _topic(text: str) -> str:
    words = keywords(text)
    if not words:
        return "your question"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --------------------------------------------------------------------------- the answers

OPENERS = [
    "Here is a short answer about {topic}.",
    "Good question about {topic}.",
    "Let me explain {topic} briefly.",
    "Here is what matters most about {topic}.",
]
MIDDLES = [
    "The key idea is to start small and check each step.",
    "It helps to separate what you know from what you assume.",
    "Most of the work is in stating the problem clearly.",
    "A quick experiment usually answers more than a long debate.",
    "Keep the example minimal so the important part stands out.",
]
BULLETS = [
    "Start with a simple example",
    "Measure before you optimise",
    "Write down your assumptions",
    "Check the edge cases",
    "Compare two alternatives",
    "Keep notes as you go",
]
CLOSERS = ["I hope this helps.", "Let me know if you want more detail.", "Feel free to ask a follow-up."]
THOUGHTS = [
    "Okay, the user is asking about {topic}.",
    "I should give a clear answer with a short list.",
    "Let me consider what matters most here.",
    "A small example would make it concrete.",
    "I will also mention a pitfall to avoid.",
    "That should be enough, so now I can answer.",
]
THINK_TOKENS = {"low": 10, "medium": 20, "high": 40, "max": 60}
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
BULK_WORDS = [" lorem", " ipsum", " dolor", " sit", " amet", " consectetur", " adipiscing", " elit",
              " sed", " do", " eiusmod", " tempor", " incididunt", " ut", " labore", " magna"]
SLOW_DELAY = 0.05
STALL_SECONDS = 120.0


ESSAY_TOKENS = 300


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

    result = Answer()
    if kind == "thinking" and prompt.think:
        result.thinking = _thinking(prompt, rng)
    last = prompt.messages[-1] if prompt.messages else {}
    if prompt.tools and last.get("role") == "user":
        result.tool_calls = [tool_call(prompt.tools, prompt.last_user, rng)]
        return limit(result, prompt)
    if prompt.format is not None and prompt.format != "":
        text = _structured(prompt, rng)
        result.content = json_tokens(text)
        return limit(result, prompt)
    if kind == "vision":
        text = describe_images(prompt.images, prompt.last_user)
    elif last.get("role") == "tool":
        text = _after_tool(prompt)
    else:
        text = _plain(prompt, rng)
    result.content = tokens(text)
    return limit(result, prompt)


def _plain(prompt: Prompt, rng: random.Random) -> str:
    question = prompt.last_user
    topic = _topic(question)
    lines = []
    if prompt.system:
        lines.append(f"[Following the system prompt: {_shorten(prompt.system, 120)}]\n\n")
    if re.search(r"what did i|previous question|earlier", question, re.IGNORECASE):
        users = [str(m.get("content") or "") for m in prompt.messages if m.get("role") == "user"]
        if len(users) >= 2:
            lines.append(f'You previously asked: "{users[-2]}". ')
        else:
            lines.append("You have not asked me anything before this message. ")
    middles = rng.sample(MIDDLES, 2)
    lines.append(rng.choice(OPENERS).format(topic=topic) + " " + " ".join(middles) + "\n\n")
    lines.append("\n".join(f"- {b}." for b in rng.sample(BULLETS, 3)) + "\n\n")
    lines.append(rng.choice(CLOSERS))
    return "".join(lines)


def _thinking(prompt: Prompt, rng: random.Random) -> list[str]:
    wanted = THINK_TOKENS.get(prompt.think or "medium", 20)
    topic = _topic(prompt.last_user)
    sentences: list[str] = []
    while len(tokens(" ".join(sentences))) < wanted:
        sentences.append(THOUGHTS[len(sentences) % len(THOUGHTS)].format(topic=topic))
    return tokens(" ".join(sentences))[:wanted]


def _after_tool(prompt: Prompt) -> str:
    results = []
    for message in reversed(prompt.messages):
        if message.get("role") != "tool":
            break
        results.insert(0, message)
    parts = []
    for message in results:
        name = message.get("tool_name") or "the tool"
        parts.append(f"The {name} tool returned: {message.get('content', '')}.")
    return " ".join(parts) + " Based on that result, this is my answer."


def _structured(prompt: Prompt, rng: random.Random) -> str:
    if isinstance(prompt.format, dict):
        return json.dumps(structured.instance(prompt.format, prompt.last_user))
    return json.dumps({"answer": rng.choice(OPENERS).format(topic=_topic(prompt.last_user))})


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


# --------------------------------------------------------------------------- images


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) read from a PNG or JPEG header, else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "PNG", width, height
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return "JPEG", width, height
            i += 2 + length
        return "JPEG", 0, 0
    return None


def describe_images(images: list[bytes], question: str) -> str:
    if not images:
        return "I don't see an image in this message. Attach one with `images` and ask again."
    lines = [f"I received {len(images)} image{'s' if len(images) != 1 else ''}."]
    for i, data in enumerate(images, 1):
        info = image_size(data)
        if info and info[1]:
            kind, width, height = info
            lines.append(f"- Image {i}: a {kind} picture, {width}x{height} pixels, {len(data)} bytes.")
        else:
            lines.append(f"- Image {i}: {len(data)} bytes in a format I cannot read the size of.")
    lines.append(f"That is what I can tell about {_topic(question)}.")
    return lines[0] + "\n\n" + "\n".join(lines[1:-1]) + "\n\n" + lines[-1]


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
