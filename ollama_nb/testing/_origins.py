"""Which web pages may call the emulator: the real server's CORS rule, ``OLLAMA_ORIGINS`` included.

ollama/ollama builds its allowed origins in ``envconfig.AllowedOrigins`` (``OLLAMA_ORIGINS``, split on
commas, then localhost, 127.0.0.1 and 0.0.0.0 over http and https with any port, then the app, file,
tauri and VS Code schemes) and hands them to gin-contrib/cors v1.7.2 (wildcards and browser
extensions on). That middleware answers a request from any other origin with a bare 403 before the
route runs, so a page on ``https://evil.example`` cannot make a local server copy, delete or pull.

Usage::

    rule = Origins.from_env()
    rule.check("https://evil.example", "127.0.0.1:11434", "POST")  # -> (403, {})
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["ORIGINS_ENV", "Origins"]

ORIGINS_ENV = "OLLAMA_ORIGINS"
_LOCAL = ("localhost", "127.0.0.1", "0.0.0.0")
_SCHEMES_ALWAYS = ("app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*")
# gin-contrib/cors refuses to start on an origin without "*" that none of these begins.
_ALLOWED_SCHEMAS = (
    "http://",
    "https://",
    "chrome-extension://",
    "safari-extension://",
    "moz-extension://",
    "ms-browser-extension://",
)
_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "User-Agent",
    "Accept",
    "X-Requested-With",
    "Openai-Beta",
    *(
        "X-Stainless-" + part
        for part in (
            "Arch",
            "Async",
            "Custom-Poll-Interval",
            "Helper-Method",
            "Lang",
            "Os",
            "Package-Version",
            "Poll-Helper",
            "Retry-Count",
            "Runtime",
            "Runtime-Version",
            "Timeout",
        )
    ),
)
_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
_REQUEST_HEADERS = "Access-Control-Request-Headers"
_MAX_AGE = str(12 * 3600)  # cors.DefaultConfig's 12 hours


def allowed_origins(env_value: str) -> list[str]:
    """``envconfig.AllowedOrigins``: the variable's entries (quotes and spaces around it trimmed, as
    ``envconfig.Var`` does), then the local and app origins every server allows."""
    value = env_value.strip().strip("\"'")
    origins = value.split(",") if value else []
    for host in _LOCAL:
        origins += [f"http://{host}", f"https://{host}", f"http://{host}:*", f"https://{host}:*"]
    return origins + list(_SCHEMES_ALWAYS)


@dataclass(frozen=True)
class Origins:
    """The CORS middleware of one server, built once at start as the real one is."""

    exact: frozenset[str]
    wildcards: tuple[tuple[str, str], ...]
    allow_all: bool = False
    preflight: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Origins:
        """From ``OLLAMA_ORIGINS`` (``environ`` defaults to the process environment)."""
        env = os.environ if environ is None else environ
        return cls.build(allowed_origins(env.get(ORIGINS_ENV, "")))

    @classmethod
    def build(cls, origins: list[str]) -> Origins:
        """``cors.New``: a bad origin stops the server from starting, as it stops ollama."""
        for origin in origins:
            if origin.count("*") > 1:
                raise ValueError(f"{ORIGINS_ENV}: only one * is allowed in {origin!r}")
            if "*" not in origin and not origin.startswith(_ALLOWED_SCHEMAS):
                raise ValueError(
                    f"{ORIGINS_ENV}: bad origin {origin!r}: origins must contain '*' or include "
                    + ",".join(_ALLOWED_SCHEMAS)
                )
        wildcards = tuple(_wildcard(o) for o in origins if "*" in o)
        allow_all = "*" in origins
        preflight = [
            ("Access-Control-Allow-Methods", _METHODS),
            ("Access-Control-Allow-Headers", ",".join(_ALLOW_HEADERS)),
            ("Access-Control-Max-Age", _MAX_AGE),
        ]
        if allow_all:
            preflight.append(("Access-Control-Allow-Origin", "*"))
        else:
            preflight += [("Vary", v) for v in ("Origin", "Access-Control-Request-Method", _REQUEST_HEADERS)]
        exact = frozenset(o.strip().lower() for o in origins)
        return cls(exact, wildcards, allow_all, tuple(preflight))

    def allows(self, origin: str) -> bool:
        """``validateOrigin``: exact (the list lower-cased) or one wildcard's prefix and suffix."""
        if self.allow_all or origin in self.exact:
            return True
        return any(_matches(origin, head, tail) for head, tail in self.wildcards)

    def check(self, origin: str | None, host: str, method: str) -> tuple[int | None, tuple[tuple[str, str], ...]]:
        """``applyCors`` for one request: (status to answer now or None to go on, headers to add)."""
        if not origin or origin in (f"http://{host}", f"https://{host}"):
            return None, ()  # not cross-origin: the same page, curl, or our client
        if not self.allows(origin):
            return 403, ()
        if method == "OPTIONS":
            headers = list(self.preflight)
            status: int | None = 204
        else:
            headers = [("Access-Control-Allow-Origin", "*")] if self.allow_all else [("Vary", "Origin")]
            status = None
        if not self.allow_all:
            headers.append(("Access-Control-Allow-Origin", origin))
        return status, tuple(headers)


def _wildcard(origin: str) -> tuple[str, str]:
    """``parseWildcardRules``: the text before and after the one ``*`` ("*" for an empty end)."""
    i = origin.index("*")
    if i == 0:
        return "*", origin[1:]
    if i == len(origin) - 1:
        return origin[:i], "*"
    return origin[:i], origin[i + 1 :]


def _matches(origin: str, head: str, tail: str) -> bool:
    if head == "*" and origin.endswith(tail):
        return True
    if tail == "*" and origin.startswith(head):
        return True
    return origin.startswith(head) and origin.endswith(tail)
