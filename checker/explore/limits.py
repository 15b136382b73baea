"""Budget checks shared by the search strategies."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from checker.explore.options import CheckOptions
from checker.explore.result import Stats, current_rss_mb

CHECK_EVERY = 2048  # expansions between two budget checks


class Budget:
    def __init__(self, opts: CheckOptions, progress: Callable[[Stats], None] | None):
        self.opts = opts
        # Checked exactly, for every new state: a search over the cap is incomplete.
        self.state_cap = opts.state_limit if opts.state_limit is not None else sys.maxsize
        self.start = time.monotonic()
        self.progress = progress
        self.last_progress = self.start

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def over_states(self) -> str:
        return f"--max-states {self.opts.state_limit}"

    def exceeded(self, stats: Stats) -> str | None:
        """The name of the limit now exceeded, if any (and report progress)."""
        o = self.opts
        now = time.monotonic()
        stats.seconds = now - self.start
        if self.progress is not None and now - self.last_progress > 0.25:
            self.last_progress = now
            self.progress(stats)
        if o.seconds_limit is not None and stats.seconds >= o.seconds_limit:
            return f"--max-seconds {o.seconds_limit:g}"
        if o.memory_limit_mb is not None and current_rss_mb() >= o.memory_limit_mb:
            return f"--max-memory {o.memory_limit_mb:g}"
        return None
