"""Arrays that double in place (`checker.vm.growable`): the content kept,
the new half zero, the map grown where it is unless a view forbids it."""

from __future__ import annotations

import errno
from types import SimpleNamespace

import numpy as np
import pytest

from checker.vm import growable


def test_zeros_are_zeros_in_a_map_of_their_own() -> None:
    a = growable.zeros((1000, 3), np.int64)
    assert a.shape == (1000, 3) and a.dtype == np.int64 and a.flags.writeable
    assert not a.any()
    assert growable._map_of(a) is not None
    assert growable.zeros((0,), np.uint8).shape == (0,)


def test_a_doubling_keeps_the_rows_and_grows_the_map_where_it_is() -> None:
    h = SimpleNamespace(rows=growable.zeros((1 << 12, 2), np.int64))
    h.rows[:] = np.arange(1 << 13).reshape(-1, 2)
    m = growable._map_of(h.rows)
    growable.double(h, "rows")
    assert h.rows.shape == (1 << 13, 2)
    assert (h.rows[: 1 << 12] == np.arange(1 << 13).reshape(-1, 2)).all()
    assert not h.rows[1 << 12:].any()
    assert growable._map_of(h.rows) is m  # mremap: no copy, no second array
    h.rows[-1] = 5  # the new half is writable memory
    assert h.rows[-1, 1] == 5


def test_a_view_held_elsewhere_makes_it_copy() -> None:
    h = SimpleNamespace(a=growable.zeros((4096,), np.int32))
    h.a[:] = 7
    view = h.a[10:20]
    m = growable._map_of(h.a)
    before = growable.copies
    growable.double(h, "a")
    assert growable._map_of(h.a) is not m and growable.copies == before + 1
    assert len(h.a) == 8192 and (h.a[:4096] == 7).all() and not h.a[4096:].any()
    assert (view == 7).all()  # the old array is intact under the view
    growable.double(h, "a")  # and the copy grows in place from then on
    assert len(h.a) == 16384 and (h.a[:4096] == 7).all()


def test_plain_and_tiny_arrays_are_copied_into_a_map() -> None:
    h = SimpleNamespace(a=np.arange(5, dtype=np.uint16), b=growable.zeros((3,), np.uint8))
    growable.double(h, "a")
    growable.double(h, "b")
    assert h.a.tolist() == [0, 1, 2, 3, 4, 0, 0, 0, 0, 0] and h.a.dtype == np.uint16
    assert h.b.tolist() == [0] * 6
    assert growable._map_of(h.a) is not None


def test_an_item_of_a_list_doubles_in_place_too() -> None:
    items = [growable.zeros((1024, 2), np.int64)]
    items[0][:] = 3
    m = growable._map_of(items[0])
    growable.double(items, 0)
    assert items[0].shape == (2048, 2) and (items[0][:1024] == 3).all()
    assert not items[0][1024:].any() and growable._map_of(items[0]) is m


def test_no_memory_for_the_copy_leaves_the_array_as_it_was(
        monkeypatch: pytest.MonkeyPatch) -> None:
    h = SimpleNamespace(a=growable.zeros((4096,), np.int64))
    h.a[:] = 9
    view = h.a[:1]  # forces the copy
    monkeypatch.setattr(growable, "zeros", _no_memory)
    with pytest.raises(MemoryError):
        growable.double(h, "a")
    assert len(h.a) == 4096 and (h.a == 9).all() and view[0] == 9


def _no_memory(shape: tuple[int, ...], dtype: object) -> np.ndarray:
    raise MemoryError("test")


def test_a_map_the_system_refuses_is_a_memory_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kw: object) -> None:
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr(growable.mmap, "mmap", refuse)
    with pytest.raises(MemoryError):
        growable.zeros((1 << 20,), np.int64)


@pytest.mark.parametrize("form", ["dense", "tree"])
def test_searches_grow_every_array_in_place(form: str) -> None:
    """No view of a growing array is held across its doubling, on one
    thread or on the workers: every doubling moves the map (a held view
    would make it copy, and the copy's moment is the peak it removed)."""
    from checker.explore.options import CheckOptions
    from checker.explore.run import check
    from checker.vm.parallel import parallel_bfs
    from checker.vm.search import vm_bfs
    from tests.conftest import ROOT
    from tests.test_vm import _scenarios

    (ts,) = [t for t in _scenarios(ROOT / "specs" / "zsmalloc" / "migration.mig")
             if t.scenario == "two_allocs_vs_compaction"]  # 120,191 states
    opts = CheckOptions().store_form(form).use_symmetry(False)
    before = growable.copies
    one = check(ts, opts, engine=vm_bfs)
    two = check(ts, opts, engine=parallel_bfs(2))
    assert one.stats.states == two.stats.states == 120_191
    assert growable.copies == before
