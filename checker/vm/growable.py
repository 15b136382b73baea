"""Arrays that double in place: the store's rows and its per-state arrays.

Doubling by copy (a new array, the old rows copied, the old array freed)
holds both at once: for a moment the rows take three halves of their
doubled size, and that moment was the peak of a large search (two workers
on 28.6 M states of two words: +200 MiB for a fifth of a second, when both
parts' rows and tables grew). An array made by `zeros` lives in an
anonymous private map of its own; `double` grows that map with mremap
(Python's `mmap.resize` on Linux), which moves no byte and leaves the new
half's pages untouched until they are written, so a doubling costs no
memory until states fill it. Where that cannot be done (another view of
the array is alive, a system without mremap) it copies, into a new map,
and counts it in `copies` (the tests hold a search to none).

Maps of 4 MiB and more ask for transparent huge pages, as numpy's own
allocations do. A map the system cannot give raises MemoryError, as numpy
would (the workers turn that into their out-of-memory failure).
"""

from __future__ import annotations

import contextlib
import errno
import mmap
from typing import Any

import numpy as np

_MIN_BYTES = mmap.PAGESIZE
_HUGE_FROM = 4 << 20
copies = 0  # doublings of a mapped array that had to copy (a view alive elsewhere)


def _advise(m: mmap.mmap) -> None:
    if len(m) >= _HUGE_FROM and hasattr(mmap, "MADV_HUGEPAGE"):
        with contextlib.suppress(OSError):  # no transparent huge pages here: plain pages
            m.madvise(mmap.MADV_HUGEPAGE)


def zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """`np.zeros(shape, dtype)` in a map of its own, which `double` grows."""
    count = int(np.prod(shape))
    nbytes = max(count * np.dtype(dtype).itemsize, _MIN_BYTES)
    try:
        m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except OSError as e:
        if e.errno == errno.ENOMEM:
            raise MemoryError(f"cannot map {nbytes:,} bytes") from e
        raise
    _advise(m)
    return _view(m, shape, dtype)


def _map_of(a: np.ndarray) -> mmap.mmap | None:
    """The map `a` views (numpy holds it through a memoryview), if any."""
    base = a.base
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    return base if isinstance(base, mmap.mmap) else None


def _view(m: mmap.mmap, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.frombuffer(m, dtype=dtype, count=int(np.prod(shape))).reshape(shape)


def double(holder: object, at: str | int) -> None:
    """`holder.at` (or `holder[at]`, for a list) doubled along its first
    axis, its content kept and the new entries zero: in place when the
    array is its map's and `holder` holds its only view, else copied into
    a new map. If that raises (no memory), `holder` keeps the array."""
    global copies
    a = _get(holder, at)
    shape, dtype = a.shape, a.dtype
    grown = (2 * shape[0], *shape[1:])
    m = _map_of(a)
    if m is not None and a.nbytes >= _MIN_BYTES and a.nbytes == len(m):
        # Every view must be gone for the map to move: the holder's first.
        _set(holder, at, np.zeros((0, *shape[1:]), dtype=dtype))
        del a
        moved = False
        try:
            m.resize(2 * len(m))
            moved = True
        except (BufferError, OSError, SystemError, ValueError):
            pass  # a view is alive elsewhere, or no mremap: copied below
        finally:  # and on an interrupt, the array as it was
            _set(holder, at, _view(m, grown if moved else shape, dtype))
        if moved:
            _advise(m)
            return
        copies += 1
        a = _get(holder, at)
    out = zeros(grown, dtype)
    out[: shape[0]] = a
    _set(holder, at, out)


def _get(holder: object, at: str | int) -> np.ndarray:
    got: np.ndarray = holder[int(at)] if isinstance(holder, list) else getattr(holder, str(at))
    return got


def _set(holder: object, at: str | int, a: np.ndarray) -> None:
    if isinstance(holder, list):
        holder[int(at)] = a
    else:
        setattr(holder, str(at), a)
