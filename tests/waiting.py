"""The one way a test waits: on a condition, never on the clock.

``wait_until`` polls a predicate until it holds and returns its value. Its limit is only a hang guard,
so a broken build fails instead of hanging; it is never a claim about speed (speed targets live in
``benchmarks/``), which is why there is one generous limit for every test and no per-call number.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds before a wait is declared hung; generous for a loaded two-core machine.
HANG_GUARD = 120.0


def wait_until(predicate: Callable[[], T], what: str = "the condition", *, interval: float = 0.01) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that."""
    guard = time.monotonic() + HANG_GUARD
    while not (value := predicate()):
        if time.monotonic() > guard:
            raise AssertionError(f"waited {HANG_GUARD:.0f} s for {what}: it never happened")
        time.sleep(interval)
    return value
