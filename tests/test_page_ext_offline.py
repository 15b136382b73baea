"""specs/page_ext/page_owner_vs_offline.mig: read_page_owner() against
memory offline freeing a section's page_ext (b1d5488a252d). Linux 6.0's
offline_page_ext() frees the table with no ordering against readers of
lookup_page_ext(); the fix's page_ext_get()/page_ext_put() read-side
section, PAGE_EXT_INVALID and synchronize_rcu() close the window, and a
reader left with a bare lookup_page_ext() races as before, named by the
WARN_ON_ONCE(!rcu_read_lock_held()) the fix put there. The controls take
one of the fix's two offline steps out and the race comes back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from checker.trace.model import build_warning_trace
from tests.conftest import ROOT, replayed_trace, run, thread_label

Spec = Callable[[str], Path]

SPEC = ROOT / "specs" / "page_ext" / "page_owner_vs_offline.mig"
BUGGY = "offline_vs_read_page_owner_6_0"
FIXED = "offline_vs_read_page_owner_fixed"
UNCONVERTED = "offline_vs_unconverted_reader"

TEST_BIT = "if (!page_ext->flags.PAGE_EXT_OWNER)"
SYNCHRONIZE = "        synchronize_rcu();              // 2) wait for the readers that started before\n"
INVALIDATE = "        __invalidate_page_ext();        // 1) mark the sections' page_ext invalid\n"


def test_6_0_offline_frees_the_table_under_read_page_owner() -> None:
    """6.0's __free_page_ext() frees the table before it clears
    ms->page_ext, so the reader's lookup_page_ext() can even return the
    freed entry; its test_bit(PAGE_EXT_OWNER) reads it: 6 steps."""
    result = run(SPEC, BUGGY)
    assert result.met and result.violation is not None
    assert result.violation.kind == "use_after_free"
    assert result.violation.steps == 6
    assert result.violation.message == "read page_ext_tables[0] after it was freed"
    assert (result.stats.states, result.stats.transitions) == (22, 31)
    assert not result.warnings          # 6.0's lookup_page_ext() has no WARN
    trace = replayed_trace(result, SPEC, BUGGY)
    last = trace.steps[-1]
    assert thread_label(trace, last.thread) == "read_page_owner()"
    assert last.text == TEST_BIT and last.func == "read_page_owner" and last.fault
    free = next(s for s in trace.steps if s.text.startswith("free("))
    assert thread_label(trace, free.thread) == "offline_page_ext()" and free.index == 3
    assert all(s.text != "synchronize_rcu();" for s in trace.steps)


def test_page_ext_get_and_synchronize_rcu_verify() -> None:
    result = run(SPEC, FIXED)
    assert result.verdict == "verified", result.violation
    assert result.met
    assert (result.stats.states, result.stats.transitions) == (71, 121)
    assert not result.warnings


def test_a_reader_without_page_ext_get_races_and_warns() -> None:
    """The offline invalidates, its grace period finds no reader to wait
    for, it frees; the reader that looked up the entry before the
    invalidation reads freed memory: 11 steps. Its lookup fired the
    WARN_ON_ONCE at once (1 step)."""
    result = run(SPEC, UNCONVERTED)
    assert result.met and result.violation is not None
    assert result.violation.kind == "use_after_free"
    assert result.violation.steps == 11
    assert (result.stats.states, result.stats.transitions) == (54, 89)
    assert [(w.name, w.steps) for w in result.warnings] == [("!rcu_read_lock_held()", 1)]
    assert result.compiled is not None
    warned = build_warning_trace(result.compiled, result.warnings[0])
    assert thread_label(warned, warned.steps[-1].thread) == "read_page_owner()"
    assert warned.steps[-1].func == "lookup_page_ext" and warned.steps[-1].warning
    trace = replayed_trace(result, SPEC, UNCONVERTED)
    texts = [s.text for s in trace.steps]
    assert texts.count("synchronize_rcu();") == 2    # the snapshot and the wait: no reader
    assert texts.index("synchronize_rcu();") < texts.index("free(base.base);")
    assert trace.steps[-1].text == TEST_BIT
    assert thread_label(trace, trace.steps[-1].thread) == "read_page_owner()"


def test_without_synchronize_rcu_the_fix_still_races(spec_file: Spec) -> None:
    """Invalidating alone: a reader that looked the entry up before the
    invalidation still holds it when the table is freed."""
    text = SPEC.read_text(encoding="utf-8")
    assert SYNCHRONIZE in text
    path = spec_file(text.replace(SYNCHRONIZE, ""))
    result = run(path, FIXED)
    assert not result.met and result.violation is not None
    assert result.violation.kind == "use_after_free"
    trace = replayed_trace(result, path, FIXED)
    assert trace.steps[-1].text == TEST_BIT


def test_without_the_invalidation_the_fix_still_races(spec_file: Spec) -> None:
    """The grace period alone: a reader that enters its section after it
    began is not waited for, and without PAGE_EXT_INVALID it still finds
    the table that is about to be freed."""
    text = SPEC.read_text(encoding="utf-8")
    assert INVALIDATE in text
    path = spec_file(text.replace(INVALIDATE, ""))
    result = run(path, FIXED)
    assert not result.met and result.violation is not None
    assert result.violation.kind == "use_after_free"
    trace = replayed_trace(result, path, FIXED)
    texts = [s.text for s in trace.steps]
    assert "synchronize_rcu();" in texts
    assert trace.steps[-1].text == TEST_BIT
