"""Bad input never crashes the checker.

Every spec of the repository, edited at random the way a hand slips (a
token deleted, doubled, replaced by another of the file or by a stray
literal or punctuation, a line dropped), must either build and check, or be
rejected with a `file:line:col: error:` diagnostic (SpecError). Any other
exception is a crash, which is a bug. The octal literal `06` was found this
way.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.dsl.diagnostics import SpecError
from checker.dsl.loader import load_program
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir.build import build_all
from checker.trace.model import build_trace
from checker.trace.text import render
from tests.conftest import ROOT

SOURCES = sorted((ROOT / "specs").rglob("*.mig")) + sorted((ROOT / "models").glob("*.mig"))
TOKEN = re.compile(r"\w+|[^\s\w]")
STRAYS = ["0", "-1", "999", "06", "0x", "null", "true", "x", "(", ")", "{", "}", ";", "->",
          ".", "[", "]", "*", "&", '"', "..", "//", "/*"]


@st.composite
def slips(draw: st.DrawFn) -> tuple[Path, str]:
    src = draw(st.sampled_from(SOURCES))
    text = src.read_text(encoding="utf-8")
    tokens = list(TOKEN.finditer(text))
    m = tokens[draw(st.integers(0, len(tokens) - 1))]
    other = tokens[draw(st.integers(0, len(tokens) - 1))].group()
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return src, text[:m.start()] + text[m.end():]
    if kind == 1:
        return src, text[:m.start()] + other + text[m.end():]
    if kind == 2:
        return src, text[:m.start()] + other + " " + text[m.start():]
    if kind == 3:
        lines = text.splitlines(keepends=True)
        k = draw(st.integers(0, len(lines) - 1))
        return src, "".join(lines[:k] + lines[k + 1:])
    return src, text[:m.start()] + draw(st.sampled_from(STRAYS)) + text[m.end():]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(slips())
def test_an_edited_spec_checks_or_is_rejected_with_a_diagnostic(tmp_path: Path,
                                                                 slip: tuple[Path, str]) -> None:
    src, text = slip
    path = tmp_path / src.parent.name / src.name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    try:
        systems = build_all(load_program(path, [ROOT / "models", src.parent]))
    except SpecError as err:
        assert ": error: " in err.render()
        return
    for ts in systems[:1]:
        r = check(ts, CheckOptions().max_states(2000))
        if r.violation is not None and r.compiled is not None:
            assert render(build_trace(r.compiled, r.violation))
