"""`// reach:` marks (tests/spec_reach.py): a marked statement that a verified
run executes passes, one it never executes is reported, and a mark that
names no statement is reported rather than passing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import run
from tests.spec_reach import reach_marks, unreached_marks

SPEC = """\
bool go = false;
int[0..2] x = 0;
thread setter() { go = true; }
thread worker() {
    if (go)
        x = 1;                  // reach: both
    else
        x = 2;                  // the else branch. reach: both, alone
    // a comment. reach: comment_only
}
scenario both { run setter(); run worker(); expect verified; }
scenario alone { run worker(); expect verified; }
scenario comment_only { run worker(); expect verified; }
"""


def test_marks_are_read_per_scenario(spec_file: Callable[[str], Path]) -> None:
    path = spec_file(SPEC)
    assert reach_marks(path) == {"both": [6, 8], "alone": [8], "comment_only": [9]}


def test_marks_reached_by_the_search_pass(spec_file: Callable[[str], Path]) -> None:
    path = spec_file(SPEC)
    result = run(path, "both")
    assert result.verdict == "verified"
    assert unreached_marks(path, result) == []
    assert unreached_marks(path, run(path, "alone")) == []


def test_a_branch_the_scenario_never_takes_is_reported(spec_file: Callable[[str], Path]) -> None:
    path = spec_file(SPEC.replace("reach: both, alone", "reach: both, alone, solo")
                     .replace("scenario alone", "scenario solo { run setter(); run worker(); }\n"
                              "scenario alone"))
    # In `solo` the setter may run first, but the worker may also read go
    # first: both branches run, so this mark holds...
    assert unreached_marks(path, run(path, "solo")) == []
    # ...while `alone` never sets go, so a mark on the then-branch fails.
    marked = spec_file(SPEC.replace("// reach: both\n", "// reach: both, alone\n"))
    problems = unreached_marks(marked, run(marked, "alone"))
    assert problems == [f"{marked.name}:6: never executed in alone"]


def test_a_mark_on_a_line_without_a_statement_is_reported(spec_file: Callable[[str], Path]) -> None:
    path = spec_file(SPEC)
    problems = unreached_marks(path, run(path, "comment_only"))
    assert problems == [f"{path.name}:9: `reach:` mark on a line with no statement"]
