"""The demo's voice: what the ordinary models say, separate from the wire-level emulator.

The emulator asks its voice for every answer that is not a scenario model's
(``scenarios.Voice``: ``answer(kind, prompt) -> Answer``). :class:`DemoVoice` is the default: its
questions and answers are data (``topics.json``, plus any topic files you give it), its
instruction following is ``answers.py``, its picture reading ``vision.py``, its JSON for a schema
``structured.py``. Give ``Emulator(voice=...)`` another object with the same method to make the
models say something else.
"""

from __future__ import annotations

from .demo import DemoVoice
from .topics import Topic, Topics

__all__ = ["DemoVoice", "Topic", "Topics"]
