"""The command line as a user meets it (issue 12): what `check` saves, batch
checking, the progress line, spec errors in the machine formats, the trace
JSON Schema and ITF output, startup imports, packaging."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest

from checker.cli import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_UNMET,
    EXIT_USAGE,
    _worst,
    main,
)
from checker.explore.limits import figures
from checker.explore.result import Stats
from checker.trace import model
from checker.trace.itf import itf_value
from tests.conftest import ROOT

SPEC = """\
int[0..1] x = 0;
thread t() { x = 1; assert(x == 0, "x stays zero"); }
scenario bad { run t(); }
scenario expected_bad { run t(); expect assert "x stays zero"; }
scenario fine { run t(); expect assert "x stays zero"; }
"""
GOOD = "int[0..1] x = 0;\nthread t() { x = 1; }\nscenario ok { run t(); }\n"
SCHEMA = json.loads((ROOT / "checker/trace/trace.schema.json").read_text())


def _spec(tmp_path: Path, text: str = SPEC, name: str = "s.mig") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ------------------------------------------------------------------ saving policy

def test_only_unexpected_counterexamples_are_saved_by_default(tmp_path, capsys):
    spec = _spec(tmp_path)
    cx = tmp_path / "cx"
    assert main(["check", str(spec), "--trace-dir", str(cx), "-q"]) == EXIT_UNMET
    saved = sorted(p.name for p in (cx / tmp_path.name).iterdir())
    assert saved == ["s.bad.json", "s.bad.txt"]
    assert f"saved {cx / tmp_path.name / 's.bad.json'}" in capsys.readouterr().out


def test_save_all_saves_the_expected_ones_too(tmp_path, capsys):
    spec = _spec(tmp_path)
    cx = tmp_path / "cx"
    main(["check", str(spec), "--trace-dir", str(cx), "--save-all", "-q"])
    assert len(list((cx / tmp_path.name).glob("*.json"))) == 3
    assert main(["check", str(spec), "--trace-dir", str(tmp_path / "no"), "--no-save",
                 "--save-all", "-q"]) == EXIT_UNMET
    assert not (tmp_path / "no").exists()


def test_an_unchanged_trace_is_not_rewritten(tmp_path, capsys):
    spec = _spec(tmp_path)
    cx = tmp_path / "cx"
    main(["check", str(spec), "-s", "bad", "--trace-dir", str(cx), "-q"])
    saved = cx / tmp_path.name / "s.bad.json"
    stamps = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in (saved, saved.with_suffix(".txt"))]
    before = saved.read_text()
    capsys.readouterr()
    # A comment changes the spec's hash, not the trace: nothing is written.
    spec.write_text(SPEC + "// a comment at the end\n")
    main(["check", str(spec), "-s", "bad", "--trace-dir", str(cx), "-q"])
    assert "is unchanged: not rewritten" in capsys.readouterr().out
    assert [(p.stat().st_ino, p.stat().st_mtime_ns)
            for p in (saved, saved.with_suffix(".txt"))] == stamps
    assert saved.read_text() == before
    # A different trace is written.
    spec.write_text(SPEC.replace("x = 1; assert", "x = 1; x = 1; assert"))
    main(["check", str(spec), "-s", "bad", "--trace-dir", str(cx), "-q"])
    assert "saved" in capsys.readouterr().out and saved.read_text() != before


def test_the_default_spec_writes_nothing(tmp_path, capsys):
    """`make run`: every violation of the default spec is expected."""
    cx = tmp_path / "cx"
    assert main(["check", "specs/zsmalloc/map_vs_migrate.mig", "--trace-dir", str(cx),
                 "-q"]) == EXIT_OK
    assert not cx.exists()


# ------------------------------------------------------------------ batch

def test_check_a_directory_then_a_summary_table(tmp_path, capsys):
    _spec(tmp_path, GOOD, "d/a/good.mig")
    _spec(tmp_path, SPEC, "d/b/s.mig")
    _spec(tmp_path, "int[0..1] lib_var = 0;\n", "d/lib.mig")  # a module: skipped
    rc = main(["check", str(tmp_path / "d"), "--no-save", "-q"])
    out = capsys.readouterr().out
    assert rc == EXIT_UNMET
    table = out[out.index("spec  "):].splitlines()
    assert table[0].split() == ["spec", "scenario", "status", "states", "time"]
    rows = [r.split() for r in table[1:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (str(tmp_path / "d/a/good.mig"), "ok", "met"),
        (str(tmp_path / "d/b/s.mig"), "bad", "unmet"),
        (str(tmp_path / "d/b/s.mig"), "expected_bad", "met"),
        (str(tmp_path / "d/b/s.mig"), "fine", "met")]
    assert "lib.mig" not in out


def test_a_spec_error_in_a_batch_is_reported_and_the_rest_checked(tmp_path, capsys):
    good = _spec(tmp_path, GOOD, "good.mig")
    bad = _spec(tmp_path, "thread t() { y = 1; }\nscenario s { run t(); }\n", "bad.mig")
    assert main(["check", str(bad), str(good), "--no-save", "-q"]) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert f"{bad}:1:14: error: unknown name 'y'" in err
    assert any(line.split()[:3] == [str(bad), "-", "error"] for line in out.splitlines())
    assert any(line.split()[:3] == [str(good), "ok", "met"] for line in out.splitlines())


def test_scenario_selection_across_a_batch(tmp_path, capsys):
    """-s picks the scenarios of that name in whichever specs have them."""
    _spec(tmp_path, GOOD, "d/good.mig")
    _spec(tmp_path, SPEC, "d/s.mig")
    assert main(["check", str(tmp_path / "d"), "-s", "fine", "--no-save", "-q"]) == EXIT_OK
    rows = [ln.split()[:3] for ln in capsys.readouterr().out.splitlines()
            if ln.startswith(str(tmp_path)) and len(ln.split()) > 1]  # the table
    assert rows == [[str(tmp_path / "d/s.mig"), "fine", "met"]]
    assert main(["check", str(tmp_path / "d"), "-s", "nowhere", "--no-save", "-q"]) == 2
    assert "no spec has scenario nowhere" in capsys.readouterr().err


def test_specs_may_follow_options(tmp_path, capsys):
    a, b = _spec(tmp_path, GOOD, "a.mig"), _spec(tmp_path, GOOD, "b.mig")
    assert main(["check", str(a), "-q", str(b), "--no-save"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"{a}  ok" in out and f"{b}  ok" in out
    with pytest.raises(SystemExit):
        main(["list", str(a), str(b)])


def test_the_worst_status_wins():
    assert _worst([EXIT_OK, EXIT_INCOMPLETE, EXIT_UNMET]) == EXIT_UNMET
    assert _worst([EXIT_UNMET, EXIT_USAGE, EXIT_OK]) == EXIT_USAGE
    assert _worst([EXIT_OK, EXIT_INCOMPLETE]) == EXIT_INCOMPLETE
    assert _worst([]) == EXIT_OK


def test_save_trace_with_several_specs_is_a_usage_error(tmp_path, capsys):
    a, b = _spec(tmp_path, GOOD, "a.mig"), _spec(tmp_path, GOOD, "b.mig")
    assert main(["check", str(a), str(b), "--save-trace", str(tmp_path / "t.json")]) == 2


# ------------------------------------------------------------------ progress

def test_the_progress_line_has_every_figure():
    s = Stats(states=123_456, depth=17, seconds=2.0, queue=4_321)
    text = figures(s)
    for part in ("2.0 s", "123,456 states", "61,728 states/s", "queue 4,321", "depth 17", " MB"):
        assert part in text, text


# ------------------------------------------------------------------ machine formats

BROKEN = "thread t() { y = 1; }\nscenario s { run t(); }\n"


def test_spec_errors_in_json_junit_and_sarif(tmp_path, capsys):
    bad = _spec(tmp_path, BROKEN, "bad.mig")
    assert main(["check", str(bad), "--format", "json"]) == EXIT_USAGE
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["status"] == "error" and entry["spec"] == str(bad)
    d = entry["diagnostics"][0]
    assert (d["line"], d["column"], d["message"]) == (1, 14, "unknown name 'y'")
    assert main(["check", str(bad), "--format", "junit"]) == EXIT_USAGE
    err = next(ElementTree.fromstring(capsys.readouterr().out).iter("error"))
    assert err.get("type") == "spec-error" and err.get("message") == "unknown name 'y'"
    assert main(["check", str(bad), "--format", "sarif"]) == EXIT_USAGE
    res = json.loads(capsys.readouterr().out)["runs"][0]["results"][0]
    assert res["ruleId"] == "spec-error" and res["level"] == "error"
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_saved_traces_match_the_schema(tmp_path, capsys):
    spec = _spec(tmp_path)
    cx = tmp_path / "cx"
    main(["check", str(spec), "--trace-dir", str(cx), "--save-all", "-q"])
    files = [*cx.rglob("*.json"), *sorted((ROOT / "counterexamples").rglob("*.json"))]
    assert len(files) > 10
    for f in files:
        jsonschema.validate(json.loads(f.read_text()), SCHEMA)


def test_the_schema_names_the_fields_the_loader_reads():
    """The schema and checker.trace.model change together; it ships in the package."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "trace/*.schema.json" in meta["tool"]["setuptools"]["package-data"]["checker"]
    assert json.loads(resources.files("checker.trace").joinpath("trace.schema.json")
                      .read_text()) == SCHEMA
    assert set(SCHEMA["properties"]) == set(model._TRACE_FIELDS)
    defs = SCHEMA["$defs"]
    assert set(defs["thread"]["properties"]) == set(model._THREAD_FIELDS)
    assert set(defs["step"]["properties"]) == set(model._STEP_FIELDS)
    assert set(defs["change"]["properties"]) == set(model._CHANGE_FIELDS)


def test_itf_output(tmp_path, capsys):
    spec = _spec(tmp_path)
    assert main(["check", str(spec), "--format", "itf", "--no-save"]) == EXIT_UNMET
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3  # one counterexample per scenario, expected or not
    itf = json.loads(lines[0])
    assert itf["#meta"]["format"] == "ITF" and itf["vars"] == ["x"]
    assert [s["#meta"]["index"] for s in itf["states"]] == list(range(len(itf["states"])))
    assert itf["states"][0]["x"] == 0 and itf["states"][-1]["x"] == 1
    assert all(set(s) == {"#meta", "x"} for s in itf["states"])


def test_itf_values():
    assert itf_value("true") is True and itf_value("false") is False
    assert itf_value("-3") == -3
    assert itf_value(str(1 << 60)) == {"#bigint": str(1 << 60)}
    assert itf_value("ZS_FULL") == "ZS_FULL" and itf_value("pages[1]") == "pages[1]"


# ------------------------------------------------------------------ startup, packaging

def test_the_command_line_imports_no_heavy_module():
    code = ("import sys, checker.cli; "
            "print([m for m in ('z3', 'numba', 'networkx', 'numpy', 'scipy', 'lark') "
            "if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       check=True)
    assert r.stdout.strip() == "[]"


def test_list_imports_no_solver_nor_jit(capsys):
    code = ("import sys; from checker.cli import main; "
            "main(['list', 'specs/zsmalloc/map_vs_migrate.mig']); "
            "print([m for m in ('z3', 'numba', 'networkx', 'numpy', 'scipy') "
            "if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       check=True)
    assert r.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("argv", [["--version"], ["list", "--help"], ["--help"]])
def test_lazy_parsers_still_answer(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out


def test_license():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "GPL-2.0-only"
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text()
    assert "Version 2, June 1991" in (ROOT / "LICENSE").read_text()
