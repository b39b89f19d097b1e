"""The chunks of an answer as the real server writes them: intermediate ones (no metrics, optional
fields absent when empty), the final one with metrics, and the made-up but stable extras
(logprobs, the deprecated ``context`` token ids)."""

from __future__ import annotations

import time
from typing import Any

from ._prompt import Answer
from ._wire import duration_ns, rfc3339


def done_only(name: str, route: str, reason: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": name, "created_at": rfc3339()}
    if route == "chat":
        body["message"] = {"role": "assistant", "content": ""}
    else:
        body["response"] = ""
    body.update(done=True, done_reason=reason)
    return body


def answer_chunk(
    route: str,
    name: str,
    *,
    content: str = "",
    thinking: str = "",
    tool_calls: list[dict[str, Any]] | None = None,
    top: int = -1,
) -> dict[str, Any]:
    """An intermediate chunk: no metrics, no done_reason, optional fields absent when empty.

    ``top`` >= 0 adds ``logprobs`` for the chunk's token with that many alternatives (-1: none).
    """
    if route == "chat":
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if thinking:
            message["thinking"] = thinking
        if tool_calls:
            message["tool_calls"] = tool_calls
        chunk: dict[str, Any] = {"model": name, "created_at": rfc3339(), "message": message, "done": False}
    else:
        chunk = {"model": name, "created_at": rfc3339(), "response": content}
        if thinking:
            chunk["thinking"] = thinking
        chunk["done"] = False
    if top >= 0 and (content or thinking):
        chunk["logprobs"] = [logprob(content or thinking, top)]
    return chunk


def logprob(token: str, top: int) -> dict[str, Any]:
    """A token's made-up but stable log-probability, shaped as api.Logprob: ``token``,
    ``logprob`` (<= 0), ``bytes`` (UTF-8), and ``top_logprobs`` (the token first, then ``top - 1``
    less likely variants, each with its own bytes), which the server leaves out when not asked."""
    value = -round((hash_id(token) % 1000) / 400.0, 6)
    out: dict[str, Any] = {"token": token, "logprob": value, "bytes": list(token.encode())}
    if top > 0:
        alts = [{"token": token, "logprob": value, "bytes": list(token.encode())}]
        for i in range(1, top):
            alt = token.strip().upper() if i == 1 else f"{token.strip()}{i}"
            alts.append({"token": alt, "logprob": round(value - 0.5 * i, 6), "bytes": list(alt.encode())})
        out["top_logprobs"] = alts
    return out


def context_ids(history: str, answer: Answer, prompt_tokens: int) -> list[int]:
    """Fake token ids for the deprecated ``context`` field: stable per word."""
    words = history.split() + "".join(answer.content).split()
    ids = [hash_id(w) for w in words] or [1]
    return ids[: max(prompt_tokens, 1) + len(answer.content)]


def hash_id(word: str) -> int:
    value = 0
    for char in word:
        value = (value * 131 + ord(char)) % 128_000
    return value + 1


def final_chunk(
    route: str, name: str, truncated: bool, context: list[int] | None, clock: list[float], prompt_count: int, count: int
) -> dict[str, Any]:
    """The last chunk: done, its reason and the metrics (``clock``: started, loaded, evaluating)."""
    started, loaded, evaluating = clock
    done = time.perf_counter()
    final = done_only(name, route, "length" if truncated else "stop")
    if context is not None:
        final["context"] = context
    final["total_duration"] = duration_ns(done - started)
    final["load_duration"] = duration_ns(loaded - started)
    final["prompt_eval_count"] = max(1, prompt_count)
    final["prompt_eval_duration"] = duration_ns(evaluating - loaded)
    if count:
        final["eval_count"] = count
    final["eval_duration"] = duration_ns(done - evaluating)
    return final
