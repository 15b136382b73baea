"""Random small spec programs for differential tests (hypothesis strategies).

Threads over a few shared ints and bools, with locals, a spinlock, awaits,
atomic blocks, either, choose, bounded loops, asserts, invariants and
shifts by counts that may be negative (a `shift` fault): the
shapes that decide interleavings. Programs are well-typed by construction;
range faults, shift faults, deadlocks and failed asserts are all fair outcomes.
"""

from __future__ import annotations

from hypothesis import strategies as st

SHARED = ["g0", "g1"]
HEADER = """\
import "spinlock";
spinlock_t L;
int[0..3] g0 = 0;
int[0..3] g1 = 1;
bool b = false;
"""


@st.composite
def conds(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    g = draw(st.sampled_from(SHARED))
    c = draw(st.integers(0, 3))
    if kind == 0:
        return f"{g} == {c}"
    if kind == 1:
        return f"{g} < {draw(st.sampled_from(SHARED))}"
    if kind == 2:
        return f"l > {draw(st.integers(0, 2))}"
    if kind == 3:
        return "b"
    return "!b"


@st.composite
def values(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return str(draw(st.integers(0, 3)))
    if kind == 1:
        return draw(st.sampled_from(SHARED))
    if kind == 2:
        return f"{draw(st.sampled_from(SHARED))} + 1"
    if kind == 3:
        return "l"
    # a shift of a value that may be negative by a count that may be (a fault)
    op = draw(st.sampled_from(["<<", ">>"]))
    return f"({draw(st.sampled_from(SHARED))} - 1) {op} ({draw(st.sampled_from(SHARED))} - 1)"


def simple(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 6))
    g = draw(st.sampled_from(SHARED))
    if kind == 0:
        return f"{g} = {draw(values())};"
    if kind == 1:
        return f"l = {g};"
    if kind == 2:
        return f"b = {draw(st.sampled_from(['true', 'false']))};"
    if kind == 3:
        return f"assert({draw(conds())});"
    if kind == 4:
        return "l = choose(0..2);"
    if kind == 5:
        return f"if (l < 3) l = l + 1; {g} = l;"
    return "l = 0;"


@st.composite
def stmts(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 7 if depth < 2 else 0))
    if kind <= 2:
        return simple(draw)
    if kind == 3:
        a = draw(stmts(depth + 1))
        b = draw(stmts(depth + 1))
        return f"if ({draw(conds())}) {{ {a} }} else {{ {b} }}"
    if kind == 4:
        return f"await {draw(conds())};"
    if kind == 5:
        return f"atomic {{ {simple(draw)} {simple(draw)} }}"
    if kind == 6:
        return f"either {{ {draw(stmts(depth + 1))} }} or {{ {draw(stmts(depth + 1))} }}"
    return f"spin_lock(&L); {simple(draw)} spin_unlock(&L);"


@st.composite
def programs(draw: st.DrawFn) -> str:
    n_threads = draw(st.integers(1, 3))
    parts = [HEADER]
    for i in range(n_threads):
        body = " ".join(draw(st.lists(stmts(), min_size=1, max_size=4)))
        loop = ""
        if draw(st.booleans()):
            loop = " while (l < 2) { l = l + 1; g0 = l; }"
        parts.append(f"thread t{i}() {{ int[0..3] l = 0; {body}{loop} }}")
    if draw(st.booleans()):
        parts.append(f"invariant inv: {draw(conds()).replace('l ', 'g1 ')};")
    runs = " ".join(f"run t{i}();" for i in range(n_threads))
    parts.append(f"scenario s {{ {runs} }}")
    return "\n".join(parts) + "\n"
