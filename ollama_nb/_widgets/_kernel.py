"""Quarantine: the only code in ollama_nb that touches ipykernel's private comm routing.

Why it exists. A widget's Stop (ChatWidget) and Cancel (ModelBrowser) buttons must reach Python
while a cell is blocked in ``chat.ask()`` or ``browser.pull()``. JupyterLab (4.4+, "comms over
subshells") sends each view's messages with the ``subshell_id`` of a kernel subshell made for that
comm, so they can run there while the main shell is busy. What the kernel does with that id:

- ipykernel 7.1-7.3 runs a comm message on the subshell its header names: nothing to do.
- ipykernel 7.4 asks the comm first, ``comm._reply_subshell_for(data, default)`` (private), which
  answers with the subshell of whatever request was current when the comm last *sent* something.
  Our widgets send from worker threads, which ipykernel attributes to the latest request of any
  shell (usually the main shell's cell), so Stop would queue behind the very cell it should stop.
  That rerouting serves cells that wait for a widget's reply; nothing waits for ours, so we answer
  ``default``: each message runs on the subshell the view sent it to, as on 7.1-7.3.

No public hook exists for this (ipykernel 7.4 has only this method; ``Kernel.get_parent()`` and
contextvars tricks depend on the same internals, less directly). So the override is guarded: it is
installed only on an ipykernel comm of a 7.x release whose hook has the known ``(data, default)``
shape. Anything else falls back to the kernel's own routing with one warning naming the version:
then Stop/Cancel pressed during a blocking call take effect when the cell ends, and the kernel's
interrupt button stops the call at once. Tests: tests/test_kernel_routing.py (guard and fallback),
tests/test_widget_subshells.py (a real kernel, on the oldest and the newest supported ipykernel).
"""

from __future__ import annotations

import inspect
import re
import threading
import warnings
from typing import Any, Literal

__all__ = ["KernelRoutingWarning", "Routing", "ipykernel_version", "keep_view_messages_on_their_subshell", "routing"]

#: The private method ipykernel 7.4 asks where a comm's incoming message should run.
HOOK = "_reply_subshell_for"
#: The ipykernel major version whose routing this module knows (7.1 is the project's floor).
KNOWN_MAJOR = 7
#: The first release that reroutes comm messages through ``HOOK``.
HOOKED_SINCE = (7, 4)

#: How a widget's view messages are routed:
#: ``by-header``: by the kernel itself, to the subshell the view sent them to (ipykernel < 7.4);
#: ``kept``: our hook keeps them there (7.4+); ``last-sender``: 7.4's own rerouting, to where the comm
#: last sent from (our hook is not installed on this comm); ``no-kernel``: not an ipykernel comm
#: (plain Python, tests, another kernel): nothing to route; ``fallback``: routing we do not know,
#: left to the kernel.
Routing = Literal["by-header", "kept", "last-sender", "no-kernel", "fallback"]


class KernelRoutingWarning(RuntimeWarning):
    """This ipykernel routes widget messages in a way ollama_nb does not know (see the module doc)."""


_warned = False
_warn_lock = threading.Lock()


def _on_the_view_subshell(_data: Any, default: str | None) -> str | None:
    """Our answer to ipykernel's routing question: the subshell the view sent the message to."""
    return default


def _kernel_comm_class() -> type | None:
    try:  # the class comm.create_comm() makes inside ipykernel
        from ipykernel.comm.comm import BaseComm
    except ImportError:
        return None
    return BaseComm


def ipykernel_version() -> tuple[str, tuple[int, int]]:
    """The running ipykernel's version: its text and (major, minor); ("", (0, 0)) if unknown."""
    try:
        import ipykernel
    except ImportError:
        return "", (0, 0)
    text = str(getattr(ipykernel, "__version__", ""))
    match = re.match(r"(\d+)\.(\d+)", text)
    return text, (int(match[1]), int(match[2])) if match else (0, 0)


def _takes_data_and_default(hook: Any) -> bool:
    """Whether ``hook`` can be called as ipykernel 7.4 calls it: ``hook(data, default)``."""
    try:
        inspect.signature(hook).bind(None, None)
    except (TypeError, ValueError):
        return False
    return True


def _decide(comm: Any) -> tuple[Routing, str]:
    """How ``comm``'s view messages are routed now, and why (the warning's text for a fallback)."""
    kernel_comm = _kernel_comm_class()
    if comm is None or kernel_comm is None or not isinstance(comm, kernel_comm):
        return "no-kernel", ""
    text, version = ipykernel_version()
    hook = getattr(comm, HOOK, None)
    if hook is _on_the_view_subshell:
        return "kept", ""
    if version[0] < KNOWN_MAJOR or (version[0] == KNOWN_MAJOR and version < HOOKED_SINCE and hook is None):
        return "by-header", ""  # 6.x has no subshells; 7.1-7.3 route by the message's own subshell id
    if version[0] > KNOWN_MAJOR:
        why = f"ipykernel {text} is newer than the {KNOWN_MAJOR}.x releases ollama_nb knows"
    elif hook is None:
        since = f"{HOOKED_SINCE[0]}.{HOOKED_SINCE[1]}"
        why = f"ipykernel {text} has no comm.{HOOK}(), which {since} routed widget messages with"
    elif not _takes_data_and_default(hook):
        why = f"ipykernel {text} changed comm.{HOOK}(), which routes widget messages"
    else:
        return "last-sender", ""
    return "fallback", why


def routing(comm: Any) -> Routing:
    """How messages from ``comm``'s views are routed now (for tests and bug reports)."""
    return _decide(comm)[0]


def keep_view_messages_on_their_subshell(comm: Any) -> Routing:
    """Make messages from ``comm``'s views run on the subshell each view sent them to; how they
    are routed then.

    Call it whenever a widget gets a comm. Never raises: where this ipykernel's routing is unknown,
    it leaves the kernel's own routing in place and warns once per process."""
    decision, why = _decide(comm)
    if decision == "last-sender":
        setattr(comm, HOOK, _on_the_view_subshell)
        decision = "kept"
    elif decision == "fallback":
        _warn_once(why)
    return decision


def _warn_once(why: str) -> None:
    global _warned
    with _warn_lock:
        if _warned:
            return
        _warned = True
    warnings.warn(
        f"{why}. ChatWidget's Stop and ModelBrowser's Cancel still work while the kernel is idle, but "
        "pressed while a cell waits in chat.ask() or browser.pull() they take effect only when that "
        "cell ends: use the kernel's interrupt button to stop it at once. "
        "Please report this at the ollama_nb issue tracker with the ipykernel version.",
        KernelRoutingWarning,
        stacklevel=3,
    )
