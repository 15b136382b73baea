"""`check` and `replay` results as JUnit XML and SARIF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checker.dsl.diagnostics import Diagnostic
from checker.explore.result import CheckResult
from checker.trace.model import Trace
from checker.trace.text import render

# junit (xml.etree) and sarif: imported by the functions of their format
# only, so that a text or JSON check does not load them.
if TYPE_CHECKING:
    from checker.report import junit, sarif

Outcome = tuple[CheckResult, Trace | None]


@dataclass
class SpecFailure:
    """A spec that did not load (parse or semantic errors, exit status 2):
    reported in the machine formats too, so that a CI job that reads the
    JSON, JUnit or SARIF sees it, not an empty report."""

    spec: str
    diagnostics: list[Diagnostic]

    def text(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)

    def to_json(self) -> dict[str, object]:
        return {"spec": self.spec, "status": "error",
                "diagnostics": [_diagnostic_json(d) for d in self.diagnostics]}


def _diagnostic_json(d: Diagnostic) -> dict[str, object]:
    s = d.span
    return {"file": s.file, "line": s.line, "column": s.column, "end_line": s.end_line,
            "end_column": s.end_column, "severity": d.severity, "message": d.message,
            "notes": [{"file": n.file, "line": n.line, "column": n.column, "message": m}
                      for n, m in d.notes]}


def _expect(r: CheckResult) -> str:
    e = r.ts.expect
    return e.kind + (f" '{e.name}'" if e.name else "")


def _warn_expect(name: str | None) -> str:
    return f"warning '{name}'" if name is not None else "a warning"


def _warning_lines(r: CheckResult) -> str:
    """The warnings of a run, one line each, and the expected ones missing."""
    unexpected = r.unexpected_warnings
    lines = [f"warning: {t.message} ({w.steps} steps)"
             + (": UNEXPECTED" if w in unexpected else ": expected")
             for w, t in zip(r.warnings, r.warning_traces, strict=False)]
    lines += [f"expected {_warn_expect(x.name)} never fired" for x in r.missing_warnings]
    return "".join(line + "\n" for line in lines)


def _found(r: CheckResult) -> str:
    v = r.violation
    if v is None:
        return r.verdict
    return v.kind + (f" '{v.name}'" if v.name else "")


def junit_check(outcomes: list[Outcome], failures: Sequence[SpecFailure] = ()) -> str:
    from checker.report import junit

    suites: dict[str, junit.Suite] = {}
    for f in failures:  # one <error> test case per spec that did not load
        first = f.diagnostics[0].message if f.diagnostics else "spec error"
        case = junit.Case("<spec>", Path(f.spec).stem)
        case.error = ("spec-error", first, f.text())
        suites.setdefault(f.spec, junit.Suite(f.spec)).cases.append(case)
    for r, trace in outcomes:
        spec = r.ts.spec
        suite = suites.setdefault(spec, junit.Suite(spec))
        case = junit.Case(r.ts.scenario, Path(spec).stem, r.stats.seconds + r.stats.post_seconds)
        text = _warning_lines(r) + (render(trace) if trace is not None else "")
        text += "".join("\n" + render(wt) for w, wt in zip(r.warnings, r.warning_traces,
                                                            strict=False)
                        if w in r.unexpected_warnings)
        summary = f"expected {_expect(r)}, found {_found(r)}"
        if not r.warnings_met:
            summary += (f"; {len(r.unexpected_warnings)} unexpected warning(s), "
                        f"{len(r.missing_warnings)} expected warning(s) missing")
        if trace is not None and trace.steps and trace.steps[-1].fault:
            last = trace.steps[-1]  # the statement that raised it
            summary += f" at {last.file}:{last.line}"
        if r.status == "unmet":
            case.failure = ("unmet", summary, text)
        elif r.status == "vacuous":
            case.failure = ("vacuous", "a cover was never reached: " + ", ".join(
                c.message for c in r.uncovered), "")
        elif r.status == "incomplete":
            case.error = ("incomplete", f"search stopped by {r.limit}: not verified", "")
        else:
            case.output = f"{summary}: as expected ({r.stats.states} states)\n" + text
        suite.cases.append(case)
    return junit.junit_xml(list(suites.values()))


def _line(r: CheckResult) -> tuple[str, int]:
    span = r.ts.expect.span
    if span is not None:
        return span.file, span.line
    return r.ts.spec, 1


def sarif_results(outcomes: list[Outcome],
                  failures: Sequence[SpecFailure] = ()) -> list[sarif.Result]:
    from checker.report import sarif

    out: list[sarif.Result] = [
        sarif.Result("spec-error", "error", d.message, d.span.file, d.span.line, None,
                     {"column": d.span.column})
        for f in failures for d in f.diagnostics]
    for r, trace in outcomes:
        where = f"scenario {r.ts.scenario}"
        props: dict[str, object] = {"scenario": r.ts.scenario, "status": r.status,
                                    "states": r.stats.states}
        if trace is not None and trace.steps:
            last = trace.steps[-1]
            level = "error" if r.status == "unmet" and not r.main_met else "note"
            msg = f"{where}: {trace.message}" + (
                "" if level == "error" else f" (expected: {_expect(r)})")
            out.append(sarif.Result(trace.kind, level, msg, last.file, last.line, trace,
                                    props))
            for w in r.witness_traces:  # an inconsistent lock state's other usage
                end = w.steps[-1]
                out.append(sarif.Result(trace.kind, level, f"{where}: {w.message}",
                                        end.file, end.line, w, props))
            for other in r.traces:  # --all-violations: every other property broken
                if isinstance(other, Trace) and other.steps:
                    end = other.steps[-1]
                    out.append(sarif.Result(other.kind, level, f"{where}: {other.message}",
                                            end.file, end.line, other, props))
        elif r.status == "unmet" and not r.main_met:  # warnings: below
            file, line = _line(r)
            out.append(sarif.Result("unmet-expectation", "error",
                                    f"{where}: expected {_expect(r)}, found {_found(r)}",
                                    file, line, None, props))
        unexpected = r.unexpected_warnings
        for w, wt in zip(r.warnings, r.warning_traces, strict=False):
            bad = w in unexpected
            props_w = {**props, "warning": w.name, "expected": not bad, "steps": w.steps}
            out.append(sarif.Result("warning", "warning" if bad else "note",
                                    f"{where}: {wt.message} ({w.steps} steps)"
                                    + ("" if bad else " (expected)"),
                                    w.prop.span.file, w.prop.span.line, wt, props_w))
        for x in r.missing_warnings:
            file, line = (x.span.file, x.span.line) if x.span is not None else _line(r)
            out.append(sarif.Result("unmet-expectation", "error",
                                    f"{where}: expected {_warn_expect(x.name)} never fired",
                                    file, line, None, props))
        if r.status == "vacuous":
            for cv in r.uncovered:
                out.append(sarif.Result("cover", "error",
                                        f"{where}: cover \"{cv.message}\" never reached",
                                        cv.span.file, cv.span.line, None, props))
        if r.status == "incomplete":
            file, line = _line(r)
            out.append(sarif.Result("incomplete", "warning",
                                    f"{where}: search stopped by {r.limit}: not verified",
                                    file, line, None, props))
    return out


def sarif_check(outcomes: list[Outcome], failures: Sequence[SpecFailure] = ()) -> str:
    from checker.report import sarif

    return sarif.sarif_log(sarif_results(outcomes, failures))


def replay_reports(trace: Trace, reproduced: bool, message: str, path: str, fmt: str) -> str:
    """A replay as one test (it passes when the saved run still reproduces)."""
    from checker.report import junit, sarif

    if fmt == "junit":
        case = junit.Case(trace.scenario, Path(trace.spec).stem)
        if reproduced:
            case.output = message + "\n" + render(trace)
        else:
            case.failure = ("does-not-reproduce", message, render(trace))
        return junit.junit_xml([junit.Suite(path, [case])])
    assert fmt == "sarif"
    last = trace.steps[-1] if trace.steps else None
    file, line = (last.file, last.line) if last else (trace.spec, 1)
    if reproduced:
        res = sarif.Result(trace.kind, "note", f"{path}: {message}: {trace.message}", file,
                           line, trace, {"scenario": trace.scenario, "reproduced": True})
    else:
        res = sarif.Result(trace.kind, "warning", f"{path}: does not reproduce: {message}",
                           file, line, trace, {"scenario": trace.scenario,
                                               "reproduced": False})
    return sarif.sarif_log([res])
