"""The process's limits (`--max-seconds`, `--max-memory`) around a symbolic
engine: BMC and `prove` stop the same way, so they share this.

A limit is passed in one of two ways: the watchdog of
`checker.explore.limits` raises `LimitExceeded` in the watched phase, or z3
reaches the memory ceiling set here (a little under what the process has
left, so that z3 stops cleanly before the watchdog does) and raises a
`Z3Exception` about memory. Either way the engine's caller gets a result
that says which limit stopped it, not an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import z3

from checker.explore.limits import LimitExceeded, limit_text, phase, process_limits
from checker.explore.result import current_rss_mb

Result = TypeVar("Result")


def within_limits(what: str, run: Callable[[], Result],
                  stopped: Callable[[str], Result]) -> Result:
    """`run()` as the watched phase `what`, with z3's memory ceiling set
    under `--max-memory` (and lifted afterwards); when a limit stops it,
    `stopped(why)`, `why` naming the limit as a report shows it
    (`--max-memory 512, inside z3`)."""
    limits = process_limits()
    memory_mb = limits.memory_mb if limits is not None else None
    if memory_mb is not None:
        z3.set_param("memory_max_size", _z3_ceiling_mb(memory_mb))
    try:
        with phase(what):
            return run()
    except LimitExceeded as e:
        return stopped(limit_text(e))
    except z3.Z3Exception as e:
        if memory_mb is None or "memory" not in str(e):
            raise
        return stopped(f"--max-memory {memory_mb:g}, inside z3")
    finally:
        if memory_mb is not None:
            z3.set_param("memory_max_size", 0)  # no ceiling (z3's default)


def _z3_ceiling_mb(limit_mb: float) -> int:
    """z3's own memory ceiling under `--max-memory`: most of what is left,
    so that z3 stops cleanly (an unknown answer) before the watchdog does."""
    return max(1, int((limit_mb - current_rss_mb()) * 0.9))
