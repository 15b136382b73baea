"""The VM's visited set in its two forms (checker/vm/store.py): the tree
store from the first state, and the move from dense rows to the tree in the
middle of a search, give the Python engine's search exactly (figures,
violation path, notes), whatever the state's width; the figures of memory
come from the arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given

from checker.explore.codegen import Packing
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir.nodes import TransitionSystem
from checker.vm import store as vm_store
from checker.vm.layout import TIGHT_WORDS, WORD_BITS, WordLayout
from checker.vm.program import compile_program
from checker.vm.search import vm_bfs
from tests.heap_programs import heap_programs
from tests.programs import programs
from tests.test_vm import SEARCH_CAP, SPECS, SPINNING, _build, _scenarios
from tests.test_vm_tiered import SETTINGS, _with_path


@contextmanager
def layout_forced(tight: bool) -> Iterator[None]:
    """Every program compiled meanwhile gets the grouped or the tight layout,
    whatever `WordLayout.choose` would pick."""
    def forced(ts: TransitionSystem, packing: Packing) -> WordLayout:
        return WordLayout.of(ts, packing, tight=tight)

    with patch.object(WordLayout, "choose", staticmethod(forced)):
        yield


def same_in_every_form(ts: TransitionSystem, opts: CheckOptions,
                       monkeypatch: pytest.MonkeyPatch | None = None,
                       layouts: bool = True) -> None:
    want = _with_path(check(ts, opts))
    assert _with_path(check(ts, opts.store_form("tree"), engine=vm_bfs)) == want, ts.scenario
    assert _with_path(check(ts, opts.store_form("dense"), engine=vm_bfs)) == want, ts.scenario
    for tight in (False, True) if layouts else ():  # each layout, dense
        with layout_forced(tight):
            got = _with_path(check(ts, opts.store_form("dense"), engine=vm_bfs))
            assert got == want, (ts.scenario, tight)
    if monkeypatch is not None:  # auto, moving to the tree at the first growth
        with monkeypatch.context() as m:
            m.setattr(vm_store, "TREE_AT_BYTES", 0)
            got = _with_path(check(ts, opts, engine=vm_bfs))
        assert got == want, ts.scenario


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_form_agrees_on_every_spec_scenario(spec: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Both layouts on the specs of quick scenarios; the others with
    # `make test-slow` (test_both_layouts_on_the_large_specs).
    for ts in _scenarios(spec):
        same_in_every_form(ts, CheckOptions().max_states(SEARCH_CAP), monkeypatch,
                           layouts=spec.stem not in LARGE)


LARGE = {"migration", "migrate_lock", "exchange_pages", "isolate_putback", "slot_vs_migration",
         "balloon_compaction"}


@pytest.mark.slow
@pytest.mark.parametrize("spec", [p for p in SPECS if p.stem in LARGE], ids=lambda p: p.stem)
def test_both_layouts_on_the_large_specs(spec: Path) -> None:
    for ts in _scenarios(spec):
        want = _with_path(check(ts, CheckOptions().max_states(SEARCH_CAP)))
        for tight in (False, True):
            with layout_forced(tight):
                got = _with_path(check(ts, CheckOptions().max_states(SEARCH_CAP)
                                       .store_form("dense"), engine=vm_bfs))
            assert got == want, (ts.scenario, tight)


@SETTINGS
@given(programs())
def test_every_form_agrees_on_random_programs(tmp_path: Path, text: str) -> None:
    same_in_every_form(_build(tmp_path, text), CheckOptions())


@SETTINGS
@given(heap_programs())
def test_every_form_agrees_on_heap_programs(tmp_path: Path, text: str) -> None:
    same_in_every_form(_build(tmp_path, text), CheckOptions())


def test_the_livelock_graph_with_the_tree(tmp_path: Path) -> None:
    ts = _build(tmp_path, SPINNING)
    same_in_every_form(ts, CheckOptions())


def test_the_move_to_the_tree_happens_and_shrinks_the_store(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A search of a few thousand states of 8+ words: the tree holds it in
    fewer bytes than the dense rows, and auto moves to the tree once the
    dense arrays would pass the threshold."""
    ts = _scenarios(Path(__file__).resolve().parent.parent / "specs" / "zsmalloc"
                    / "map_vs_migrate.mig")[1]
    dense = check(ts, CheckOptions().store_form("dense"), engine=vm_bfs)
    tree = check(ts, CheckOptions().store_form("tree"), engine=vm_bfs)
    assert dense.stats.states == tree.stats.states > 4000
    assert 0 < tree.stats.store_bytes < dense.stats.store_bytes
    moved: list[int] = []
    real = vm_store.Store._to_tree

    def spy(self: vm_store.Store, rows: object, sc: object) -> None:
        moved.append(len(rows))  # type: ignore[arg-type]
        real(self, rows, sc)  # type: ignore[arg-type]

    monkeypatch.setattr(vm_store.Store, "_to_tree", spy)
    monkeypatch.setattr(vm_store, "TREE_AT_BYTES", 100_000)
    auto = check(ts, CheckOptions(), engine=vm_bfs)
    assert len(moved) == 1 and 0 < moved[0] < auto.stats.states
    assert auto.stats.states == dense.stats.states
    assert auto.stats.transitions == dense.stats.transitions


def test_past_the_arrays_numbering_the_search_is_incomplete(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Parents and ids are int32: a search that would number more states
    than that stops incomplete, saying why (here with the bound lowered)."""
    ts = _scenarios(Path(__file__).resolve().parent.parent / "specs" / "zsmalloc"
                    / "map_vs_migrate.mig")[1]
    monkeypatch.setattr(vm_store, "MAX_STATES", 1000)
    r = check(ts, CheckOptions(), engine=vm_bfs)
    assert r.verdict == "incomplete" and r.stats.states == 1000
    assert r.limit == "the compiled engine's limit of 1,000 states"
    r = check(ts, CheckOptions().max_states(500), engine=vm_bfs)
    assert r.limit == "--max-states 500" and r.stats.states == 500


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_both_layouts_place_every_slot_in_one_word_without_overlap(spec: Path) -> None:
    """Grouped and tight: each slot inside one word below bit 63, no two
    slots of a word overlapping; the grouped one never mixes two groups in
    a word; the tight one takes no more words; `choose` takes the tight
    one exactly when it fits in TIGHT_WORDS words and the grouped one
    does not."""
    for ts in _scenarios(spec):
        packing = Packing.of(ts)
        grouped = WordLayout.of(ts, packing)
        tight = WordLayout.of(ts, packing, tight=True)
        for lay in (grouped, tight):
            bits: dict[int, int] = {}
            for k in range(len(ts.slots)):
                w, sh, width = lay.word[k], lay.shift[k], lay.width[k]
                assert sh >= 0 and sh + width <= WORD_BITS
                mask = ((1 << width) - 1) << sh
                assert bits.get(w, 0) & mask == 0, (ts.scenario, ts.slots[k].name)
                bits[w] = bits.get(w, 0) | mask
        owner: dict[int, object] = {}
        for k, s in enumerate(ts.slots):
            group = s.thread if s.thread else ("shared", s.pool or "")
            assert owner.setdefault(grouped.word[k], group) == group, ts.scenario
        assert tight.nwords <= grouped.nwords
        chosen = compile_program(ts, packing).layout
        want_tight = grouped.nwords > TIGHT_WORDS and tight.nwords <= TIGHT_WORDS
        assert chosen.tight == want_tight
        assert chosen.nwords == (tight.nwords if want_tight else grouped.nwords)


def test_a_short_row_stays_dense_and_a_long_one_moves_to_the_tree() -> None:
    """In auto form a row of TIGHT_WORDS words or fewer is never moved to
    the tree, however many states; a longer one is, past TREE_AT_BYTES."""
    many = 1 << 30
    assert not vm_store.Store(TIGHT_WORDS, False)._wants_tree(many)
    assert vm_store.Store(TIGHT_WORDS + 1, False)._wants_tree(many)
    assert not vm_store.Store(TIGHT_WORDS + 1, False)._wants_tree(10)


def test_the_visited_table_fills_to_seven_eighths() -> None:
    """A table of 8 entries holds 7 states (indices 0..6) and is full for
    the 8th; the search's table is the smallest power of two at that load:
    the 4,096 initial entries hold 3,584 states."""
    assert vm_store.table_room(8) == 7
    assert not vm_store.table_full(6, 8) and vm_store.table_full(7, 8)
    assert vm_store.table_room(4096) == 3584
    assert not vm_store.table_full(3583, 4096) and vm_store.table_full(3584, 4096)
