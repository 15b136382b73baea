"""SARIF 2.1.0, the static-analysis format code-scanning views read.

A counterexample becomes a result located at the spec line of its violating
(last) step, with a code flow: one thread flow per thread, each step at its
spec line in execution order, so a viewer can walk the interleaving.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from checker import __version__
from checker.kinds import ViolationKind, describe
from checker.trace.model import Trace
from checker.trace.text import lock_name, lock_report_lines

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# Every violation kind is a rule, worded by checker.kinds; the rest are the
# findings of reports that are not counterexamples.
RULES: dict[str, str] = {
    **{kind.value: describe(kind) for kind in ViolationKind},
    "unmet-expectation": "A scenario did not meet its expect line",
    "warning": "A WARN_ON() fired (the run went on); a failure unless the scenario expects it",
    "cover": "A cover statement was never reached",
    "incomplete": "A search was cut short by a limit",
    "lock-order-cycle": "A cycle in the lock-order graph: a potential deadlock",
    "lock-order": "An acquisition against the declared lock_order",
    "verdict-change": "A property that held before now fails",
    "spec-error": "The spec does not parse or type-check",
}


def uri(path: str) -> str:
    p = Path(path)
    return p.as_uri() if p.is_absolute() else p.as_posix()


def location(file: str, line: int, message: str = "") -> dict[str, object]:
    loc: dict[str, object] = {"physicalLocation": {
        "artifactLocation": {"uri": uri(file)},
        "region": {"startLine": max(line, 1)}}}
    if message:
        loc["message"] = {"text": message}
    return loc


@dataclass
class Result:
    rule: str
    level: str  # error, warning, note
    message: str
    file: str
    line: int
    trace: Trace | None = None
    properties: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "ruleId": self.rule, "level": self.level, "message": {"text": self.message},
            "locations": [location(self.file, self.line)]}
        if self.trace is not None:
            out["codeFlows"] = [code_flow(self.trace)]
            out["relatedLocations"] = [
                {**location(s.file, s.line, f"step {s.index} (T{s.thread}): {s.text}"),
                 "id": s.index} for s in self.trace.steps]
        props = dict(self.properties)
        if self.trace is not None and self.trace.locks is not None:
            # Each held lock where it was taken, and the lockdep-style text.
            related = out["relatedLocations"]
            assert isinstance(related, list)
            n = len(self.trace.steps)
            for tl in self.trace.locks.threads:
                for h in tl.held:
                    n += 1
                    related.append({**location(h.file, h.line, f"T{tl.thread} holds "
                                               f"{lock_name(h.lock, h.lock_class)}, taken here "
                                               f"({h.how}, step {h.step})"), "id": n})
            props["lockdep"] = lock_report_lines(self.trace, self.trace.locks)
        if props:
            out["properties"] = props
        return out


def _step_message(step_text: str, changes: list[str], fault: str) -> str:
    parts = [step_text, *changes]
    if fault:
        parts.append("!! " + fault)
    return "; ".join(parts)


def code_flow(trace: Trace) -> dict[str, object]:
    flows = []
    for t in trace.threads:
        locs = []
        for s in trace.steps:
            if s.thread != t.id:
                continue
            changes = [f"{c.var}: {c.before} -> {c.after}" for c in s.changes if not c.frame]
            locs.append({"location": location(s.file, s.line,
                                              _step_message(s.text, changes, s.fault)),
                         "executionOrder": s.index,
                         "importance": "essential" if s.fault else "important"})
        if locs:
            flows.append({"id": f"T{t.id}", "message": {"text": f"T{t.id} {t.label}"},
                          "locations": locs})
    return {"message": {"text": trace.message}, "threadFlows": flows}


def sarif_log(results: list[Result]) -> str:
    used = sorted({r.rule for r in results})
    rules = [{"id": r, "shortDescription": {"text": RULES.get(r, r)}} for r in used]
    files = sorted({uri(r.file) for r in results} | {
        uri(s.file) for r in results if r.trace for s in r.trace.steps})
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "migcheck", "version": __version__, "rules": rules}},
            "artifacts": [{"location": {"uri": f}} for f in files],
            "results": [r.to_json() for r in results],
        }],
    }
    return json.dumps(log, indent=2) + "\n"
