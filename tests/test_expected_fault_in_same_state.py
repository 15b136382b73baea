"""Found by the SPIN referee: when two threads fault in the same state, the
search offered only the first thread's violation to the expectation, so an
expected violation raised by a later thread in that state was never found
(here the null dereference of the started worker hid behind its starter's
second `start`, which exceeds the instance limit)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from checker.explore.options import CheckOptions
from tests.conftest import run

SPEC = """\
struct node { int[0..3] v; struct node *next; };
pool struct node nodes[1];
struct node *head = null;
thread worker() { free(head->next); }
thread starter() { start worker(); start worker(); }
scenario s { run starter(); max worker 1; expect null_deref; }
"""


def test_the_expected_fault_of_a_later_thread_is_found(
        spec_file: Callable[[str], Path]) -> None:
    for search in ("bfs", "dfs"):
        result = run(spec_file(SPEC), opts=CheckOptions().strategy(search))
        assert result.violation is not None, search
        assert result.violation.kind == "null_deref", search
        # start, then the worker's first step faults: 2 steps, 2 states
        assert result.violation.steps == 2
        assert result.stats.states == 2
        assert result.met
