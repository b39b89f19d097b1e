"""How far an answer, a pull or a turn has got: one word for each state, shared by every layer.

A :class:`~ollama_nb.Reply`, a :class:`~ollama_nb.Progress` and a conversation's turn all start
:data:`RUNNING` and end once, in one of :data:`ENDINGS`; views and the widgets' front ends read
the same words.
"""

from __future__ import annotations

__all__ = ["DONE", "ENDINGS", "FAILED", "INTERRUPTED", "RUNNING", "STOPPED"]

#: Not ended yet: waiting for the server, streaming, or pulling.
RUNNING = "running"
#: The server sent its final chunk (or a pull its ``success``).
DONE = "done"
#: Closed early on purpose (a Stop button, a ``break``).
STOPPED = "stopped"
#: A KeyboardInterrupt (Ctrl-C, the kernel's stop button).
INTERRUPTED = "interrupted"
#: An error ended it; the error says why and what to do.
FAILED = "failed"

ENDINGS = frozenset((DONE, STOPPED, INTERRUPTED, FAILED))
