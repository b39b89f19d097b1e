"""Model management and miscellaneous routes: tags, show, ps, pull, push, create, copy, delete,
blobs, version, status, me, web search/fetch.

Pull/push/create stream progress objects exactly as the real server words them (ollama-api.md
§11); pull and create really change the installed list, and a pull the client abandons installs
nothing (the generator is closed before its last step).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from .._identity import NAME, VERSION_FIELD
from ._binding import parse_body
from ._catalog import Model, State, canonical, sha, valid_name
from ._cloud import DISABLED, SIGNED_IN, SIGNED_OUT, Cloud, parse_ref
from ._quota import ACCOUNT_UNAVAILABLE
from ._wire import JSON, Empty, HTTPError, Sleep, Stream, StreamError, Text, check_options

VERSION = "0.32.15"  # the newest release when the emulator was last checked against the source
PROGRESS_EVERY = 0.06  # seconds between pull/push progress lines, like the real server
_DIGEST = re.compile(r"^sha256[:-][0-9a-fA-F]{64}$")


class Management:
    """Route functions for everything that is not generation."""

    def __init__(self, state: State, cloud: Cloud | None = None) -> None:
        self.state = state
        self.cloud = cloud or Cloud()

    # ------------------------------------------------------------------ simple reads

    def health(self, body: bytes) -> Text:
        return Text("Ollama is running")

    def version(self, body: bytes) -> JSON:
        return JSON({"version": VERSION, VERSION_FIELD: NAME})

    def status(self, body: bytes) -> JSON:
        disabled = self.cloud.state == DISABLED
        return JSON({"cloud": {"disabled": disabled, "source": "env" if disabled else "none"}})

    def tags(self, body: bytes) -> JSON:
        return JSON({"models": self.state.tags()})

    def ps(self, body: bytes) -> JSON:
        return JSON({"models": self.state.ps()})

    def show(self, body: bytes) -> JSON:
        req = parse_body(body, "ShowRequest")
        name = req.get("model") or req.get("name") or ""
        if not name:
            raise HTTPError(400, "model is required")
        base, source = parse_ref(name)
        options = req.get("options") if isinstance(req.get("options"), dict) else None
        system = req.get("system") if isinstance(req.get("system"), str) and req.get("system") else None
        verbose = req.get("verbose") is True
        if source == "cloud" or self.cloud.serving:
            found = self.cloud.models.get(canonical(base).lower())
            if found is not None or source == "cloud":
                model = found if self.cloud.serving else self.cloud.find(base)
                if model is None:
                    raise HTTPError(404, f"model '{canonical(base)}' not found")
                return JSON(model.show(system=system, options=options, verbose=verbose))
        model = self.state.find(base)
        if model is None:  # the real handler names it after canonicalising: 'x:latest'
            raise HTTPError(404, f"model '{canonical(base)}' not found")
        return JSON(model.show(system=system, options=options, verbose=verbose))

    def me(self, body: bytes) -> JSON:
        if self.cloud.account.unavailable:
            raise HTTPError(503, ACCOUNT_UNAVAILABLE)
        if self.cloud.serving:
            return JSON(self.cloud.whoami_cloud())
        return JSON(self.cloud.whoami())

    def usage(self, body: bytes, query: str = "") -> JSON:
        """ollama.com's ``GET /api/usage`` (the emulator serves it only with a key)."""
        return JSON(self.cloud.account.usage(query))

    def balance(self, body: bytes) -> JSON:
        """ollama.com's ``GET /api/balance``."""
        return JSON(self.cloud.account.balance())

    def signout(self, body: bytes) -> JSON:
        """SignoutHandler: 200 with a ``null`` body, or 401 when the server is not signed in."""
        if self.cloud.state != SIGNED_IN:
            raise HTTPError(401, "you are not currently signed in")
        self.cloud.set_state(SIGNED_OUT)
        return JSON(None)

    def recommendations(self, body: bytes) -> JSON:
        picks = [("llama3.2", "Small general chat model with tools"), ("qwen3", "Thinking model with tools")]
        out = []
        for name, description in picks:
            model = self.state.find(name) or self.state.catalog.get(name + ":latest")
            ctx = model.context_length if model else 8192
            out.append(
                {
                    "model": name,
                    "description": description,
                    "context_length": ctx,
                    "max_output_tokens": 8192,
                    "vram_bytes": model.size if model else 0,
                    "required_plan": "free",
                }
            )
        return JSON({"recommendations": out})

    # ------------------------------------------------------------------ copy / delete

    def copy(self, body: bytes) -> Empty:
        req = parse_body(body, "CopyRequest")
        source, destination = req.get("source") or "", req.get("destination") or ""
        if not valid_name(source):
            raise HTTPError(400, f'source "{source}" is invalid')
        if not valid_name(destination):
            raise HTTPError(400, f'destination "{destination}" is invalid')
        model = self.state.find(source)
        if model is None:
            raise HTTPError(404, f'model "{source}" not found')
        self.state.copy(model, destination)
        return Empty()

    def delete(self, body: bytes) -> Empty:
        req = parse_body(body, "DeleteRequest")
        name = req.get("model") or req.get("name") or ""
        if not name.strip():
            raise HTTPError(400, "model is required")
        base, _ = parse_ref(name)
        if not valid_name(base):
            raise HTTPError(400, f'name "{name}" is invalid')
        if not self.state.delete(base):
            raise HTTPError(404, f"model '{name}' not found")
        return Empty()

    # ------------------------------------------------------------------ pull / push / create

    def pull(self, body: bytes) -> Stream:
        req = parse_body(body, "PullRequest")
        name = req.get("model") or req.get("name") or ""
        if not valid_name(name):
            raise HTTPError(400, "invalid model name")
        return Stream(self._pull(name), "progress", req.get("stream", True) is not False, name)

    def _pull(self, name: str) -> Iterator[Any]:
        yield {"status": "pulling manifest"}
        source = self.state.pull_source(name)
        if source is None:
            yield StreamError("pull model manifest: file does not exist")
            return
        present = self.state.find(name) is not None
        layers = source.layers
        total = sum(size for _, size in layers) or 1
        for digest, size in layers:
            line = {"status": f"pulling {digest[:12]}", "digest": "sha256:" + digest, "total": size}
            if present:
                yield {**line, "completed": size}
                continue
            seconds = source.pull_seconds * size / total
            steps = max(1, round(seconds / PROGRESS_EVERY))
            yield line  # completed is omitted while it is 0
            for step in range(1, steps + 1):
                yield Sleep(seconds / steps)
                yield {**line, "completed": size * step // steps}
        yield {"status": "verifying sha256 digest"}
        if source.verify_seconds and not present:
            yield Sleep(source.verify_seconds)
        yield {"status": "writing manifest"}
        # Only reached when the client stayed until the end: a cancelled pull installs nothing.
        self.state.install(source)
        yield {"status": "success"}

    def push(self, body: bytes) -> Stream:
        req = parse_body(body, "PushRequest")
        name = req.get("model") or req.get("name") or ""
        if not name:
            raise HTTPError(400, "model is required")
        return Stream(self._push(name), "progress", req.get("stream", True) is not False, name)

    def _push(self, name: str) -> Iterator[Any]:
        yield {"status": "retrieving manifest"}
        model = self.state.find(name)
        if model is None:
            yield {"status": "couldn't retrieve manifest"}
            path, _, tag = canonical(name).rpartition(":")
            path = path if "/" in path else "library/" + path
            path = path if path.count("/") >= 2 else "registry.ollama.ai/" + path
            # The real error is the os.PathError of the missing manifest file.
            yield StreamError(f"open /root/.ollama/models/manifests/{path}/{tag}: no such file or directory")
            return
        for digest, size in model.layers:
            line = {"status": f"pushing {digest[:12]}", "digest": "sha256:" + digest, "total": size}
            yield line
            steps = 4 if size > 1_000_000 else 1
            for step in range(1, steps + 1):
                yield Sleep(PROGRESS_EVERY / 2)
                yield {**line, "completed": size * step // steps}
        yield {"status": "pushing manifest"}
        yield {"status": "success"}

    def create(self, body: bytes) -> Stream:
        req = parse_body(body, "CreateRequest")
        name = req.get("model") or req.get("name") or ""
        if not valid_name(name):
            raise HTTPError(400, "invalid model name")
        source, files = req.get("from") or "", req.get("files") or {}
        if not source and not files:
            raise HTTPError(400, "neither 'from' or 'files' was specified")
        if source and not valid_name(source):
            raise HTTPError(400, "invalid model name")
        params = req.get("parameters") or {}
        if not isinstance(params, dict) or check_options(params):
            raise HTTPError(400, (check_options(params) if isinstance(params, dict) else None) or "invalid parameters")
        return Stream(self._create(name, source, files, req), "progress", req.get("stream", True) is not False, name)

    def _create(self, name: str, source: str, files: dict[str, Any], req: dict[str, Any]) -> Iterator[Any]:
        if source:
            base = self.state.find(source)
            if base is None:
                # The real server pulls a missing base model first.
                yield from self._pull(source)
                base = self.state.find(source)
                if base is None:
                    return
            for digest, _ in base.layers:
                yield {"status": f"using existing layer sha256:{digest}"}
            model = replace(copy.deepcopy(base), parent_model=base.name, origin=base.origin or base.name)
        else:
            yield {"status": "parsing GGUF"}
            for filename, digest in files.items():
                if digest not in self.state.blobs:
                    yield StreamError(f"blob {digest} not found for {filename}", 400)
                    return
                yield {"status": f"using existing layer {digest}"}
            model = Model(
                name=name,
                kind="llama",
                family="llama",
                parameter_size="1B",
                quantization_level="Q4_K_M",
                size=800_000_000,
                capabilities=["completion"],
                context_length=8192,
                embedding_length=2048,
                architecture="llama",
                origin=sha(repr(sorted(files.items()))),
            )
        if req.get("quantize"):
            level = str(req["quantize"]).upper()
            yield {"status": f"quantizing F16 model to {level}", "digest": "0000000000000000000", "total": model.size}
            model.quantization_level = level
        changed = False
        for key in ("system", "template"):
            if isinstance(req.get(key), str) and req.get(key):
                setattr(model, key, req[key])
                changed = True
        if req.get("license"):
            lic = req["license"]
            model.license = "\n".join(lic) if isinstance(lic, list) else str(lic)
            changed = True
        if req.get("parameters"):
            model.parameters = {**model.parameters, **req["parameters"]}
            changed = True
        if isinstance(req.get("messages"), list) and req["messages"]:
            model.messages = list(req["messages"])
            changed = True
        model.name = canonical(name)
        if changed:
            for digest, _ in model.layers[1:]:
                yield {"status": f"creating new layer sha256:{digest}"}
        yield {"status": "writing manifest"}
        self.state.install(model)
        yield {"status": "success"}

    # ------------------------------------------------------------------ blobs

    def blob_head(self, body: bytes, digest: str) -> Any:
        if not _DIGEST.match(digest):
            raise HTTPError(400, "invalid digest format")
        if digest.replace("-", ":", 1) not in self.state.blobs:
            raise HTTPError(404, f'blob "{digest}" not found')
        return Empty()

    def blob_post(self, body: bytes, digest: str) -> Empty:
        if not _DIGEST.match(digest):
            raise HTTPError(400, "invalid digest format")
        expected = digest.replace("-", ":", 1)
        if expected in self.state.blobs:
            return Empty(200)
        got = "sha256:" + hashlib.sha256(body).hexdigest()
        if got != expected.lower():
            raise HTTPError(400, f'digest mismatch, expected "{expected}", got "{got}"')
        with self.state.lock:
            self.state.blobs.add(expected)
        return Empty(201)

    # ------------------------------------------------------------------ web search / fetch

    def web_search(self, body: bytes) -> JSON:
        req = parse_body(body, "WebSearchRequest")
        query = req.get("query")
        if not isinstance(query, str) or not query.strip():
            raise HTTPError(400, "query is required")
        wanted = req.get("max_results", 5)
        count = max(1, min(10, int(wanted))) if isinstance(wanted, (int, float)) and not isinstance(wanted, bool) else 5
        slug = re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-") or "query"
        results = []
        for i in range(1, count + 1):
            host = "example.com" if i % 2 else "example.org"
            results.append(
                {
                    "title": f"{query.strip()} - result {i}",
                    "url": f"https://{host}/{slug}/{i}",
                    "content": f"Canned search result {i} about {query.strip()}. It is the same on every run.",
                }
            )
        return JSON({"results": results})

    def experimental_web_search(self, body: bytes) -> JSON:
        """A local server's ``/api/experimental/web_search``: ollama.com's, signed with its own key."""
        self.cloud.proxy_allowed("web search is unavailable")
        return self.web_search(body)

    def experimental_web_fetch(self, body: bytes) -> JSON:
        self.cloud.proxy_allowed("web fetch is unavailable")
        return self.web_fetch(body)

    def web_fetch(self, body: bytes) -> JSON:
        req = parse_body(body, "WebFetchRequest")
        url = req.get("url")
        if not isinstance(url, str) or not url.strip():
            raise HTTPError(400, "url is required")
        return JSON(
            {
                "title": "Example Domain",
                "content": "This domain is for use in illustrative examples in documents. "
                f"The emulator returns this canned page for every URL (asked for: {url}).",
                "links": ["https://example.com/", "https://example.org/about"],
            }
        )
