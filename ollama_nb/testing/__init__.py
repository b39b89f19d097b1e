"""Ollama emulator: a real HTTP server on loopback that speaks Ollama's wire format.

Tests, the CI notebooks and the offline demo run against it; the same code runs unchanged against a
real Ollama. Standard library only.

Usage::

    from ollama_nb.testing import Emulator
    with Emulator() as emu:
        requests.post(emu.url + "/api/chat", json={"model": "llama3.2", "messages": [...]})
        assert emu.last_request.json["model"] == "llama3.2"

or from a shell: ``python -m ollama_nb.testing --port 11434``.

Installed models (each token is its own NDJSON chunk; all honour options.num_predict and
options.stop unless noted). The demo catalogue is the first six; the scenario models after them are
installed only with ``Emulator(scenarios=True)`` / ``--scenarios`` (tests), never in ``./dev lab``:

======================== ===========================================================================
``llama3.2:latest``      completion+tools. Short, plain answers to the questions the teaching notebooks
                         and README ask (``_voice/``: ``topics.json`` data): correct facts, computed
                         ones for "is 91 prime?", "what is 2+2?", "what did I ask you?", a robot per
                         seed. Instructions in the system prompt or question are followed ("two
                         sentences", "three bullet points", "for 10-year-olds", "keep answers
                         short", a pirate). Anything else: a short, honest reply saying it comes
                         from the built-in emulator. Deterministic for a seed or temperature 0.
                         With ``tools``: one tool call (best name/description match, arguments
                         valid for the tool's schema, values taken from the prompt); after a
                         ``tool`` message, an answer written from the tool's result. ``format``:
                         JSON valid for the schema, values from the prompt (known lists such as
                         a rainbow's colours) or plausible for the field name.
``qwen3:latest``         the same questions in a structured Markdown voice, with thinking (default
                         on) in whole sentences of real reasoning; think=false none;
                         "low" fewer sentences, "high"/"max" a final check.
``gpt-oss:20b``          longer answers (tables, code), thinking with levels, like qwen3.
``llava:latest``         vision: reads simple PNG drawings (background, the main shape, its colour
                         and place, ``_voice/vision.py``) and gives the pixel size; JPEG: the size only.
``nomic-embed-text``     embedding only: 768-dim L2-normalised bag-of-words hashing vectors.
``gpt-oss:120b-cloud``   a cloud model as a signed-in local server lists it (a stub with
                         ``remote_host``/``remote_model``); answers like gpt-oss:20b.
``bulk:latest``          exactly options.num_predict tokens (default 1000) as fast as possible,
                         256 chunks per socket write; done_reason "stop".
``slow:latest``          one token every 50 ms, 200 tokens (num_predict limits: "length").
``stall:latest``         5 tokens, then silence until the client leaves (recorded in
                         ``disconnects``) or 120 s pass; then the body ends without a done chunk.
``dropped:latest``       5 tokens, then the TCP connection closes without the final zero chunk.
``error-midstream``      5 tokens, then ``{"error":"llama runner process has terminated: signal:
                         killed"}`` at status 200, then the end of the body (no done chunk).
``malformed:latest``     5 tokens, then a line that is not JSON, then the end.
``markdown:latest``      heading, table, fenced python, inline and display LaTeX, a list.
``hostile:latest``       readable text around script/img-onerror/javascript:-link/iframe/style/
                         onclick HTML that must never execute.
``loading:latest``       sends nothing at all (not even headers) until the client leaves or 120 s
                         pass, as a model that takes minutes to load; a proxy's read timeout trips.
``essay:latest``         exactly options.num_predict tokens (default 300) at token_delay pace:
                         ``tag-0 tag-1 ...`` with the question's first word as tag, so a load test
                         can check every answer is whole and is the answer to its own question.
``paced:latest``         exactly options.num_predict tokens (default 2000, ~13 kB) of a long Markdown
                         answer (headings, paragraphs, lists, code, tables, math) at the pace the
                         prompt names ("at 100 tokens/s"; else options.tokens_per_second, else 30),
                         as a real model writes: what the live-output tests and benchmarks stream.
                         ``paced-thinking:latest`` is the same, thinking first (unless asked not
                         to): half of its tokens are thinking.
======================== ===========================================================================

Cloud models (``gpt-oss:120b-cloud``, ``qwen3.5:397b-cloud``, ``deepseek-v4-flash:cloud``)
answer through a local emulator only with ``cloud="signed-in"``; with a key (playing ollama.com)
they answer by their bare names. gpt-oss thinks even with ``think: false``; chat drops its oldest
messages to fit ``num_ctx`` (default 4096, cloud models their maximum), and a prompt that still
does not fit with ``shift``/``truncate`` false is 400 ``the prompt is longer than the context length``.

Pullable (not installed at start): ``smollm2:135m`` (~1 s), ``tinyllama:latest`` (~2 s),
``big-model:latest`` (~20 s; abandoning the pull installs nothing), ``slowverify:latest`` (silent for
1.5 s while "verifying sha256 digest"). ``create`` from a model that
is not installed pulls it first, as the real server does.

Error texts, status codes and check order follow ollama/ollama's ``server/routes.go`` (read at
commit fb30760); where that disagrees with ollama-api.md the source wins (e.g. ``show`` of a
missing model says ``model 'x:latest' not found``; images sent to a text model are ignored).
Also served: the OpenAI-compatible ``/v1`` routes and Anthropic-style ``/v1/messages`` over the same
answers (``_compat_*.py``); foreign web origins are refused as Ollama refuses them (``_origins.py``,
``OLLAMA_ORIGINS``); ``/api/version`` names the emulator (``ollama_nb._identity``).

Modules: ``server`` (HTTP, routing, recording), ``generation`` and ``management`` (the routes),
``scenarios`` (what the test models say), ``voice`` (what the demo models say: data plus
instruction following, pluggable), ``catalog`` (models and state), ``wire`` (Go-compatible
encodings and response types); docs/architecture.md lists the rest.
"""

# Only re-exports here (httpx's rule): every public name is in __all__, held by tests/test_public.py.
from ._cloud import SIGNED_IN, SIGNED_OUT
from ._emulator import Emulator
from ._prompt import Answer, Prompt, tokens
from ._scenarios import Voice
from ._server import Hold, Recorded
from ._voice import DemoVoice
from ._wire import JSON, Empty, HTTPError, Stream, StreamError, Text

__all__ = [
    "JSON",
    "SIGNED_IN",
    "SIGNED_OUT",
    "Answer",
    "DemoVoice",
    "Empty",
    "Emulator",
    "HTTPError",
    "Hold",
    "Prompt",
    "Recorded",
    "Stream",
    "StreamError",
    "Text",
    "Voice",
    "tokens",
]
