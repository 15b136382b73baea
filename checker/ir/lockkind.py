"""The lock vocabulary: what a procedure's annotation says it does to a lock.

Lock primitives are spec code (`models/spinlock.mig`, `mutex.mig`, ...); the
checker learns what they do only from their annotations. Sema keeps each
annotation as written (`acquires_shared`, it cannot name the IR); this
module decodes it once, into an operation and a mode, and every reader
(lowering, the lock recorder, the mutation operators) matches on those
instead of on the annotation's spelling.
"""

from __future__ import annotations

from enum import StrEnum


class LockOp(StrEnum):
    """What an annotated procedure does to the lock its parameter names."""

    ACQUIRE = "acquire"  # `__acquires`: waits until it holds the lock
    RELEASE = "release"  # `__releases`
    TRY_ACQUIRE = "try_acquire"  # `__cond_acquires`: held if the result is true
    MUST_HOLD = "must_hold"  # `__must_hold`: the caller must already hold it


# Sema's annotation kinds (`__acquires_shared` -> "acquires_shared") that
# declare a lock operation, with the operation and whether it is the shared
# (reader) side of a reader-writer lock.
_DECLARED: dict[str, tuple[LockOp, bool]] = {
    "acquires": (LockOp.ACQUIRE, False),
    "releases": (LockOp.RELEASE, False),
    "cond_acquires": (LockOp.TRY_ACQUIRE, False),
    "acquires_shared": (LockOp.ACQUIRE, True),
    "releases_shared": (LockOp.RELEASE, True),
    "cond_acquires_shared": (LockOp.TRY_ACQUIRE, True),
    "must_hold": (LockOp.MUST_HOLD, False),
}

# The kind of `__might_sleep`: the procedure is the kernel's might_sleep()
# check, so its assertions are what "sleeping in atomic context" means (a
# lock whose acquisition breaks them is a spinning lock).
MIGHT_SLEEP = "might_sleep"


def lock_annotation(kind: str) -> tuple[LockOp, bool] | None:
    """The operation and shared mode an annotation kind declares; None for
    one that declares no lock operation (`might_sleep`)."""
    if kind == MIGHT_SLEEP:
        return None
    return _DECLARED[kind]
