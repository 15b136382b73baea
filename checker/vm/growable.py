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
the array is alive, a system without mremap) it copies, into a new map.
"""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np

_MIN_BYTES = mmap.PAGESIZE


def zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """`np.zeros(shape, dtype)` in a map of its own, which `double` grows."""
    count = int(np.prod(shape))
    nbytes = max(count * np.dtype(dtype).itemsize, _MIN_BYTES)
    m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return np.frombuffer(m, dtype=dtype, count=count).reshape(shape)


def _map_of(a: np.ndarray) -> mmap.mmap | None:
    """The map `a` views (numpy holds it through a memoryview), if any."""
    base = a.base
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    return base if isinstance(base, mmap.mmap) else None


def double(holder: object, at: str | int) -> None:
    """`holder.at` (or `holder[at]`, for a list) doubled along its first
    axis, its content kept and the new entries zero: in place when the
    array is its map's and `holder` holds its only view, else copied into
    a new map."""
    a = _get(holder, at)
    shape, dtype = a.shape, a.dtype
    grown = (2 * shape[0], *shape[1:])
    m = _map_of(a)
    if m is not None and a.nbytes >= _MIN_BYTES and a.nbytes == len(m):
        # Every view must be gone for the map to move: the holder's first.
        _set(holder, at, np.zeros((0, *shape[1:]), dtype=dtype))
        del a
        try:
            m.resize(2 * len(m))
        except (BufferError, OSError, SystemError, ValueError):
            pass  # a view is alive elsewhere, or no mremap: copied below
        else:
            count = int(np.prod(grown))
            _set(holder, at, np.frombuffer(m, dtype=dtype, count=count).reshape(grown))
            return
        a = np.frombuffer(m, dtype=dtype, count=int(np.prod(shape))).reshape(shape)
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
