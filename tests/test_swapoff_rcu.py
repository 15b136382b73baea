"""specs/swap/swapoff_vs_swap_duplicate.mig: swapoff() against
__swap_duplicate() (eb085574a752). Linux 5.2's swapoff() frees the
device's cluster_info and swap_map while a swap-in that read its entry
before try_to_unuse() is between its reads of them; 5.3's
get_swap_device()/put_swap_device() read-side section, its SWP_VALID test
and swapoff()'s synchronize_rcu() close the window. The controls take one
of the fix's two defenses out and the race comes back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT, replayed_trace, run, thread_label

Spec = Callable[[str], Path]

SPEC = ROOT / "specs" / "swap" / "swapoff_vs_swap_duplicate.mig"
BUGGY = "swapoff_vs_swapcache_prepare_5_2"
FIXED = "swapoff_vs_swapcache_prepare_fixed"

SYNCHRONIZE = "        synchronize_rcu();              // wait for get/put_swap_device() sections\n"
VALID_TEST = """    if (!si->flags.SWP_VALID)
        goto unlock_out;            // swapoff() has begun. reach: swapoff_vs_swapcache_prepare_fixed
"""


def test_5_2_swapoff_frees_cluster_info_under_the_swap_in() -> None:
    """The swap-in reads p->max and p->cluster_info; swapoff() clears the
    pointers under swap_lock and p->lock and frees both tables; the swap-in's
    spin_lock(&ci->lock) in lock_cluster() touches the freed cluster_info:
    16 steps, the last one the swap-in's. A swap-in that reads p->swap_map
    after swapoff() cleared it dereferences NULL (11 steps), the race
    diagram of the commit message: a note of the same search."""
    result = run(SPEC, BUGGY)
    assert result.met and result.violation is not None
    assert result.violation.kind == "use_after_free"
    assert result.violation.steps == 16
    assert result.violation.message == "read cluster_infos[0] after it was freed"
    assert (result.stats.states, result.stats.transitions) == (141, 228)
    assert [(o.kind, o.steps, o.message) for o in result.others] == [
        ("null_deref", 11, "read through a null swap_maps reference")]
    trace = replayed_trace(result, SPEC, BUGGY)
    last = trace.steps[-1]
    assert thread_label(trace, last.thread) == "swapin()"
    assert last.text == "spin_lock(&ci->lock);" and last.func == "lock_cluster"
    assert last.fault
    frees = [s for s in trace.steps if s.text == "free(cluster_info);"]
    assert len(frees) == 1 and thread_label(trace, frees[0].thread) == "swapoff()"
    assert frees[0].index == 15
    # the swap-in read the pointer before swapoff() cleared it
    read = next(s for s in trace.steps if "si->cluster_info" in s.text)
    assert thread_label(trace, read.thread) == "swapin()" and read.index < frees[0].index


def test_5_3_get_swap_device_and_synchronize_rcu_verify() -> None:
    result = run(SPEC, FIXED)
    assert result.verdict == "verified", result.violation
    assert result.met
    assert (result.stats.states, result.stats.transitions) == (230, 401)
    assert not result.warnings


def test_without_synchronize_rcu_the_fix_still_races(spec_file: Spec) -> None:
    """SWP_VALID alone: a swap-in that tested it before swapoff() cleared it
    is inside its section, and swapoff() frees without waiting for it."""
    text = SPEC.read_text(encoding="utf-8")
    assert SYNCHRONIZE in text
    path = spec_file(text.replace(SYNCHRONIZE, ""))
    result = run(path, FIXED)
    assert not result.met and result.violation is not None
    # the shortest: p->swap_map read after swapoff() cleared it (the
    # commit's "NULL pointer access")
    assert (result.violation.kind, result.violation.message) == (
        "null_deref", "read through a null swap_maps reference")
    trace = replayed_trace(result, path, FIXED)
    assert thread_label(trace, trace.steps[-1].thread) == "swapin()"
    assert trace.steps[-1].text.startswith("ent = p->swap_map->ent[")


def test_without_the_swp_valid_test_the_fix_still_races(spec_file: Spec) -> None:
    """synchronize_rcu() alone: a swap-in that enters its section after the
    grace period began is not waited for, and without the SWP_VALID test it
    goes on to the tables swapoff() is about to free."""
    text = SPEC.read_text(encoding="utf-8")
    assert VALID_TEST in text
    path = spec_file(text.replace(VALID_TEST, ""))
    result = run(path, FIXED)
    assert not result.met and result.violation is not None
    assert (result.violation.kind, result.violation.message) == (
        "null_deref", "read through a null swap_maps reference")
    trace = replayed_trace(result, path, FIXED)
    texts = [s.text for s in trace.steps]
    assert "synchronize_rcu();" in texts
    assert thread_label(trace, trace.steps[-1].thread) == "swapin()"
