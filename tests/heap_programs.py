"""Random spec programs with a heap, for the SPIN referee and the
precondition tests (hypothesis strategies).

They extend `tests.programs` (shared ints, a spinlock, awaits, atomic blocks,
either, choose, asserts) with what the specs use beyond it: a pool of
objects reached through references (null dereference, use after free,
double free), a word with bit fields, an array indexed at run time (out of
bounds), division (by zero), a thread started at run time (`start`, its
instance limit) and `on_exit`/`final` properties. Programs are well typed by
construction; every fault is a fair outcome.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tests.programs import HEADER, conds, stmts

HEAP_HEADER = HEADER + """\
struct node { int[0..3] v; struct node *next; };
pool struct node nodes[2];
struct node *head = null;
word fl { bool A; int[0..2] n; };
word fl f;
int[0..3] arr[2];
"""


def _ref(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["p", "head", "p->next"]))


@st.composite
def heap_stmt(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 15))
    r = _ref(draw)
    k = draw(st.integers(0, 3))
    return [
        "p = alloc(nodes);",
        f"free({r});",
        f"p = {r};",
        f"head = {draw(st.sampled_from(['p', 'null']))};",
        f"{r}->v = {k};",
        f"l = {r}->v;",
        f"arr[l] = {k};",
        f"l = arr[{draw(st.sampled_from(['g0', 'l']))} % 2];",
        f"f.A = {draw(st.sampled_from(['true', 'false', '!f.A']))};",
        f"w = f; w.n = {draw(st.integers(0, 2))}; f = w;",
        f"l = {draw(st.sampled_from(['g0', 'g1']))} / l;",
        "start worker(l);",
        f"await {r} == null || {r}->v > {draw(st.integers(0, 2))};",
        f"if (p != null && p->v == {k}) {{ g1 = {k}; }} else {{ p = head; }}",
        f"atomic {{ l = f.n; f.n = {draw(st.integers(0, 2))}; await l != {k}; }}",
        f"p->next = {draw(st.sampled_from(['p', 'head', 'null']))};",
    ][kind]


@st.composite
def any_stmt(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 2)) == 0:
        return draw(stmts())
    return draw(heap_stmt())


@st.composite
def heap_programs(draw: st.DrawFn) -> str:
    n_threads = draw(st.integers(1, 2))
    parts = [HEAP_HEADER]
    worker = " ".join(draw(st.lists(any_stmt(), min_size=1, max_size=2)))
    parts.append("thread worker(int[0..3] a) { int[0..3] l = a; struct node *p = head; word fl w; "
                 f"{worker} }}")
    for i in range(n_threads):
        body = " ".join(draw(st.lists(any_stmt(), min_size=1, max_size=4)))
        parts.append(f"thread t{i}() {{ int[0..3] l = 0; struct node *p = null; word fl w; {body} }}")
    if draw(st.booleans()):
        parts.append(f"invariant inv: {draw(conds()).replace('l ', 'g1 ')};")
    if draw(st.booleans()):
        parts.append(f"final fin: g0 != {draw(st.integers(0, 3))} || head == null;")
    if draw(st.booleans()):
        parts.append("on_exit ex: g1 != 3;")
    runs = " ".join(f"run t{i}();" for i in range(n_threads))
    limit = draw(st.integers(1, 2))
    parts.append(f"scenario s {{ {runs} max worker {limit}; }}")
    return "\n".join(parts) + "\n"


@st.composite
def arith_stmt(draw: st.DrawFn) -> str:
    """A store that may leave its variable's range (or stays inside it by
    its operands' bounds): the range checks, and the checks the code
    generator leaves out where the bounds prove them needless."""
    k = draw(st.integers(1, 2))
    return draw(st.sampled_from([
        f"g0 = g0 + {k};",
        "g1 = g0;",
        f"l = g1 - {k};",
        f"l = l % 3 + {k};",
        f"arr[g0 % 2] = arr[g0 % 2] + {k};",
        "f.n = f.n + 1;",
        "f.n = l % 3;",
        "w = f; w.n = g1 / 2; f = w;",
        "p = alloc(nodes);",
        f"if (p != null) {{ p->v = p->v + {k}; }}",
        "if (p != null) { p->v = l; }",
        "g0 = choose(0..3);",
    ]))


@st.composite
def arith_programs(draw: st.DrawFn) -> str:
    """Programs whose only faults are range faults (and exhausted pools):
    no asserts, no awaits, so a range fault is not hidden behind an earlier
    violation."""
    n_threads = draw(st.integers(1, 2))
    parts = [HEAP_HEADER]
    for i in range(n_threads):
        body = " ".join(draw(st.lists(arith_stmt(), min_size=1, max_size=5)))
        parts.append(f"thread t{i}() {{ int[0..3] l = 0; struct node *p = null; word fl w; {body} }}")
    runs = " ".join(f"run t{i}();" for i in range(n_threads))
    parts.append(f"scenario s {{ {runs} }}")
    return "\n".join(parts) + "\n"
