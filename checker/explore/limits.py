"""Budget checks shared by the search strategies."""

from __future__ import annotations

import ctypes
import gc
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by checker.cli at startup: no more than it needs
    from checker.explore.options import CheckOptions
    from checker.explore.result import Stats


def current_rss_mb() -> float:
    """checker.explore.result's, imported when first needed."""
    from checker.explore.result import current_rss_mb as rss

    return rss()


@contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """Python's cyclic collector off for a phase that mostly builds what
    the process keeps (the imports of a command, numba's load, the parse of
    a spec), so that it does not traverse them again and again as they
    grow. `freeze`: then move every object alive to the collector's
    permanent generation (`gc.freeze`), which its later collections skip:
    the Python engine's search collects often, and with numba loaded each
    full collection walked its hundreds of thousands of objects (0.2 CPU s
    of a `check` handing over to the VM; benchmarks/README.md, "Start-up").
    Reference counting still frees frozen objects; only a cycle among them
    that later becomes garbage is not reclaimed, so freeze only after a
    start-up (modules), once a process. Nested uses leave it off."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if freeze:
                gc.freeze()
            gc.enable()


def figures(s: Stats) -> str:
    """How far a search got, as the progress line and the Ctrl-C message
    show it: elapsed time, states, rate, frontier (the BFS queue or the DFS
    stack), depth, memory; with several workers, their share (min and max
    states, the largest memory)."""
    return (f"{s.seconds:,.1f} s, {s.states:,} states, {s.states_per_second:,.0f} states/s, "
            f"queue {s.queue:,}, depth {s.depth}, {current_rss_mb():,.0f} MB"
            + (f"; {s.workers_text()}" if s.workers else ""))

CHECK_EVERY = 512  # expansions between two budget checks


def _dict_growth_bytes(n: int, coming: int) -> int:
    """What the next resize of a CPython dict of `n` int keys costs, if
    `coming` more inserts reach it, else 0. Its table of 2^k slots holds
    2^(k+1)//3 entries; a full one is replaced by one twice as large (4-byte
    indices and 24-byte entries), with both alive during the copy."""
    size = 8
    while (size << 1) // 3 < n:
        size <<= 1
    if n + coming <= (size << 1) // 3:
        return 0
    new = size << 1
    return new * (4 if new < 1 << 31 else 8) + ((new << 1) // 3) * 24


# Set by the command line on Ctrl-C (checker.cli._join), besides the
# KeyboardInterrupt it raises in the worker thread: an asynchronous exception
# can be lost (it may land in code that swallows it, such as a finaliser or
# a library's cleanup), and the numba kernels run without looking at signals
# between two returns. Every search looks at it when it checks its limits.
_STOP = threading.Event()


def request_stop() -> None:
    """Make every search stop with KeyboardInterrupt at its next check."""
    _STOP.set()


def clear_stop() -> None:
    _STOP.clear()


class Budget:
    PROGRESS_EVERY_S = 0.25  # between two reports to the progress line

    def __init__(self, opts: CheckOptions, progress: Callable[[Stats], None] | None):
        self.opts = opts
        # Checked exactly, for every new state: a search over the cap is incomplete.
        self.state_cap = opts.state_limit if opts.state_limit is not None else sys.maxsize
        self.start = time.monotonic()
        self.progress = progress
        self.last_progress = self.start
        # --max-seconds counts from the start of the process when the CLI set
        # process-wide limits, else from the start of this search.
        p = process_limits()
        base = p.start if p is not None and p.seconds is not None else self.start
        self.deadline = None if opts.seconds_limit is None else base + opts.seconds_limit
        # The search's big dictionaries (states seen), whose next resize is
        # the largest single allocation: the memory limit must allow for it.
        self.growing: list[Sized] = []
        self.last_sizes: list[int] = []

    def watch(self, *tables: Sized) -> None:
        self.growing.extend(tables)
        self.last_sizes.extend(len(t) for t in tables)

    def unwatch(self) -> None:
        """Forget the watched tables (a search handed over to an engine that
        sizes its own arrays, `over_memory`)."""
        self.growing.clear()
        self.last_sizes.clear()

    def projected_mb(self) -> float:
        """The resident set now, plus the next resize of a table that the
        states added since the last check, twice over, would reach."""
        extra = 0
        for i, t in enumerate(self.growing):
            n = len(t)
            extra += _dict_growth_bytes(n, 2 * max(n - self.last_sizes[i], 64))
            self.last_sizes[i] = n
        return current_rss_mb() + extra / (1024 * 1024)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def over_memory(self, extra_bytes: int) -> str | None:
        """The memory limit, if allocating `extra_bytes` more would pass it:
        for an engine that grows its own arrays (checker.vm), whose next
        doubling is known exactly."""
        o = self.opts
        if o.memory_limit_mb is not None \
                and current_rss_mb() + extra_bytes / (1024 * 1024) >= o.memory_limit_mb:
            return f"--max-memory {o.memory_limit_mb:g}"
        return None

    def over_states(self) -> str:
        return f"--max-states {self.opts.state_limit}"

    def exceeded(self, stats: Stats) -> str | None:
        """The name of the limit now exceeded, if any (and report progress).
        Raises KeyboardInterrupt once a stop was requested (`request_stop`)."""
        if _STOP.is_set():
            raise KeyboardInterrupt
        o = self.opts
        now = time.monotonic()
        stats.seconds = now - self.start
        if self.progress is not None and now - self.last_progress > self.PROGRESS_EVERY_S:
            self.last_progress = now
            self.progress(stats)
        if self.deadline is not None and now >= self.deadline:
            return f"--max-seconds {o.seconds_limit:g}"
        if o.memory_limit_mb is not None and self.projected_mb() >= o.memory_limit_mb:
            return f"--max-memory {o.memory_limit_mb:g}"
        return None


# ---------------------------------------------------------------- the whole process
#
# `--max-seconds` and `--max-memory` bound the whole run of `migcheck`, from
# the start of `main()`: loading, elaboration, building the scenarios,
# compiling them, the search and the passes after it. The search loops check
# them themselves (`Budget`), cheaply, every few hundred expansions. The other
# phases are long loops over slots and pool objects spread across many
# modules; rather than a check in each, a watchdog thread samples the clock
# and the resident set every few milliseconds while such a phase runs
# (`phase()`), and raises `LimitExceeded` in the main thread when a limit
# passes (CPython's asynchronous exception, delivered between two bytecodes).
# An rlimit on the address space would be no good: numpy, scipy and z3
# reserve far more address space than they use.

WATCH_PERIOD = 0.01  # seconds between two samples of the watchdog


class LimitExceeded(Exception):
    """A process-wide limit passed outside a search loop. Its text is in
    `ProcessLimits.tripped` (an asynchronous exception carries no arguments)."""


@dataclass
class ProcessLimits:
    start: float  # time.monotonic() when main() began
    seconds: float | None = None
    memory_mb: float | None = None
    phase_name: str = ""
    depth: int = 0  # nested phases
    tripped: str | None = None  # the last limit passed, and where
    fired: bool = False  # the watchdog raised in the current outermost phase
    # The raise landed where Python swallows it (a finaliser such as z3's
    # AstRef.__del__, a ctypes callback): the watchdog raises again.
    swallowed: bool = False
    main_thread: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds_flag: str = "--max-seconds"  # how the time limit was given (`prove --seconds`)
    last_rss_mb: float = 0.0  # the previous sample's RSS: how fast memory grows

    @property
    def deadline(self) -> float | None:
        return None if self.seconds is None else self.start + self.seconds

    def over(self) -> str | None:
        """The limit passed now, if any, as the flag that set it."""
        if self.seconds is not None and time.monotonic() >= self.start + self.seconds:
            return f"{self.seconds_flag} {self.seconds:g}"
        if self.memory_mb is not None:
            # A phase can allocate tens of MB between two samples (a C call
            # that the asynchronous exception waits for): stop when the next
            # sample, growing as fast as the last period did, would be over.
            rss = current_rss_mb()
            growth = max(0.0, rss - self.last_rss_mb) if self.last_rss_mb else 0.0
            self.last_rss_mb = rss
            if rss + growth >= self.memory_mb:
                return f"--max-memory {self.memory_mb:g}"
        return None

    def message(self) -> str:
        return self.tripped or "a limit"


_process: ProcessLimits | None = None


def start_process_limits(seconds: float | None, memory_mb: float | None,
                         start: float | None = None,
                         seconds_flag: str = "--max-seconds") -> ProcessLimits | None:
    """Bound the rest of this process (the CLI calls it first thing); None
    when neither limit is set. Phases run outside a search are watched."""
    global _process
    if seconds is None and memory_mb is None:
        _process = None
        return None
    if sys.unraisablehook is not _quiet_unraisable:
        global _unraisable_before
        _unraisable_before = sys.unraisablehook
        sys.unraisablehook = _quiet_unraisable
    _process = ProcessLimits(start if start is not None else time.monotonic(), seconds,
                             memory_mb, main_thread=threading.get_ident(),
                             seconds_flag=seconds_flag)
    threading.Thread(target=_watch, args=(_process,), name="migcheck-limits",
                     daemon=True).start()
    return _process


def limit_text(e: LimitExceeded) -> str:
    """The limit and the phase it stopped (raised by the watchdog, the
    exception carries no text of its own)."""
    if e.args:
        return str(e.args[0])
    return _process.message() if _process is not None else "a limit"


def process_limits() -> ProcessLimits | None:
    return _process


def stop_process_limits() -> None:
    """Forget the limits (the watchdog thread ends at its next sample)."""
    global _process
    _process = None
    if sys.unraisablehook is _quiet_unraisable:
        sys.unraisablehook = _unraisable_before


_unraisable_before = sys.unraisablehook


def _quiet_unraisable(u: Any) -> None:
    """The watchdog's exception can land where Python cannot raise it (a
    ctypes callback of z3, a finaliser): the phase raises it again when it
    ends, so it is not reported there."""
    if u.exc_type is LimitExceeded:
        p = _process
        if p is not None:
            p.swallowed = True  # no lock: this may run inside `phase` holding it
        return
    _unraisable_before(u)


def _async_raise(thread: int, exc: type[BaseException] | None) -> None:
    """Raise `exc` in `thread` at its next bytecode check (None: cancel)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), ctypes.py_object(exc) if exc is not None else None)


def _watch(p: ProcessLimits) -> None:
    while _process is p:
        time.sleep(WATCH_PERIOD)
        with p.lock:
            if p.depth == 0 or (p.fired and not p.swallowed):
                continue
            why = p.over()
            if why is None:
                continue
            p.tripped = f"{why}, while {p.phase_name}"
            p.fired, p.swallowed = True, False
            _async_raise(p.main_thread, LimitExceeded)
            # The raise lands at the main thread's next bytecode; a z3 call
            # (an encoding's simplification, a query) may hold it in C code
            # for long: cancel it, as Ctrl-C does (z3 is never imported here).
            z3 = sys.modules.get("z3")
            if z3 is not None:
                z3.main_ctx().interrupt()


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Run a phase outside the search loops under the process's limits:
    `LimitExceeded` is raised in it when one passes (at once if one already
    has). It never escapes past the phase's end: a raise the watchdog
    scheduled as the phase ended is cancelled and raised here."""
    p = _process
    if p is None or threading.get_ident() != p.main_thread:
        yield
        return
    with p.lock:
        outer = p.phase_name, p.depth
        why = p.over()
        if why is not None:
            p.tripped = f"{why}, before {name}"
            raise LimitExceeded(p.tripped)
        if p.depth == 0:
            p.fired = p.swallowed = False
        p.phase_name, p.depth = name, p.depth + 1
    try:
        yield
    except BaseException:
        with p.lock:
            p.phase_name, p.depth = outer
            _async_raise(p.main_thread, None)
        raise
    with p.lock:
        p.phase_name, p.depth = outer
        fired = p.fired
        _async_raise(p.main_thread, None)
    if fired:
        raise LimitExceeded(p.tripped)
