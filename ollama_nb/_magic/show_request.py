"""``%%ollama --show-request``: the request as a curl command, and the NDJSON lines that came back.

Both are shown through the render layer with any key masked; the curl command reads the key from
``$OLLAMA_API_KEY`` instead of printing it.
"""

from __future__ import annotations

import collections
import json
import shlex
from typing import Any

from .._redact import mask_data
from .._render import chrome

__all__ = ["ChunkLog", "curl_command", "show_chunks", "show_request"]

MAX_SHOWN_LINES = 200  # NDJSON lines shown before eliding the middle


def _redacted_body(body: dict[str, Any]) -> dict[str, Any]:
    """The request body as shown to people: image payloads summarised (they are huge)."""
    out = dict(body)
    if "messages" in out:
        messages = []
        for m in out["messages"]:
            m = dict(m)
            if m.get("images"):
                m["images"] = [f"<base64 image, {len(i)} characters>" for i in m["images"]]
            messages.append(m)
        out["messages"] = messages
    return out


def curl_command(client: Any, path: str, body: dict[str, Any]) -> str:
    """The request as a curl command. The key is never shown: it reads ``$OLLAMA_API_KEY``."""
    data = json.dumps(_redacted_body(body), indent=2, ensure_ascii=False).replace("'", "'\\''")
    # Quoted: a host holding `$(...)`, backticks or `;` is text to a shell, never a command.
    lines = [f"curl {shlex.quote(client.host + path)} \\"]
    if client.has_key:
        lines.append('  -H "Authorization: Bearer $OLLAMA_API_KEY" \\')
    lines.append(f"  -d '{data}'")
    return "\n".join(lines)


def show_request(client: Any, body: dict[str, Any]) -> None:
    from IPython.display import display

    command = curl_command(client, "/api/chat", body)
    display(
        mask_data(chrome.bundle(command, chrome.title("Request"), chrome.code(command, "bash"))), raw=True
    )


class ChunkLog:
    """The NDJSON lines for --show-request: the first ones and the last few (a long answer has
    thousands)."""

    def __init__(self) -> None:
        self.head: list[str] = []
        self.tail: collections.deque[str] = collections.deque(maxlen=5)
        self.total = 0

    def add(self, chunk: Any) -> None:
        self.total += 1
        line = json.dumps(chunk, ensure_ascii=False)
        (self.head.append if len(self.head) < MAX_SHOWN_LINES else self.tail.append)(line)

    def text(self) -> str:
        hidden = self.total - len(self.head) - len(self.tail)
        middle = [f"… {hidden} more lines …"] if hidden > 0 else []
        return "\n".join(self.head + middle + list(self.tail))


def show_chunks(log: ChunkLog) -> None:
    from IPython.display import display

    text, total = log.text(), log.total
    # The raw lines are server text: a key echoed in them is masked like everywhere else.
    display(
        mask_data(chrome.bundle(text, chrome.details(f"Response: {total} NDJSON lines", chrome.code(text, "json")))),
        raw=True,
    )
