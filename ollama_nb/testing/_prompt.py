"""What a generate/chat request asks for, and the whole answer before pacing: the types every
answer source (the scenario models, the demo voice, a voice of your own) shares.

``Prompt`` is the part of a request that shapes the answer; ``Answer`` is the reply as tokens,
which ``_generation.py`` turns into timed chunks. ``limit`` applies ``options.stop`` and
``options.num_predict`` the same way for every source.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any


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


# Words that say little about a question's topic (tool matching, embeddings weigh them down).
STOPWORDS = frozenset(
    (  # noqa: SIM905 - a sentence of words reads better than a hundred quoted strings
        "a an the and or but if then of to in on at by for with about from into is are was were be been "
        "do does did can could would should will shall may might must i you he she it we they me my your "
        "what which who whom whose when where why how this that these those there here please tell give "
        "explain some any all just very so as not no yes up out than too also its it's im i'm"
    ).split()
)


def rng_for(prompt: Prompt) -> random.Random:
    """Same (prompt, system, seed) -> same answer; temperature 0 is deterministic too."""
    seed = prompt.options.get("seed")
    base = f"{prompt.last_user}\x00{prompt.system}"
    if isinstance(seed, (int, float)) and not isinstance(seed, bool) and seed >= 0:
        return random.Random(f"{int(seed)}\x00{base}")
    if prompt.options.get("temperature") == 0:
        return random.Random(base)
    return random.Random()


def num_predict(prompt: Prompt) -> int | None:
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
    n = num_predict(prompt)
    total = len(result.thinking) + len(result.content) + (1 if result.tool_calls else 0)
    if n is not None and total > n:
        result.thinking = result.thinking[:n]
        result.content = result.content[: max(0, n - len(result.thinking))]
        result.tool_calls = None if len(result.thinking) + len(result.content) >= n else result.tool_calls
        result.truncated = True
    return result
