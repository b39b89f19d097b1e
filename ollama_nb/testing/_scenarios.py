"""What the scenario models say: the answers tests use to reproduce failures and measure speed.

Pure functions of the request, no I/O. ``answer`` gives a scenario model's reply and hands every
other model to the emulator's voice (``_voice/``: the demo's answers, or one of your own), so a
new demo question never touches this file. ``_generation.py`` turns an ``Answer`` into timed chunks.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from ._prompt import Answer, Prompt, limit, num_predict, tokens


class Voice(Protocol):
    """An answer source for the ordinary (non-scenario) models: see ``voice.DemoVoice``."""

    def answer(self, kind: str, prompt: Prompt) -> Answer:
        """The reply of a model of ``kind`` (its family: "llama", "qwen", ...) to ``prompt``."""
        ...


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


def answer(kind: str, prompt: Prompt, voice: Voice) -> Answer:
    """The reply of a model of ``kind`` (see _catalog.py) to ``prompt``: a scenario's, else the voice's."""
    n = num_predict(prompt)
    if kind == "bulk":
        return Answer(bulk=1000 if n is None else n, delay=0.0)
    if kind == "slow":
        words = [BULK_WORDS[i % len(BULK_WORDS)] for i in range(200)]
        words[0] = words[0].lstrip()
        return limit(Answer(content=words, delay=SLOW_DELAY), prompt)
    if kind in ("paced", "paced-thinking"):
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
    if kind in _ENDINGS:
        return Answer(content=tokens(PARTIAL), ending=_ENDINGS[kind])
    if kind in _FIXED:
        return limit(Answer(content=tokens(_FIXED[kind])), prompt)
    if kind == "essay":
        return Answer(content=essay_tokens(essay_tag(prompt.last_user), ESSAY_TOKENS if n is None else n))
    return voice.answer(kind, prompt)


_ENDINGS = {"stall": "stall", "dropped": "drop", "error-midstream": "error", "malformed": "malformed"}
_FIXED = {"markdown": MARKDOWN, "hostile": HOSTILE}
