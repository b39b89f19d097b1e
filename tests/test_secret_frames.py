"""No key in a verbose traceback: every failing route of a Client, run in a real kernel under
``%xmode Verbose`` (which prints every frame's local variables and the source lines around each
call), shows neither the key nor an ``Authorization`` header, before a stream, in the middle of one,
and for web_search / web_fetch, whose key goes to ollama.com.
"""

from __future__ import annotations

import pytest
from corpus.routes import PayloadRoutes
from kernel_helpers import Kernel

from ollama_nb.testing import Emulator

pytestmark = pytest.mark.kernel

KEY = "sk-frames-4d7e1a9c3b5f8e2d6a0c"
MSGS = "[{'role': 'user', 'content': 'hi'}]"
#: Every route of Client, as a user calls it; the server refuses each (401: not its key).
REFUSED = [
    "c.generate('m', 'hi')",
    "list(c.generate('m', 'hi', stream=True))",
    f"c.chat('m', messages={MSGS})",
    f"list(c.chat('m', messages={MSGS}, stream=True))",
    "c.embed('m', 'x')",
    "c.embeddings('m', 'x')",
    "c.load('m')",
    "c.unload('m')",
    "c.list()",
    "c.show('m')",
    "c.ps()",
    "c.pull('m')",
    "list(c.pull('m', stream=True))",
    "c.push('m')",
    "c.create('m2', from_='m')",
    "c.copy('m', 'm2')",
    "c.delete('m')",
    "c.create_blob(__file__ if '__file__' in dir() else '/etc/hostname')",
    "c.version()",
    "c.balance()",
    "c.usage()",
    "c.web_search('q')",
    "c.web_fetch('https://example.com/')",
]
#: Answers that fail in the middle of their stream (the server's error line after some text).
MIDSTREAM = [
    f"o.chat('payload-midstream:k', messages={MSGS})",
    f"list(o.chat('payload-midstream:k', messages={MSGS}, stream=True))",
    "o.generate('payload-midstream:k', 'hi')",
    "list(o.generate('payload-midstream:k', 'hi', stream=True))",
    "o.web_search('')",  # refused by the web host itself (400), with the key sent
    f"u.chat('m', messages={MSGS})",  # nothing listens
]


@pytest.fixture(scope="module")
def kernel():
    with Emulator(key="the-server-key-0123456789") as locked, Emulator() as open_emu:
        PayloadRoutes({"k": ["some text, then "]}).install(open_emu)
        with Kernel(env={"OLLAMA_HOST": locked.url}) as k:
            k.run(
                "import ollama_nb, socket\n"
                f"c = ollama_nb.Client({locked.url!r}, api_key={KEY!r}, web_host={locked.url!r}, retries=0)\n"
                f"o = ollama_nb.Client({open_emu.url!r}, api_key={KEY!r}, web_host={open_emu.url!r})\n"
                "s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()\n"
                "u = ollama_nb.Client(f'http://127.0.0.1:{port}', api_key=" + repr(KEY) + ")\n"
                "del s, port\n"
            ).check()
            k.run("%xmode Verbose").check()
            yield k


@pytest.mark.parametrize("call", REFUSED + MIDSTREAM)
def test_a_verbose_traceback_shows_no_key(kernel, call):
    ex = kernel.run(call)
    assert ex.errors, f"{call} did not fail: {ex.all_text()[:500]}"
    shown = ex.all_text() + "\n".join("\n".join(e.get("traceback", [])) for e in ex.errors)
    assert KEY not in shown and KEY[3:15] not in shown, f"{call}: the key is in the traceback:\n{shown}"
    assert "authorization" not in shown.lower(), f"{call}: an Authorization header is in the traceback:\n{shown}"
