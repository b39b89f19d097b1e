"""Model metadata and the emulator's mutable state: installed models, loaded models, blobs.

Every installed model has a ``kind`` that selects its behaviour in ``_scenarios.py``; copies and
created models inherit their source's kind, so ``%ollama copy slow:latest s2`` stays slow.
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from ._binding import THINK_LEVELS
from ._wire import FOREVER_SECONDS, rfc3339

DEFAULT_KEEP_ALIVE = 300.0  # OLLAMA_KEEP_ALIVE default, 5m
DEFAULT_NUM_CTX = 4096

LLAMA_TEMPLATE = (
    "<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
    "{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
    "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
)
CHATML_TEMPLATE = (
    "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "{{ range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)
LICENSE = "Emulated model for ollama_nb tests. No weights, no warranty (MIT)."


def sha(text: str) -> str:
    """Deterministic 64-hex digest for fake layers and manifests."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Model:
    """One installed (or pullable) model and everything ``tags``/``show``/``ps`` report about it."""

    name: str  # canonical "name:tag"
    kind: str  # behaviour key in _scenarios.py
    family: str
    parameter_size: str
    quantization_level: str
    size: int  # bytes on disk
    capabilities: list[str]
    context_length: int
    embedding_length: int
    architecture: str
    template: str = LLAMA_TEMPLATE
    families: list[str] | None = None
    system: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    license: str = LICENSE
    messages: list[dict[str, Any]] = field(default_factory=list)
    parent_model: str = ""
    origin: str = ""  # the model whose weights this is; copies share layers and digest
    modified_ns: int = 0
    pull_seconds: float = 1.0  # how long an emulated pull of this model takes
    verify_seconds: float = 0.0  # silence after "verifying sha256 digest" (a real pull hashes gigabytes)
    remote_host: str = ""  # a cloud model: the local server forwards it there (ollama-api.md §12.1)
    remote_model: str = ""
    # /api/show's "thinking" (newer servers): the think values the model takes and its default.
    thinking: dict[str, Any] | None = None

    @property
    def layers(self) -> list[tuple[str, int]]:
        """(digest hex, size): the weights, then one config layer (template, license, params,
        system). Copies share both; create with a new system/params gets a new config layer."""
        base = self.origin or self.name
        config = repr((self.template, self.license, sorted(self.parameters.items()), self.system))
        config_size = 485 + len(config.encode())
        return [(sha(base + ":weights"), self.size - config_size), (sha(base + ":config:" + config), config_size)]

    @property
    def digest(self) -> str:
        return sha("manifest:" + ",".join(d for d, _ in self.layers))

    @property
    def full_name(self) -> str:
        """The registry form used in capability errors: registry.ollama.ai/library/NAME:TAG."""
        parts = self.name.split("/")
        if len(parts) == 1:
            return "registry.ollama.ai/library/" + self.name
        if len(parts) == 2:
            return "registry.ollama.ai/" + self.name
        return self.name

    def details(self) -> dict[str, Any]:
        return {
            "parent_model": self.parent_model,
            "format": "gguf",
            "family": self.family,
            "families": self.families or [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }

    def tag_entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.name,
            "modified_at": rfc3339(self.modified_ns),
            "size": self.size,
            "digest": self.digest,
            # The list cache adds the GGUF's lengths (server/model_list_cache.go).
            "details": {
                **self.details(),
                "context_length": self.context_length,
                "embedding_length": self.embedding_length,
            },
            "capabilities": list(self.capabilities),
            **self._remote(),
        }

    def _remote(self) -> dict[str, str]:
        return {"remote_model": self.remote_model, "remote_host": self.remote_host} if self.remote_host else {}

    def show(
        self, *, system: str | None = None, options: dict[str, Any] | None = None, verbose: bool = False
    ) -> dict[str, Any]:
        # GetModelInfo formats `parameters` from the model's own options, and merges the request's
        # options only into the Modelfile it prints afterwards.
        params = dict(self.parameters)
        merged = {**params, **(options or {})}
        system = self.system if system is None else system
        out: dict[str, Any] = {
            "license": self.license,
            "modelfile": self.modelfile(merged, system),
            "parameters": parameters_text(params),
            "template": self.template,
        }
        if system:
            out["system"] = system
        out["details"] = self.details()
        if self.messages:
            out["messages"] = self.messages
        arch = self.architecture
        out["model_info"] = {
            "general.architecture": arch,
            "general.basename": self.name.split(":")[0],
            "general.file_type": 15,
            "general.parameter_count": parameter_count(self.parameter_size),
            "general.quantization_version": 2,
            f"{arch}.block_count": 28,
            f"{arch}.context_length": self.context_length,
            f"{arch}.embedding_length": self.embedding_length,
            f"{arch}.attention.head_count": 24,
            "tokenizer.ggml.model": "gpt2",
            # getModelData empties arrays longer than 5 unless verbose.
            "tokenizer.ggml.tokens": list(TOKENS) if verbose else [],
            "tokenizer.ggml.token_type": [1] * len(TOKENS) if verbose else [],
        }
        out["tensors"] = tensors(arch, self.embedding_length, self.quantization_level)
        out.update(self._remote())
        out["capabilities"] = list(self.capabilities)
        if self.thinking:
            out["thinking"] = self.thinking
        out["modified_at"] = rfc3339(self.modified_ns)
        if not params:
            del out["parameters"]
        return out

    def modelfile(self, params: dict[str, Any], system: str) -> str:
        lines = [
            '# Modelfile generated by "ollama show"',
            "# To build a new Modelfile based on this, replace FROM with:",
            f"# FROM {self.name}",
            "",
            f"FROM /root/.ollama/models/blobs/sha256-{self.layers[0][0]}",
            f'TEMPLATE """{self.template}"""',
        ]
        if system:
            lines.append(f'SYSTEM """{system}"""')
        for key, value in params.items():
            for item in value if isinstance(value, list) else [value]:
                lines.append(f"PARAMETER {key} {item}")
        lines.append(f'LICENSE """{self.license}"""')
        return "\n".join(lines) + "\n"


TOKENS = ("<|begin_of_text|>", "<|end_of_text|>", "!", '"', "#", "$", "%", "&")


def tensors(arch: str, width: int, quant: str) -> list[dict[str, Any]]:
    """A few of a GGUF's tensors (name, type, shape), as /api/show always lists them."""
    kind = "F16" if quant.startswith("F") else "Q4_K"
    out = [{"name": "token_embd.weight", "type": kind, "shape": [width, 128256]}]
    for block in range(2):
        out.append({"name": f"blk.{block}.attn_q.weight", "type": kind, "shape": [width, width]})
        out.append({"name": f"blk.{block}.attn_norm.weight", "type": "F32", "shape": [width]})
    out.append({"name": "output_norm.weight", "type": "F32", "shape": [width]})
    return out


def parameters_text(params: dict[str, Any]) -> str:
    """``show``'s parameters: one ``key<pad> value`` line per value, strings quoted."""
    lines = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            text = (
                '"' + item + '"'
                if isinstance(item, str)
                else str(item).lower()
                if isinstance(item, bool)
                else str(item)
            )
            lines.append(f"{key:<30} {text}")
    return "\n".join(lines)


def parameter_count(size: str) -> int:
    scale = {"K": 1e3, "M": 1e6, "B": 1e9}
    return int(float(size[:-1]) * scale.get(size[-1], 1)) if size and size[-1] in scale else 0


# --------------------------------------------------------------------------- names

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$")
_DEFAULT_PREFIXES = ("registry.ollama.ai/library/", "library/")


def canonical(name: str) -> str:
    """``llama3.2`` -> ``llama3.2:latest``; registry/library prefixes dropped; case kept."""
    name = name.strip()
    for prefix in _DEFAULT_PREFIXES:
        if name.lower().startswith(prefix):
            name = name[len(prefix) :]
            break
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else name + ":latest"


def name_key(name: str) -> str:
    """Case-insensitive lookup key, as the server matches manifests."""
    return canonical(name).lower()


def valid_name(name: str) -> bool:
    name = canonical(name)
    path, _, tag = name.rpartition(":")
    parts = path.split("/")
    return bool(path) and len(parts) <= 3 and all(_PART.match(p) for p in parts) and bool(_TAG.match(tag))


# --------------------------------------------------------------------------- the models


def _model(
    name: str,
    kind: str,
    weights: str = "llama 135M Q8_0",
    size: int = 145_000_000,
    caps: str = "completion",
    ctx: int = 8192,
    emb: int = 576,
    *,
    arch: str = "",
    **more: Any,
) -> Model:
    """One row of a model table (this module's and ``_cloud.py``'s), so a row says only what is its own.

    ``weights`` is "family parameter_size quantization_level" as ``ollama show`` prints them, ``caps``
    the capabilities separated by spaces, ``ctx``/``emb`` the GGUF's context length and embedding width,
    ``arch`` its architecture where that is not the family's name; ``more``: any other ``Model`` field.
    """
    family, parameter_size, quantization_level = weights.split()
    return Model(
        name=name,
        kind=kind,
        family=family,
        parameter_size=parameter_size,
        quantization_level=quantization_level,
        size=size,
        capabilities=caps.split(),
        context_length=ctx,
        embedding_length=emb,
        architecture=arch or family,
        **more,
    )


TOOLS = "completion tools"
THINKING = "completion thinking"
TOOLS_THINKING = "completion tools thinking"
VISION = "completion vision"

LLAMA_PARAMS = {"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]}
QWEN_PARAMS = {
    "repeat_penalty": 1,
    "stop": ["<|im_start|>", "<|im_end|>"],
    "temperature": 0.6,
    "top_k": 20,
    "top_p": 0.95,
}
GPT_OSS_PARAMS = {"temperature": 1}
QWEN_CHAT: dict[str, Any] = {"template": CHATML_TEMPLATE, "parameters": QWEN_PARAMS}

# What more than one row shares: the gpt-oss GGUFs' shape; the weights of the cloud stub a local
# server lists and of the model ollama.com serves (_cloud.py); llama3.1's two tags of one download.
GPT_OSS_THINKING = {"values": ["low", "medium", "high"], "default": "medium"}
GPT_OSS: dict[str, Any] = {"caps": TOOLS_THINKING, "ctx": 131072, "emb": 2880, "thinking": GPT_OSS_THINKING}
GPT_OSS_120B: dict[str, Any] = {"weights": "gptoss 116.8B MXFP4", **GPT_OSS}
LLAMA31_8B: dict[str, Any] = {
    "weights": "llama 8.0B Q4_K_M",
    "size": 4_920_753_328,
    "caps": TOOLS,
    "ctx": 131072,
    "emb": 4096,
    "parameters": LLAMA_PARAMS,
}


# Models that exist to make one failure or edge case reproducible; tests ask for them with
# ``Emulator(scenarios=True)``. The demo (``./dev lab``) shows only what a class would have.
SCENARIO_MODELS = (
    "bulk",
    "slow",
    "stall",
    "dropped",
    "error-midstream",
    "malformed",
    "markdown",
    "hostile",
    "essay",
    "loading",
    "paced",
    "paced-thinking",
)


def installed_at_start(scenarios: bool = False) -> list[Model]:
    """The models a fresh emulator has, in the order ``/api/tags`` lists them."""
    # name, kind, weights, bytes on disk, capabilities, context length, embedding width (see _model)
    models = [
        _model(
            "llama3.2:latest", "llama", "llama 3.2B Q4_K_M", 2_019_393_189, TOOLS, 131072, 3072, parameters=LLAMA_PARAMS
        ),
        _model("qwen3:latest", "qwen", "qwen3 8.2B Q4_K_M", 5_225_388_164, TOOLS_THINKING, 40960, 4096, **QWEN_CHAT),
        _model("gpt-oss:20b", "gptoss", "gptoss 20.9B MXFP4", 13_780_173_734, **GPT_OSS, parameters=GPT_OSS_PARAMS),
        _model(
            "llava:latest", "vision", "llama 7B Q4_0", 4_733_363_377, VISION, 32768, 4096, families=["llama", "clip"]
        ),
        _model(
            "nomic-embed-text:latest", "embed", "nomic-bert 137M F16", 274_302_450, "embedding", 2048, 768, template=""
        ),
        # A cloud model as a local server lists it once signed in: a tiny stub that names where it runs.
        _model(
            "gpt-oss:120b-cloud",
            "gptoss",
            **GPT_OSS_120B,
            size=384,
            parameters=GPT_OSS_PARAMS,
            remote_host="https://ollama.com:443",
            remote_model="gpt-oss:120b",
        ),
    ]
    if scenarios:
        thinks = {"paced-thinking": THINKING}
        models += [_model(f"{name}:latest", name, caps=thinks.get(name, "completion")) for name in SCENARIO_MODELS]
    # Distinct, stable modification times an hour apart, newest first.
    now = time.time_ns()
    for i, model in enumerate(models):
        model.modified_ns = now - (i + 1) * 3_600_000_000_000
    return models


def pullable() -> dict[str, Model]:
    """Models ``/api/pull`` can fetch although they are not installed at start."""
    models = [
        _model("smollm2:135m", "llama", "llama 134.52M Q8_0", 270_898_672, parameters=LLAMA_PARAMS),
        _model("tinyllama:latest", "llama", "llama 1B Q4_0", 637_700_138, ctx=2048, emb=2048, pull_seconds=2.0),
        _model("slowverify:latest", "llama", "llama 1B Q8_0", 700_000_000, pull_seconds=0.2, verify_seconds=1.5),
        _model(
            "big-model:latest", "llama", "llama 70.6B Q4_K_M", 42_520_413_916, ctx=131072, emb=8192, pull_seconds=20.0
        ),
    ]
    # The models ollama-python's examples use, so they run here once pulled (as on a real server).
    examples = [
        _model("gemma3:latest", "vision", "gemma3 4.3B Q4_K_M", 3_338_801_804, VISION, 131072, 2560),
        _model("llama3.1:latest", "llama", **LLAMA31_8B),
        _model("llama3.1:8b", "llama", **LLAMA31_8B),
        _model(
            "deepseek-r1:latest", "thinking", "qwen2 8.2B Q4_K_M", 5_225_387_923, THINKING, 131072, 4096, arch="qwen3"
        ),
        _model("codellama:7b-code", "llama", "llama 7B Q4_0", 3_825_910_662, "completion insert", 16384, 4096),
    ]
    for model in examples:
        model.pull_seconds = 0.5
    return {name_key(m.name): m for m in models + examples}


# --------------------------------------------------------------------------- state


@dataclass
class Loaded:
    """A model in ``/api/ps``."""

    model: Model
    expires: float  # epoch seconds; may be ~292 years ahead ("forever")
    keep_alive: float
    num_ctx: int


class State:
    """Everything that changes while the emulator runs; every method takes the lock."""

    def __init__(self, scenarios: bool = False) -> None:
        self.lock = threading.RLock()
        self.models: dict[str, Model] = {name_key(m.name): m for m in installed_at_start(scenarios)}
        self.catalog = pullable()
        self.published = 0  # newer downloads made by publish(), for distinct weights
        self.loaded: dict[str, Loaded] = {}
        self.blobs: set[str] = set()
        for model in self.models.values():
            self.blobs.update("sha256:" + d for d, _ in model.layers)

    # installed models -----------------------------------------------------

    def find(self, name: str) -> Model | None:
        with self.lock:
            return self.models.get(name_key(name))

    def names(self) -> list[str]:
        return [m["name"] for m in self.tags()]

    def tags(self) -> list[dict[str, Any]]:
        with self.lock:
            models = sorted(self.models.values(), key=lambda m: m.modified_ns, reverse=True)
            return [m.tag_entry() for m in models]

    def install(self, model: Model) -> None:
        with self.lock:
            model.modified_ns = time.time_ns()
            self.models[name_key(model.name)] = model
            self.blobs.update("sha256:" + d for d, _ in model.layers)

    def copy(self, source: Model, destination: str) -> None:
        clone = replace(copy.deepcopy(source), name=canonical(destination), origin=source.origin or source.name)
        self.install(clone)

    def delete(self, name: str) -> bool:
        with self.lock:
            self.loaded.pop(name_key(name), None)
            return self.models.pop(name_key(name), None) is not None

    def pull_source(self, name: str) -> Model | None:
        """What a pull of ``name`` would fetch: the registry's entry (a newer download of an
        installed model too, see :meth:`publish`), else the installed model."""
        with self.lock:
            found = self.catalog.get(name_key(name)) or self.models.get(name_key(name))
            return copy.deepcopy(found) if found else None

    def publish(self, name: str, changes: dict[str, Any]) -> None:
        """The registry gets a newer download of ``name``: its current one with ``changes``, new
        weights (so a new digest). Installed copies stay as they are until pulled again."""
        with self.lock:
            base = self.catalog.get(name_key(name)) or self.models.get(name_key(name))
            if base is None:
                raise KeyError(f"no model {name!r} to publish a newer download of")
            self.published += 1
            weights = f"{base.origin or base.name}@{self.published}"
            self.catalog[name_key(name)] = replace(copy.deepcopy(base), origin=weights, **changes)

    def think_levels(self) -> tuple[str, ...]:
        """The named think levels this server takes: the fixed four and any an installed model lists."""
        with self.lock:
            listed = [v for m in self.models.values() for v in (m.thinking or {}).get("values") or []]
        return THINK_LEVELS + tuple(v for v in dict.fromkeys(listed) if isinstance(v, str) and v not in THINK_LEVELS)

    # loaded models ----------------------------------------------------------

    def is_loaded(self, model: Model) -> bool:
        with self.lock:
            self._expire()
            return name_key(model.name) in self.loaded

    def touch(self, model: Model, keep_alive: float | None, num_ctx: int | None) -> None:
        """Mark loaded after a request. Without keep_alive the runner keeps its previous duration."""
        with self.lock:
            key = name_key(model.name)
            previous = self.loaded.get(key)
            if keep_alive is None:
                keep_alive = previous.keep_alive if previous else DEFAULT_KEEP_ALIVE
            if keep_alive == 0:
                self.loaded.pop(key, None)
                return
            # A request without num_ctx asks for the default; the scheduler reloads a runner whose
            # context differs (needsReload compares the options), so the default is what it gets.
            ctx = num_ctx or min(DEFAULT_NUM_CTX, model.context_length)
            expires = time.time() + min(keep_alive, FOREVER_SECONDS)
            self.loaded[key] = Loaded(model, expires, keep_alive, ctx)

    def loaded_ctx(self, model: Model) -> int | None:
        """num_ctx of the runner that holds ``model``, None when it is not loaded."""
        with self.lock:
            self._expire()
            entry = self.loaded.get(name_key(model.name))
            return entry.num_ctx if entry else None

    def unload(self, model: Model) -> None:
        with self.lock:
            self.loaded.pop(name_key(model.name), None)

    def loaded_names(self) -> list[str]:
        return [m["name"] for m in self.ps()]

    def ps(self) -> list[dict[str, Any]]:
        with self.lock:
            self._expire()
            entries = sorted(self.loaded.values(), key=lambda e: e.expires, reverse=True)
            out = []
            for e in entries:
                # Resident size: weights plus a KV cache that grows with the context.
                size = e.model.size + e.num_ctx * 114_688
                out.append(
                    {
                        "name": e.model.name,
                        "model": e.model.name,
                        "size": size,
                        "digest": e.model.digest,
                        "details": e.model.details(),
                        "expires_at": rfc3339(int(e.expires * 1e9)),
                        "size_vram": size,
                        "context_length": e.num_ctx,
                    }
                )
            return out

    def _expire(self) -> None:
        now = time.time()
        for key in [k for k, e in self.loaded.items() if e.expires <= now]:
            del self.loaded[key]
