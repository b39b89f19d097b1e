"""What the demo models know, read from data: ``topics.json`` (shipped) and any topic files given.

A topic is a regex searched in the lower-cased question and hand-written answers in three voices,
so comparing models shows real differences: ``short`` (llama3.2: plain, a few sentences),
``medium`` (qwen3: structured Markdown), ``long`` (gpt-oss: longer, with tables or code).
``kid`` (and ``kid_medium`` / ``kid_long``) answer at a child's level; ``think`` is the reasoning a
thinking model shows, in whole sentences; ``items`` feeds structured output; ``{where}`` in an
answer becomes " in <City>" when the question names one. The first topic that matches answers.
Answers are facts a teacher can stand behind; ``answers.py`` picks, shortens and restyles them.

A topic file is JSON: ``{"topics": [{"key": ..., "pattern": ..., "short": ..., "medium": ...,
"long": ..., "think": [...]}, ...]}``, optionally ``"robots": {"pattern": ..., "names": [...]}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUILT_IN = Path(__file__).with_name("topics.json")
_REQUIRED = ("key", "pattern", "short", "medium", "long")


@dataclass(frozen=True)
class Topic:
    key: str
    pattern: str  # regex, searched in the lower-cased question
    short: str
    medium: str
    long: str
    think: list[str]
    kid: str = ""
    items: list[str] = field(default_factory=list)
    kid_medium: str = ""  # the child's-level answer in qwen3's and gpt-oss's voices
    kid_long: str = ""

    def matches(self, question: str) -> bool:
        return re.search(self.pattern, question.lower()) is not None

    @classmethod
    def from_json(cls, entry: Any, where: str) -> Topic:
        """One entry of a topic file; a ValueError names the file and what is wrong."""
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), str) for k in _REQUIRED):
            raise ValueError(f"{where}: every topic needs the strings {', '.join(_REQUIRED)}")
        known = {k: v for k, v in entry.items() if k in cls.__dataclass_fields__}
        try:
            re.compile(known["pattern"])
        except re.error as exc:
            raise ValueError(f"{where}: topic {known['key']!r} has a bad pattern: {exc}") from None
        known.setdefault("think", [])
        return cls(**known)


@dataclass(frozen=True)
class Topics:
    """Every topic in search order, and the robot names the "invent a robot" question picks from."""

    topics: tuple[Topic, ...]
    robot_pattern: str
    robots: tuple[str, ...]

    @classmethod
    def load(cls, extra: Iterable[str | Path] = ()) -> Topics:
        """The given files' topics first (so a course can override one), then the built-in ones."""
        topics: list[Topic] = []
        robots: dict[str, Any] = {}
        for path in [*extra, BUILT_IN]:
            data = json.loads(Path(path).read_text("utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("topics", []), list):
                raise ValueError(f"{path}: a topic file is an object with a list of topics")
            topics += [Topic.from_json(entry, str(path)) for entry in data.get("topics", [])]
            robots = robots or data.get("robots") or {}
        return cls(tuple(topics), str(robots.get("pattern", r"\brobot\b")), tuple(robots.get("names", ())))

    def find(self, question: str) -> Topic | None:
        """The first topic whose pattern matches the question, else None."""
        return next((topic for topic in self.topics if topic.matches(question)), None)
