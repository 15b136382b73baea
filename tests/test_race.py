"""Counterexamples a reviewer can paste (issue 12): the race diagram
(`--format race`, checker.trace.race), module lines named by file, the end
state limited to what the violation involves, and stores that change
nothing drawn as the writes they are."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from checker.explore.codegen import compile_system
from checker.trace.jsonio import load
from checker.trace.model import Trace, build_trace
from checker.trace.race import WIDTH, relevant_steps, render_race
from checker.trace.replay import replay_on
from checker.trace.text import render
from tests.conftest import ROOT, run, systems

DEFAULT_SPEC = ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig"
SAVED = sorted((ROOT / "counterexamples").rglob("*.json"))

LOST_UPDATE = """\
int[0..2] n = 0;
bool bumped = false;
thread t1() {
    int[0..2] v = n;
    bool early = !bumped;
    n = v;
    assert(n != 0 || !(early && bumped), "update lost");
}
thread t2() {
    n = 1;
    n = 0;
    bumped = true;
}
scenario s { run t1(); run t2(); expect assert "update lost"; }
"""


def _trace(spec: Path, scenario: str | None = None) -> Trace:
    r = run(spec, scenario)
    assert r.met and r.violation is not None
    return build_trace(r.compiled or compile_system(r.ts), r.violation)


@pytest.fixture(scope="module")
def notrypin() -> Trace:
    return _trace(DEFAULT_SPEC, "map_vs_migrate_notrypin")


def test_race_diagram_of_the_default_spec(notrypin: Trace) -> None:
    assert render_race(notrypin) == """\
use_after_free: read page_mems[0] after it was freed
map_vs_migrate.mig, scenario map_vs_migrate_notrypin (trypin=false)

     T1 zs_map_object(H0)              T2 migrate_page(OLD, NEW)
     --------------------------------  --------------------------------
   1   pin_tag(handle);
         handles[0].val.pin: false ->
           true
   2   obj = handle->val;
         page: null -> pages[0]
       ...                               ...
  14                                   zs_page_migrate():
                                         handle->val = new_obj;
                                           handles[0].val.pin: true ->
                                             false
                                           handles[0].val.page:
                                             pages[0] -> pages[1]
                                         ...
  41                                   migrate_page():
                                         put_page(page);
                                           pages[0]._refcount: 1 -> 0
                                           page_mems[0]: allocated ->
                                             free
       ...
  43   struct zs_handle *head =
         page->mem->obj[obj.idx].head
         ;
       !! read page_mems[0] after it
         was freed"""


def test_the_slice_keeps_the_race_and_elides_the_rest(notrypin: Trace) -> None:
    kept = relevant_steps(notrypin)
    assert kept == {1, 2, 14, 41, 43}
    assert len(notrypin.steps) == 43


def test_every_saved_counterexample_fits_72_columns() -> None:
    assert SAVED
    for path in SAVED:
        text = render_race(load(path))
        assert max(len(line) for line in text.splitlines()) <= WIDTH, path
        assert text.isascii() or "\\x" in text or "\\u" in text, path


def test_long_names_and_many_threads_fit(notrypin: Trace) -> None:
    long = copy.deepcopy(notrypin)
    long.threads[0].label = "zs_map_object_with_an_uncommonly_long_name_" * 3 + "(H0)"
    long.steps[0].text = "x" * 150 + " = \x1b[31mred\x1b[0m;"
    long.steps[-1].fault = "a_message_without_spaces_" * 6
    for width_of in (render_race(long), render_race(long, 40)):
        assert max(map(len, width_of.splitlines())) <= WIDTH
    assert "\x1b" not in render_race(long)
    # More threads than columns fit: one column, each step tagged.
    many = copy.deepcopy(notrypin)
    for i in range(3, 10):
        extra = copy.deepcopy(many.threads[1])
        extra.id, extra.label = i, f"worker_{i}()"
        many.threads.append(extra)
        step = copy.deepcopy(many.steps[13])
        step.thread = i
        many.steps.insert(20, step)
    for k, s in enumerate(many.steps):
        s.index = k + 1
    text = render_race(many)
    assert max(map(len, text.splitlines())) <= WIDTH
    assert "threads (each step tagged with its own):" in text
    assert any(line[5:].startswith("T9 ") for line in text.splitlines())


def test_a_trace_saved_without_accesses_is_drawn_whole(notrypin: Trace) -> None:
    old = copy.deepcopy(notrypin)
    for s in old.steps:
        s.reads, s.writes = [], []
    assert relevant_steps(old) == {s.index for s in old.steps}


def test_module_lines_carry_their_file_name(tmp_path: Path) -> None:
    (tmp_path / "proto.mig").write_text(
        "int[0..3] level = 0;\nthread helper() {\n    level = 1;\n    level = 2;\n"
        '    assert(level == 1, "stays 1");\n}\n', encoding="utf-8")
    spec = tmp_path / "spec.mig"
    spec.write_text('import "proto";\nscenario s { run helper(); expect assert "stays 1"; }\n',
                    encoding="utf-8")
    rows = [r.strip() for r in render(_trace(spec)).splitlines()]
    assert "1  proto.mig:3  level = 1;" in rows
    assert "3  proto.mig:5  assert(level == 1, \"stays 1\");" in rows


def test_the_end_state_shows_what_the_violation_involves(notrypin: Trace) -> None:
    short = render(notrypin).split("shared state at the end")[1]
    full = render(notrypin, full_state=True).split("shared state at the end")[1]
    assert short.splitlines()[1:] == [
        "  pages[0] = allocated  pages[0].mem = page_mems[0]  page_mems[0] = free",
        f"  (what the violation involves; {len(notrypin.final_state) - 3} more locations: "
        "--full-state shows them)"]
    assert "involves" not in full
    assert "zspages[0].lock.readers = 1" in full and "zspages[0]" not in short


def test_a_store_that_changes_nothing_is_drawn_as_a_write(tmp_path: Path) -> None:
    spec = tmp_path / "lost.mig"
    spec.write_text(LOST_UPDATE, encoding="utf-8")
    tr = _trace(spec)
    store = tr.steps[5]
    assert (store.thread, store.text, store.changes) == (1, "n = v;", [])
    assert [(c.var, c.before, c.after) for c in store.rewrites] == [("n", "0", "0")]
    text = render(tr)
    assert "n = 0 (unchanged; overwrites T2's store of step 4)" in " ".join(
        r.strip() for r in text.splitlines())
    race = render_race(tr)
    assert "n = 0 (unchanged; overwrites" in race
    assert relevant_steps(tr) == {1, 2, 3, 4, 5, 6, 7}
    # Replay matches steps on their changes; the unchanged store adds none.
    assert replay_on(tr, systems(spec)[0]).reproduced


def test_a_trace_without_steps_draws_its_header(notrypin: Trace) -> None:
    empty = copy.deepcopy(notrypin)
    empty.steps = []
    assert render_race(empty).splitlines()[0].startswith("use_after_free:")


def test_the_command_line_draws_the_diagram() -> None:
    from tests.test_cli import cli

    r = cli("check", str(DEFAULT_SPEC), "-s", "map_vs_migrate_notrypin", "--no-save",
            "--format", "race")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[3].split() == ["T1", "zs_map_object(H0)", "T2",
                                                "migrate_page(OLD,", "NEW)"]
    saved = ROOT / "counterexamples/zsmalloc/map_vs_migrate.map_vs_migrate_notrypin.json"
    replayed = cli("replay", str(saved), "--format", "race")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == r.stdout
    full = cli("replay", str(saved), "--full-state")
    assert "zspages[0].lock.readers = 1" in full.stdout
