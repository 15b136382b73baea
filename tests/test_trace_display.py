"""Which source line a counterexample step shows.

A step shows the innermost statement in a file the reader follows: the spec,
and any module that declares a thread the scenario runs (protocol code such
as models/zsmalloc_5_17.mig). Bodies of modules that declare no thread (the
primitives: locks, pages) stay hidden behind the calls that use them.
"""

from __future__ import annotations

from pathlib import Path

from checker.explore.codegen import compile_system
from checker.ir.display import display_files
from checker.trace.model import Trace, build_trace
from checker.trace.replay import replay_on
from tests.conftest import run, systems

PROTOCOL = """\
// A protocol module: it declares a thread, so its statements are shown.
int[0..3] level = 0;
void raise_twice() {
    level = 1;
    level = 2;
    assert(level == 1, "level stays 1");
}
thread helper() { level = 3; }
"""

PRIMITIVE = """\
// A primitive module: no thread, so its statements stay hidden.
int[0..3] hits = 0;
void bump() {
    hits = 1;
    hits = 2;
}
"""

SPEC = """\
import "proto";
import "prim";
thread user() {
    bump();
    raise_twice();
}
scenario s { run user(); expect assert "level stays 1"; }
"""


def _write(tmp_path: Path) -> Path:
    (tmp_path / "proto.mig").write_text(PROTOCOL, encoding="utf-8")
    (tmp_path / "prim.mig").write_text(PRIMITIVE, encoding="utf-8")
    spec = tmp_path / "spec.mig"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def _trace(spec: Path) -> Trace:
    r = run(spec)
    assert r.met and r.violation is not None
    return build_trace(r.compiled or compile_system(r.ts), r.violation)


def test_display_files_are_the_spec_and_modules_with_threads(tmp_path: Path) -> None:
    spec = _write(tmp_path)
    ts = systems(spec)[0]
    names = {Path(f).name for f in display_files(ts)}
    # helper() is declared in proto.mig but not run: a module counts only
    # through a thread the scenario runs.
    assert names == {"spec.mig"}


def test_protocol_module_lines_are_shown_primitive_lines_are_not(tmp_path: Path) -> None:
    spec = _write(tmp_path)
    text = spec.read_text(encoding="utf-8").replace(
        "scenario s { run user();", "scenario s { run helper(); run user();")
    spec.write_text(text, encoding="utf-8")
    tr = _trace(spec)
    user = [(Path(s.file).name, s.line, s.text) for s in tr.steps if s.thread == 2]
    assert user == [
        ("spec.mig", 4, "bump();"),                 # prim.mig's hits = 1 stays hidden
        ("spec.mig", 4, "bump();"),                 # hits = 2
        ("proto.mig", 4, "level = 1;"),
        ("proto.mig", 5, "level = 2;"),
        ("proto.mig", 6, 'assert(level == 1, "level stays 1");'),
    ]
    assert replay_on(tr, systems(spec)[0]).reproduced


def test_without_a_thread_in_the_module_the_call_is_shown(tmp_path: Path) -> None:
    spec = _write(tmp_path)
    tr = _trace(spec)
    assert {(Path(s.file).name, s.line) for s in tr.steps} == {("spec.mig", 4), ("spec.mig", 5)}


def test_repeated_rows_of_one_call_name_their_inner_statements(tmp_path: Path) -> None:
    # bump() is two steps drawn on the same spec line 4, raise_twice() three
    # on line 5; the text diagram names the statement each ran inside the
    # call, so that no two rows of a thread read the same.
    from checker.trace.text import render
    spec = _write(tmp_path)
    text = render(_trace(spec))
    rows = text.splitlines()
    bump_rows = [i for i, r in enumerate(rows) if r.endswith("bump();")]
    assert len(bump_rows) == 2
    assert rows[bump_rows[0] + 1].strip() == "in bump: hits = 1;"
    assert rows[bump_rows[1] + 1].strip() == "in bump: hits = 2;"
    assert [r.strip() for r in rows if r.strip().startswith("in ")] == [
        "in bump: hits = 1;", "in bump: hits = 2;", "in raise_twice: level = 1;",
        "in raise_twice: level = 2;", 'in raise_twice: assert(level == 1, "level stays']


def test_a_call_that_is_one_step_is_drawn_without_its_inner_statement(tmp_path: Path) -> None:
    from checker.trace.text import render
    spec = _write(tmp_path)
    (tmp_path / "prim.mig").write_text(
        PRIMITIVE.replace("    hits = 1;\n", ""), encoding="utf-8")
    rows = render(_trace(spec)).splitlines()
    assert [r.strip() for r in rows if r.strip().endswith("bump();")] == ["1    4  bump();"]
    assert not any(r.strip().startswith("in bump") for r in rows)
