"""The page lock with PG_waiters in models/page.mig (folio_lock(),
folio_unlock(), folio_wake_bit(), Linux 5.16): a waiter sets PG_waiters
atomically before it sleeps and folio_unlock() wakes only when the bit is
set, so a non-atomic update of page->flags by the lock holder that erases
the bit leaves the waiter asleep for good; the atomic update does not. The
spec specs/migrate/putback_vs_page_waiters.mig is the kernel's instance
(356ea3865687)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.vm.search import vm_bfs
from tests.conftest import ROOT, run, system
from tests.test_vm import _figures

Spec = Callable[[str], Path]

HOLDER_VS_WAITER = """
    // Linux 5.17
    const NR_PAGES = 1;
    const PAGE_REF_MAX = 1;
    option atomic_update = false;
    import "page";
    struct page_owner { };
    struct page_mem { };
    struct page *P;
    init { P = alloc(pages); page_alloc(P); }
    // The lock holder sets PG_isolated: __SetPageIsolated() or SetPageIsolated().
    thread holder() {
        folio_lock(P);
        if (atomic_update)
            SetPageIsolated(P);
        else
            __SetPageIsolated(P);
        folio_unlock(P);
    }
    thread waiter() {
        folio_lock(P);
        folio_unlock(P);
    }
    scenario nonatomic { run holder(); run waiter(); expect deadlock; }
    scenario atomic { option atomic_update = true; run holder(); run waiter(); expect verified; }
    scenario three { option atomic_update = true; run holder(); run waiter(); run waiter();
                     expect verified; }
"""


def test_uncontended_folio_lock_and_unlock(spec_file: Spec) -> None:
    """Alone: the read of the global P for the call, folio_lock()'s trylock,
    the read of P again, and folio_unlock(), which finds PG_waiters clear and
    wakes nobody: 4 steps, 5 states, 4 transitions."""
    text = HOLDER_VS_WAITER.replace("scenario nonatomic {", "scenario alone { run waiter(); }\n"
                                    "    scenario nonatomic {")
    result = run(spec_file(text), "alone")
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (5, 4)


def test_nonatomic_update_under_the_lock_erases_pg_waiters(spec_file: Spec) -> None:
    """The waiter queues itself and sets PG_waiters between the holder's
    load and store of page->flags; the store puts the bit back to 0, the
    unlock wakes nobody, the waiter sleeps forever: a deadlock."""
    result = run(spec_file(HOLDER_VS_WAITER), "nonatomic")
    assert result.met and result.violation is not None
    assert result.violation.kind == "deadlock"
    assert "waiter() at line" in result.violation.message
    assert (result.stats.states, result.stats.transitions) == (60, 79)


def test_atomic_update_keeps_pg_waiters(spec_file: Spec) -> None:
    result = run(spec_file(HOLDER_VS_WAITER), "atomic")
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (53, 74)


def test_two_waiters_are_woken_in_turn(spec_file: Spec) -> None:
    """Two sleepers on one page: each folio_unlock() wakes one of them, and
    PG_waiters stays set while the other is queued."""
    result = run(spec_file(HOLDER_VS_WAITER), "three")
    assert result.verdict == "verified", result.violation


def test_4_8_lock_page_has_no_pg_waiters_to_erase(spec_file: Spec) -> None:
    """With 4.8's lock_page()/unlock_page(), which always wake, the same
    non-atomic update loses nothing: the bug needs 4.10's PG_waiters."""
    text = HOLDER_VS_WAITER.replace("folio_lock(P)", "lock_page(P)").replace(
        "folio_unlock(P)", "unlock_page(P)").replace(
        "scenario nonatomic { run holder(); run waiter(); expect deadlock; }",
        "scenario nonatomic { run holder(); run waiter(); expect verified; }")
    result = run(spec_file(text), "nonatomic")
    assert result.verdict == "verified", result.violation


def test_more_sleepers_than_the_wait_table_holds(spec_file: Spec) -> None:
    text = HOLDER_VS_WAITER.replace(
        "run waiter(); run waiter();\n                     expect verified;",
        "run waiter(); run waiter();\n                     "
        "expect assert \"more page lock waiters than NR_PAGE_WAITERS\";")
    result = run(spec_file(text), "three", overrides={"NR_PAGE_WAITERS": 1})
    assert result.met, result.violation


@pytest.mark.parametrize("scenario", ["nonatomic", "atomic", "three"])
def test_the_vm_agrees(spec_file: Spec, scenario: str) -> None:
    ts = system(spec_file(HOLDER_VS_WAITER), scenario)
    want = _figures(check(ts, CheckOptions()))
    assert _figures(check(ts, CheckOptions(), engine=vm_bfs)) == want


SPEC = ROOT / "specs" / "migrate" / "putback_vs_page_waiters.mig"


def test_spec_5_17_loses_the_owner_s_wake_up() -> None:
    """putback_movable_pages()'s __ClearPageIsolated() erases the owner's
    PG_waiters: 13 steps, the owner left asleep in folio_lock()."""
    result = run(SPEC, "putback_vs_owner_5_17")
    assert result.met and result.violation is not None
    assert result.violation.kind == "deadlock"
    assert result.violation.steps == 13
    assert "owner(P)" in result.violation.message and "folio_lock" in result.violation.message
    assert result.stats.states == 90


def test_spec_fixed_with_the_atomic_clear_verifies() -> None:
    result = run(SPEC, "putback_vs_owner_fixed")
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (103, 156)
