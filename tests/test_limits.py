"""`--max-seconds` and `--max-memory` hold from the start of the process:
building a scenario, compiling it and encoding it for z3 are bounded as the
search is (probe: a pool of 10^5 objects reached 5.85 GB under
`--max-memory 500`; `-D NR_PAGES=1000000` gave no output in 400 s)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from checker.explore.limits import (
    LimitExceeded,
    _dict_growth_bytes,
    phase,
    start_process_limits,
    stop_process_limits,
)
from tests.conftest import ROOT

MIGCHECK = [sys.executable, "-m", "checker"]

# Building and compiling 10^5 objects takes seconds and several GB.
BIG_POOL = """\
struct obj { int[0..3] v; struct obj *next; };
pool struct obj objs[100000];
struct obj *head = null;
thread t() { struct obj *p = alloc(objs); p->v = 1; head = p; }
thread u() { struct obj *q = head; if (q != null) { q->v = 2; free(q); } }
scenario s { run t(); run u(); }
"""


TIME = Path("/usr/bin/time")


# Each step multiplies two wide variables that the schedule decides.
Z3_HUNGRY = """\
int[0..(1 << 1000)] x = 3;
int[0..(1 << 1000)] y = 5;
thread a() { while (true) { x = (x * y + 1) % (1 << 1000); } }
thread b() { while (true) { y = (y * x + 3) % (1 << 1000); } }
invariant small: x != 7;
scenario s { run a(); run b(); }
"""


def _check(spec: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run `migcheck check`: (result, seconds, peak MB of the child, measured
    by /usr/bin/time; 0 without it)."""
    wrap = [str(TIME), "-f", "peak-kb %M"] if TIME.exists() else []
    t0 = time.monotonic()
    proc = subprocess.run([*wrap, *MIGCHECK, "check", str(spec), "--no-save", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    seconds = time.monotonic() - t0
    found = re.search(r"peak-kb (\d+)", proc.stderr)
    return proc, seconds, int(found[1]) / 1024 if found else 0.0


def test_a_big_pool_stops_at_the_memory_limit_while_compiling(tmp_path: Path) -> None:
    spec = tmp_path / "pool.mig"
    spec.write_text(BIG_POOL)
    proc, seconds, peak = _check(spec, "--max-memory", "300", "--max-seconds", "60")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    # building takes about 125 MB; compiling 10^5 objects is what grows
    assert "stopped by --max-memory 300, while compiling scenario s" in out
    assert "Traceback" not in out and "internal error" not in out
    assert peak < 300 * 1.1, peak
    assert seconds < 30


def test_a_big_build_stops_at_the_time_limit(tmp_path: Path) -> None:
    spec = tmp_path / "pool.mig"
    spec.write_text(BIG_POOL)
    proc, seconds, _ = _check(spec, "--max-seconds", "1")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    # Where the second runs out depends on the machine's speed: inside a phase
    # ("while building ...") or at the boundary of the next ("before compiling").
    assert re.search(r"stopped by --max-seconds 1, (while|before) ", proc.stdout + proc.stderr)
    assert seconds < 4  # 1 s from main(), plus the interpreter's start-up
    # building 10^5 objects takes about two seconds
    proc, seconds, _ = _check(spec, "--max-seconds", "0.3")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "migcheck: incomplete: stopped by --max-seconds 0.3, while loading and building " \
           "the scenarios" in proc.stderr
    assert seconds < 3


def test_bmc_encoding_is_bounded_too(tmp_path: Path) -> None:
    spec = tmp_path / "pool.mig"
    spec.write_text(BIG_POOL)
    proc, seconds, _ = _check(spec, "--engine", "bmc", "--max-seconds", "1")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "stopped by --max-seconds 1" in proc.stdout + proc.stderr
    assert seconds < 4


def test_bmc_honours_the_memory_limit_inside_z3(tmp_path: Path) -> None:
    """Products of two 1,001-bit variables whose values depend on the
    interleaving: z3 bit-blasts a multiplier per step and passes 1 GB at
    depth 1 without the ceiling. (The probe's shift by a wide-ranged local
    no longer does: shift counts are capped at 1,024 bits.)"""
    spec = tmp_path / "products.mig"
    spec.write_text(Z3_HUNGRY)
    proc, seconds, _ = _check(spec, "--engine", "bmc", "--max-memory", "400",
                              "--max-seconds", "60")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "stopped by --max-memory 400" in proc.stdout
    assert seconds < 30


def test_a_phase_is_interrupted_by_the_watchdog() -> None:
    """A pure-Python loop with no check of its own is stopped within a few
    samples of the deadline, and the exception names the phase."""
    start_process_limits(0.2, None)
    try:
        t0 = time.monotonic()
        with pytest.raises(LimitExceeded) as info, phase("spinning in a test"):
            while time.monotonic() - t0 < 5:
                pass
        assert time.monotonic() - t0 < 1
        from checker.explore.limits import limit_text

        assert limit_text(info.value) == "--max-seconds 0.2, while spinning in a test"
        # once past, the next phase stops at its start
        with pytest.raises(LimitExceeded, match="before the next phase"), phase("the next phase"):
            pass
    finally:
        stop_process_limits()


def _swallowing(busy: float) -> bool:
    """Spin for `busy` s as a ctypes callback or a finaliser does: a
    LimitExceeded landing here goes to sys.unraisablehook, as Python does
    with an exception it cannot raise there. True if one landed."""
    try:
        t = time.monotonic()
        while time.monotonic() - t < busy:
            pass
    except LimitExceeded as e:
        sys.unraisablehook(SimpleNamespace(exc_type=LimitExceeded, exc_value=e,
                                           exc_traceback=None, err_msg=None, object=None))
        return True
    return False


def test_a_raise_swallowed_by_a_finaliser_is_raised_again() -> None:
    """The first raise lands in a callback that swallows it (as z3's
    AstRef.__del__ does during an encoding); the watchdog raises again, and
    the phase stops. Raising once, the phase ran on (a `prove --seconds 1`
    once grew to 23 GB and was killed)."""
    start_process_limits(0.2, None)
    try:
        t0 = time.monotonic()
        with pytest.raises(LimitExceeded), phase("finalising in a test"):
            while not _swallowing(0.5) and time.monotonic() - t0 < 10:
                pass
            while time.monotonic() - t0 < 10:
                pass
        assert time.monotonic() - t0 < 5
    finally:
        stop_process_limits()


def test_no_limits_no_watchdog() -> None:
    assert start_process_limits(None, None) is None
    with phase("anything"):
        time.sleep(0.05)


def test_the_next_dict_resize_is_foreseen() -> None:
    """A dict of 1,398,101 int keys fills its 2^21 table; the next insert
    builds a 2^22 table: 16 MiB of indices and 2,796,202 entries of 24 bytes."""
    full = (1 << 22) // 3
    assert _dict_growth_bytes(full - 10, 5) == 0
    assert _dict_growth_bytes(full - 10, 20) == (1 << 22) * 4 + ((1 << 23) // 3) * 24


def test_prove_seconds_bound_the_whole_proof(tmp_path: Path) -> None:
    """`prove --seconds` is per scenario, encoding included (the probe saw
    43 s for `--seconds 10`): the big pool's encoding alone takes longer."""
    spec = tmp_path / "pool.mig"
    spec.write_text(BIG_POOL)
    t0 = time.monotonic()
    proc = subprocess.run([*MIGCHECK, "prove", str(spec), "--seconds", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "stopped by --seconds 1, while proving scenario s" in proc.stdout
    # loading and building the scenario come first, unbounded by --seconds
    assert time.monotonic() - t0 < 15


def test_prove_max_memory_stops_z3(tmp_path: Path) -> None:
    spec = tmp_path / "products.mig"
    spec.write_text(Z3_HUNGRY)
    proc = subprocess.run([*MIGCHECK, "prove", str(spec), "--seconds", "60", "--max-memory",
                           "400"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "stopped by --max-memory 400" in proc.stdout
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_a_huge_constant_override_stops_at_the_time_limit() -> None:
    """The probe's `-D NR_PAGES=1000000`: no output after 400 s before."""
    t0 = time.monotonic()
    proc = subprocess.run([*MIGCHECK, "check", "specs/zsmalloc/migration.mig", "-D",
                           "NR_PAGES=1000000", "--no-save", "--max-seconds", "2",
                           "--max-memory", "1500"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "incomplete: stopped by --max-seconds 2, while" in proc.stdout + proc.stderr
    assert time.monotonic() - t0 < 6


@pytest.mark.slow
@pytest.mark.skipif(not TIME.exists(), reason="needs /usr/bin/time for the peak")
@pytest.mark.parametrize(("limit", "search"), [(500, "--search=bfs"), (300, "--dfs")])
def test_the_search_stays_within_the_memory_limit(limit: int, search: str) -> None:
    """The probe measured 24% (BFS, 620 MB for 500) and 15% over (DFS):
    the memory check ran every 2,048 expansions and ignored the next
    doubling of the state table. About 50 s each."""
    proc, _seconds, peak = _check(ROOT / "specs" / "zsmalloc" / "migration.mig", "-q", "-s",
                                  "frees_vs_two_compactors", search, "--max-memory",
                                  str(limit))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"INCOMPLETE (stopped by --max-memory {limit})" in proc.stdout
    assert peak < limit * 1.05, peak


def test_a_requested_stop_ends_a_search_at_its_next_check() -> None:
    """Ctrl-C's second path (an asynchronous exception can be swallowed):
    the flag makes the Python engine and the VM raise KeyboardInterrupt at
    their next check of the limits, and is cleared for the next command."""
    from checker.dsl.loader import load_program
    from checker.explore.limits import clear_stop, request_stop
    from checker.explore.options import CheckOptions
    from checker.explore.run import check
    from checker.ir.build import build_all
    from checker.vm.search import vm_bfs
    from checker.vm.tiered import tiered_bfs

    ts = build_all(load_program(ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig"))[0]
    request_stop()
    try:
        for engine in (None, vm_bfs, tiered_bfs(1)):
            with pytest.raises(KeyboardInterrupt):
                check(ts, CheckOptions(), engine=engine)
    finally:
        clear_stop()
    assert check(ts, CheckOptions()).verdict == "verified"
