"""The notebook as context for ``%%ollama``, and the line commands built on it.

- ``%ollama fix`` / ``%ollama explain``: the last error (its cell and traceback, see
  :mod:`ollama_nb._notebook`) sent as a ``%%ollama`` prompt, streamed into the cell;
- ``%ollama insert [N]``: the N-th code block of the last answer into a new cell below (through
  IPython's ``set_next_input``; nothing runs by itself);
- ``%ollama tutor``: the course prompt and where it came from;
- for the cell magic: the prompt with ``{Err}``, summarised values and ``--context N`` cells, the
  course prompt, the class's allowed models, and a warning when a prompt will not fit.

Usage::

    %ollama fix -m llama3.2
    %ollama insert 2
"""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.error import UsageError

from .._codeblocks import code_blocks
from .._context import LOCAL_DEFAULT, model_context_length
from .._conversation import Conversation
from .._notebook import log, missing_errors, with_errors
from .._render import chrome
from .._settings_file import file_settings
from .._summary import summarise
from .._tutor import apply_course_prompt, course_prompt
from ._shared import DEFAULT_CHAT, display_html, show_error
from .prompt import interpolate

__all__ = [
    "COMMANDS",
    "apply_course_prompt",
    "build_prompt",
    "check_model",
    "cmd_insert",
    "insert_code",
    "run_notebook_command",
    "warn_if_too_long",
]

COMMANDS: dict[str, str] = {
    "fix [OPTIONS]": "send the last error and its cell to the model; the answer explains and fixes it",
    "explain [OPTIONS]": "send the last error and its cell; the answer explains what it means",
    "insert [N] [--chat NAME]": "put the N-th code block of the last answer (default: the last) in a new cell",
    "tutor": "the course prompt (TUTOR.md or the config file's system) and where it came from",
}

_ASKS = {
    "fix": "Explain briefly what went wrong, then give the corrected cell as one Python code block.",
    "explain": "Explain what this error means and why it happened, in plain words; do not rewrite the cell.",
}
#: Characters a token takes at least, for the warning before sending (generous: it must not cry wolf).
CHARS_PER_TOKEN = 4


def _say(sentence: str) -> None:
    display_html(sentence, chrome.paragraph(sentence))


def cmd_ask_about_error(shell: Any, mode: str, rest: list[str]) -> Any:
    """``%ollama fix`` / ``%ollama explain``: a ``%%ollama`` cell made of the last error."""
    record = log.last_error()
    if record is None:
        show_error(
            f"No error to {mode}: no cell has raised an exception since `%load_ext ollama_nb`.",
            f"Run the cell that fails, then `%ollama {mode}` again.",
        )
        return None
    prompt = f"This cell of my Jupyter notebook raised an error.\n\n{record.as_prompt()}\n\n{_ASKS[mode]}"
    from .cell import run_cell_magic

    options = [*rest, *([] if "--no-interpolate" in rest else ["--no-interpolate"])]
    return run_cell_magic(shell, shlex.join(options), prompt)


def _last_answer(chat: str) -> str:
    if chat not in Conversation.names():
        raise UsageError(f"%ollama insert: there is no conversation {chat!r} yet; ask with %%ollama first.")
    answers = [m.get("content") or "" for m in Conversation.named(chat).messages if m.get("role") == "assistant"]
    if not answers:
        raise UsageError("%ollama insert: no answer yet; ask with %%ollama first.")
    return str(answers[-1])


def insert_code(shell: Any, answer: str, number: int | None = None) -> bool:
    """The ``number``-th (1-based, negative from the end; default the last) code block of ``answer``
    as the next cell. False, after saying why, when there is no such block."""
    blocks = code_blocks(answer)
    if not blocks:
        show_error("The last answer has no code block to insert.", "Ask for the code in a ```python block.")
        return False
    index = len(blocks) if number is None else number
    if not (1 <= abs(index) <= len(blocks)) or index == 0:
        show_error(f"The last answer has {len(blocks)} code block(s), not a block {number}.", "Use 1 to the count.")
        return False
    block = blocks[index - 1 if index > 0 else index]
    shell.set_next_input(block.code.rstrip("\n"), replace=False)
    place = blocks.index(block) + 1
    _say(f"Code block {place} of {len(blocks)} is in a new cell below. Nothing ran: read it, then run it.")
    return True


def cmd_insert(shell: Any, rest: list[str]) -> None:
    chat, numbers = DEFAULT_CHAT, []
    words = iter(rest)
    for word in words:
        if word == "--chat":
            chat = next(words, "")
        elif word.lstrip("-").isdigit():
            numbers.append(int(word))
        else:
            raise UsageError("Usage: %ollama insert [N] [--chat NAME]  (N: which code block, 1 = the first)")
    if len(numbers) > 1 or not chat:
        raise UsageError("Usage: %ollama insert [N] [--chat NAME]  (N: which code block, 1 = the first)")
    insert_code(shell, _last_answer(chat), numbers[0] if numbers else None)


def cmd_tutor(rest: list[str]) -> None:
    if rest:
        raise UsageError("Usage: %ollama tutor")
    prompt = course_prompt()
    if prompt is None:
        _say("No course prompt: put a TUTOR.md next to the notebook (or in a folder above), or `system` in the config.")
        return
    head = f"Course prompt from {prompt.source} (the system prompt of %%ollama; --system in a cell wins):"
    cut = f"\n… [{prompt.cut:,} characters cut: a course prompt is sent with every question]" if prompt.cut else ""
    display_html(f"{head}\n{prompt.text}{cut}", chrome.paragraph(head), chrome.code(prompt.text + cut))


def run_notebook_command(shell: Any, command: str, rest: list[str]) -> tuple[bool, Any]:
    """(handled, value) for the line commands of this module."""
    if command in _ASKS:
        return True, cmd_ask_about_error(shell, command, rest)
    if command == "insert":
        cmd_insert(shell, rest)
        return True, None
    if command == "tutor":
        cmd_tutor(rest)
        return True, None
    return False, None


# --------------------------------------------------------------------------- the cell magic's hooks


def _recent(count: int) -> str:
    cells = log.recent(count)
    if not cells:
        raise UsageError("%%ollama: --context: no cell has run yet (cells that ask the model are not counted).")
    listed = "\n\n".join(c.as_prompt() for c in cells)
    return f"The last {len(cells)} cell(s) I ran in my notebook, oldest first:\n\n{listed}\n\nMy question:\n"


def build_prompt(cell: str, namespace: Any, *, fill: bool, context: int | None) -> str:
    """The prompt sent for a cell: fields filled (values summarised, ``{Err}``), recent cells first."""
    prompt = cell
    if fill:
        problem = missing_errors(cell, namespace)
        if problem:
            raise UsageError(f"%%ollama: {problem}")
        prompt = interpolate(cell, with_errors(namespace), convert=summarise)
    if context is not None:
        if context < 1:
            raise UsageError("%%ollama: --context takes how many recent cells to send (1 or more).")
        prompt = _recent(context) + prompt
    return prompt


def check_model(model: str) -> None:
    """A model outside the config file's ``models`` (the ones a class may use) is refused."""
    allowed = file_settings().values.get("models")
    if allowed and model not in allowed and model.split(":")[0] not in allowed:
        where = file_settings().source_of("models")
        raise UsageError(f"%%ollama: {model} is not one of this class's models ({', '.join(allowed)}; set in {where}).")


def warn_if_too_long(client: Any, model: str, messages: list[dict[str, Any]], options: dict[str, Any]) -> bool:
    """Say, before sending, that a prompt is larger than the model's context here; True if said."""
    chars = sum(len(str(m.get("content") or "")) for m in messages)
    tokens = chars // CHARS_PER_TOKEN
    if tokens < 1024:  # fits every window Ollama runs with: not worth a question to the server
        return False
    asked = options.get("num_ctx")
    maximum = model_context_length(client, model)
    window = int(asked) if isinstance(asked, int) else min(maximum or LOCAL_DEFAULT, LOCAL_DEFAULT)
    if tokens <= window:
        return False
    room = min(maximum, tokens * 2) if maximum else tokens * 2
    show_error(
        f"This prompt is about {tokens:,} tokens, more than the {window:,}-token context {model} runs with here: "
        f"Ollama will cut its start, and the model will not see it.",
        f"Send less (a DataFrame in {{braces}} is sent as a summary; use fewer --context cells), "
        f"or give it room with `-o num_ctx={room}`.",
        title="Too long",
    )
    return True
