"""The chat widget's model picker: one entry per installed model that can chat.

``/api/tags`` names every model ``name:tag`` (``llama3.2:latest``) while people write ``llama3.2``;
the picker shows the user's spelling for the current model instead of listing it twice. Models
without the ``completion`` capability (embedding-only ones such as ``nomic-embed-text``) cannot
chat, so they are left out. The capabilities come from the tags entry (Ollama >= 0.12 sends
them) or, for older servers, from ``/api/show``, asked once per model digest.
"""

from __future__ import annotations

from typing import Any


def full_name(name: str) -> str:
    """``llama3.2`` -> ``llama3.2:latest`` (a tag is the part after ':' in the last path segment)."""
    return name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"


def same_model(a: str, b: str) -> bool:
    return full_name(a).lower() == full_name(b).lower()


def chat_models(client: Any, entries: list[dict[str, Any]], cache: dict[str, list[str]]) -> list[str]:
    """Names of the listed models that can chat, in the server's order."""
    names = []
    for entry in entries:
        name = entry.get("model") or entry.get("name")
        if not name:
            continue
        caps = entry.get("capabilities")
        if not isinstance(caps, list):
            key = str(entry.get("digest") or name)
            if key not in cache:
                try:
                    cache[key] = list(client.show(name).get("capabilities") or ["completion"])
                except Exception:
                    cache[key] = ["completion"]
            caps = cache[key]
        if "completion" in caps:
            names.append(str(name))
    return names


def picker_names(names: list[str], current: str) -> list[str]:
    """``names`` with the current model in the user's spelling, once; first if it is not installed."""
    if not current:
        return list(names)
    out = [current if same_model(n, current) else n for n in names]
    return out if current in out else [current, *out]
