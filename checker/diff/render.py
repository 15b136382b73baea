"""A protocol diff as text (for a terminal or a review comment), JSON, JUnit
XML and SARIF."""

from __future__ import annotations

import json
from pathlib import Path

from checker.diff.compare import SpecDiff
from checker.doc.locking import trace_body
from checker.locks.summary import OrderEdge
from checker.report import junit, sarif
from checker.trace.text import render


def _n(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def _edge(e: OrderEdge) -> str:
    return f"{e.src} -> {e.dst}  ({' / '.join(e.sites)})"


def render_text(d: SpecDiff) -> str:
    out = [f"migcheck diff {d.old_label} -> {d.new_label}", ""]
    out.append("scenarios (reachable states, verdict, properties found broken):")
    for s in d.scenarios:
        mark = "!!" if s.now_fails else ("  " if not s.changed else " *")
        out.append(f"{mark} {s.name}: states {_n(s.old_states)} -> {_n(s.new_states)}; "
                   f"{s.old_verdict or 'absent'}/{s.old_status or '-'} -> "
                   f"{s.new_verdict or 'absent'}/{s.new_status or '-'}")
        if s.old_found != s.new_found:
            out.append(f"     found: {', '.join(s.old_found) or 'none'} -> "
                       f"{', '.join(s.new_found) or 'none'}")
        for p in s.now_fails:
            out.append(f"     REGRESSION: {p} held and now fails")
        for p in s.now_holds:
            out.append(f"     now holds: {p}")
    out.append("")
    out.append("lock order:")
    if not (d.edges_added or d.edges_removed or d.new_cycles or d.gone_cycles
            or d.orders_broken):
        out.append("   unchanged")
    for e in d.edges_added:
        out.append(f" + {_edge(e)}")
    for e in d.edges_removed:
        out.append(f" - {_edge(e)}")
    for c in d.new_cycles:
        out.append(f"!! new cycle (potential deadlock): {' -> '.join([*c.classes, c.classes[0]])}")
    for g in d.gone_cycles:
        out.append(f"   cycle gone: {' -> '.join([*g, g[0]])}")
    for chain, e in d.orders_broken:
        out.append(f"!! lock_order {chain} now broken: {e.src} held while acquiring {e.dst}")
    out.append("")
    out.append("locking rules of shared fields:")
    if not d.fields:
        out.append("   unchanged")
    for f in d.fields:
        out.append(f" * {f.name}")
        out.append(f"     was: {f.old}")
        out.append(f"     now: {f.new}")
    for s in d.scenarios:
        if s.trace is not None:
            out.append("")
            out.append(f"counterexample of the regression in {s.name}:")
            out.extend("  " + line for line in render(s.trace).splitlines())
    for c in d.new_cycles:
        out.append("")
        out.append(f"cycle {' -> '.join([*c.classes, c.classes[0]])}, a run for each edge:")
        for e in c.edges:
            tr = d.new_locks.trace(e.first, f"acquires {e.dst} holding {e.src}")
            out.append(f"  {e.src} -> {e.dst} ({e.first.scenario}):")
            out.extend("    " + line for line in trace_body(tr).splitlines())
    for chain, e in d.orders_broken:
        tr = d.new_locks.trace(e.first, f"acquires {e.dst} holding {e.src}")
        out.append("")
        out.append(f"first run against lock_order {chain} ({e.first.scenario}):")
        out.extend("    " + line for line in trace_body(tr).splitlines())
    out.append("")
    out.append(f"{d.regressions} regression{'s' if d.regressions != 1 else ''}")
    return "\n".join(out) + "\n"


def render_json(d: SpecDiff) -> str:
    data = {
        "old": d.old_label, "new": d.new_label, "regressions": d.regressions,
        "scenarios": [{
            "name": s.name, "states": [s.old_states, s.new_states],
            "verdict": [s.old_verdict, s.new_verdict], "status": [s.old_status, s.new_status],
            "found": [s.old_found, s.new_found], "now_fails": s.now_fails,
            "now_holds": s.now_holds,
            "trace": None if s.trace is None else s.trace.to_dict()} for s in d.scenarios],
        "lock_order": {
            "added": [[e.src, e.dst] for e in d.edges_added],
            "removed": [[e.src, e.dst] for e in d.edges_removed],
            "new_cycles": [c.classes for c in d.new_cycles],
            "gone_cycles": d.gone_cycles,
            "orders_broken": [{"order": c, "edge": [e.src, e.dst]} for c, e in d.orders_broken],
        },
        "fields": [{"field": f.name, "old": f.old, "new": f.new} for f in d.fields],
    }
    return json.dumps(data, indent=2) + "\n"


def render_junit(d: SpecDiff) -> str:
    suite = junit.Suite(f"diff {d.old_label} -> {d.new_label}")
    cls = Path(d.new_label.split(":")[-1]).stem
    for s in d.scenarios:
        case = junit.Case(s.name, cls)
        if s.now_fails:
            case.failure = ("regression", f"{', '.join(s.now_fails)} held and now fails",
                            render(s.trace) if s.trace else "")
        else:
            case.output = (f"states {_n(s.old_states)} -> {_n(s.new_states)}; "
                           f"found {', '.join(s.old_found) or 'none'} -> "
                           f"{', '.join(s.new_found) or 'none'}\n")
        suite.cases.append(case)
    order = junit.Case("lock order", cls)
    problems = [f"new cycle {' -> '.join(c.classes)}" for c in d.new_cycles] + [
        f"lock_order {c} broken" for c, _ in d.orders_broken]
    if problems:
        order.failure = ("lock-order", "; ".join(problems), "")
    suite.cases.append(order)
    return junit.junit_xml([suite])


def render_sarif(d: SpecDiff) -> str:
    results: list[sarif.Result] = []
    for s in d.scenarios:
        if s.now_fails and s.trace is not None and s.trace.steps:
            last = s.trace.steps[-1]
            results.append(sarif.Result(
                "verdict-change", "error",
                f"scenario {s.name}: {', '.join(s.now_fails)} held before and now fails: "
                f"{s.trace.message}", last.file, last.line, s.trace, {"scenario": s.name}))
    for c in d.new_cycles:
        e = c.edges[0]
        tr = d.new_locks.trace(e.first, f"acquires {e.dst} holding {e.src}")
        last = tr.steps[-1]
        results.append(sarif.Result(
            "lock-order-cycle", "error",
            f"new lock-order cycle {' -> '.join([*c.classes, c.classes[0]])}: a potential "
            "deadlock", last.file, last.line, tr, {"cycle": c.classes}))
    for chain, e in d.orders_broken:
        tr = d.new_locks.trace(e.first, f"acquires {e.dst} holding {e.src}")
        last = tr.steps[-1]
        results.append(sarif.Result("lock-order", "error",
                                    f"lock_order {chain} broken: {e.dst} acquired holding "
                                    f"{e.src}", last.file, last.line, tr, {"order": chain}))
    return sarif.sarif_log(results)


RENDERERS = {"text": render_text, "json": render_json, "junit": render_junit,
             "sarif": render_sarif}
