"""A counterexample in the Informal Trace Format (ITF), the JSON trace form
that Apalache writes and Quint reads (https://apalache-mc.org/docs/adr/015adr-trace.html):

    {"#meta": {...}, "vars": [name, ...], "loop": i (livelocks only),
     "states": [{"#meta": {"index": 0}, name: value, ...}, ...]}

State 0 is the initial state and state i the state after step i; each
state gives every variable the trace draws (the final state's variables
and those a step changes, procedure frames aside). Values as ITF writes
them: booleans as JSON booleans, integers as JSON numbers within ±(2^53-1)
and as {"#bigint": "digits"} beyond; the rest (enumerators, pointers such
as `pages[1]`, `null`, thread ids, words field by field) as the strings
migcheck prints, since a trace keeps its values in that form.
"""

from __future__ import annotations

import re

from checker.trace.model import Trace

ITF_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"
_INT = re.compile(r"-?\d+")
_SAFE = (1 << 53) - 1  # JSON numbers every reader takes exactly


def itf_value(text: str) -> object:
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text):
        n = int(text)
        return n if -_SAFE <= n <= _SAFE else {"#bigint": str(n)}
    return text


def to_itf(trace: Trace) -> dict[str, object]:
    names: dict[str, None] = dict.fromkeys(trace.final_state)
    initial: dict[str, str] = {}
    for step in trace.steps:
        for c in step.changes:
            if not c.frame:
                names.setdefault(c.var, None)
                initial.setdefault(c.var, c.before)
    current = {v: initial.get(v, trace.final_state.get(v, "")) for v in names}
    states: list[dict[str, object]] = [_state(0, current, {})]
    for step in trace.steps:
        for c in step.changes:
            if not c.frame:
                current[c.var] = c.after
        states.append(_state(step.index, current,
                             {"thread": f"T{step.thread}", "statement": step.text,
                              "location": f"{step.file}:{step.line}"}))
    out: dict[str, object] = {
        "#meta": {"format": "ITF", "format-description": ITF_DESCRIPTION,
                  "source": trace.spec, "description": f"{trace.kind}: {trace.message}",
                  "scenario": trace.scenario, "generator": "migcheck"},
        "params": [],
        "vars": list(names),
        "states": states,
    }
    if trace.loop_start is not None:
        out["loop"] = trace.loop_start
    return out


def _state(index: int, values: dict[str, str], meta: dict[str, object]) -> dict[str, object]:
    return {"#meta": {"index": index, **meta}, **{v: itf_value(x) for v, x in values.items()}}
