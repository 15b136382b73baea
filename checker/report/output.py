"""The report formats of `check` and `replay` beyond text and the check
JSON: one entry point each, so the command line only dispatches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from checker.fsio import write_text_atomic

# The formats' own modules (the viewer, JUnit's XML, SARIF, ITF) are
# imported by the format that needs them: a `check --format json` or text
# run loads none of them (start-up, benchmarks/README.md).
if TYPE_CHECKING:
    from checker.report.check import Outcome, SpecFailure
    from checker.trace.model import Trace

FORMATS = ("text", "json", "junit", "sarif")
# race: each counterexample as a race diagram (checker.trace.race), for check
# and replay; ITF: counterexamples only, so not for replay.
TRACE_FORMATS = (*FORMATS, "race")
CHECK_FORMATS = (*TRACE_FORMATS, "itf")


def check_report(fmt: str, outcomes: list[Outcome], failures: list[SpecFailure]) -> str:
    from checker.report.check import junit_check, sarif_check

    if fmt == "junit":
        return junit_check(outcomes, failures)
    return sarif_check(outcomes, failures)


def itf_lines(traces: list[Trace]) -> str:
    """`check --format itf`: each counterexample as one ITF document on a
    line of its own (JSON Lines): with one counterexample the output is an
    ITF file as it stands."""
    from checker.trace.itf import to_itf

    return "".join(json.dumps(to_itf(t), separators=(",", ":")) + "\n" for t in traces)


def replay_report(fmt: str, trace: Trace, reproduced: bool, message: str, spec_changed: bool,
                  path: str) -> str:
    from checker.report.check import replay_reports
    from checker.trace.jsonio import dumps

    if fmt == "json":
        return json.dumps({"trace_file": path, "reproduced": reproduced, "message": message,
                           "spec_changed": spec_changed, "trace": json.loads(dumps(trace))},
                          indent=2) + "\n"
    return replay_reports(trace, reproduced, message, path, fmt)


def write_viewer(path: str, traces: list[Trace]) -> bool:
    """Write the counterexample viewer; False when there is no counterexample."""
    if not traces:
        return False
    from checker.html.viewer import viewer_html

    write_text_atomic(Path(path), viewer_html(traces))
    return True
