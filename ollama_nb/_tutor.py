"""A course prompt: ``TUTOR.md`` next to the notebook (or in a folder above it), else the config
file's ``system``, becomes the system prompt of ``%%ollama`` and the chat widget.

``TUTOR.md`` is the convention jupyter-ai-tutor uses; the closest one wins, because a course's
folder is more specific than a site-wide config file. ``--system`` in a cell still wins over both.

Usage::

    from ollama_nb._tutor import course_prompt
    prompt = course_prompt()   # CoursePrompt(text=..., source='/home/ann/ml101/TUTOR.md') or None
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FILE_NAME", "CoursePrompt", "apply_course_prompt", "course_prompt", "notebook_dir"]

FILE_NAME = "TUTOR.md"
#: A course prompt longer than this is cut: it is sent with every question.
LIMIT = 20_000
#: Folders looked at above the notebook's (a home directory is rarely deeper).
DEPTH = 12


@dataclass(frozen=True)
class CoursePrompt:
    text: str
    source: str  # a file's path, or "config file PATH"
    cut: int = 0  # characters left out past LIMIT


def notebook_dir() -> Path:
    """The notebook's folder: from ``JPY_SESSION_NAME`` (set by Jupyter Server) when it names an
    existing file, else the kernel's working directory (where Jupyter starts it)."""
    session = os.environ.get("JPY_SESSION_NAME")
    if session and os.path.isfile(session):
        return Path(session).resolve().parent
    return Path.cwd()


def find_tutor(start: Path | None = None) -> Path | None:
    """The closest ``TUTOR.md`` in ``start`` or a folder above it."""
    folder = (start or notebook_dir()).resolve()
    for candidate in [folder, *folder.parents][:DEPTH]:
        path = candidate / FILE_NAME
        if path.is_file():
            return path
    return None


def apply_course_prompt(conv: Any, system: str | None) -> None:
    """A fresh :class:`~ollama_nb.Conversation` without a system prompt gets the course prompt
    (a ``system`` given by the user, ``--system`` in a cell, wins)."""
    if system is None and conv.system is None and len(conv) == 0:
        prompt = course_prompt()
        if prompt is not None:
            conv.configure(system=prompt.text)


def course_prompt(start: Path | None = None) -> CoursePrompt | None:
    """The course prompt in force, or None."""
    path = find_tutor(start)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        if text:
            return CoursePrompt(text[:LIMIT], str(path), max(0, len(text) - LIMIT))
    from ._settings_file import file_settings

    system = file_settings().values.get("system")
    if isinstance(system, str) and system.strip():
        return CoursePrompt(system.strip()[:LIMIT], f"config file {file_settings().source_of('system')}")
    return None
