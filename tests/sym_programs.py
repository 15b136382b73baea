"""Random programs with N identical threads (hypothesis strategies), for the
symmetry reduction's differential tests (tests/test_symmetry.py).

A thread kind `w` run N times (2 or 3) and optionally another thread `o`,
over shared ints, a bool, a `tid` variable and a `tid` word field written
with `current` and compared with `==`/`!=`, a `tidset` variable and word
field (bits of `current`, `me`, `last` put in, taken out, combined, tested), a mutex (owner: a thread id),
a spinlock, awaits, atomic blocks, either, choose, `tid` locals, a pool of
objects with a `tid` field (null dereference, use after free, double free
through the shared `head`), a `helper` thread started at run time with its
starter's id, `on_exit` properties. Seeded bugs: asserts that may fail (`last == current` after
another thread wrote it), stores that may leave their range, a mutex
taken twice (recursion), sleeping under the spinlock, invariants and
finals that may break, deadlocks. The spec's scenario `s` declares the
`w` instances symmetric, scenario `p` is the same without the declaration.
"""

from __future__ import annotations

from hypothesis import strategies as st

SHARED = ["g0", "g1"]
HEADER = """\
import "mutex";
import "spinlock";
struct mutex M;
spinlock_t L;
word flags { tid holder; bool set; tidset[0..255] ws; };
word flags F;
int[0..3] g0 = 0;
int[0..3] g1 = 0;
tid last = none;
tidset[0..255] S = 0;
bool b = false;
struct obj { tid owner; int[0..3] v; };
pool struct obj objs[2];
struct obj *head = null;
"""


def _value(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return str(draw(st.integers(0, 3)))
    if kind == 1:
        return draw(st.sampled_from(SHARED))
    if kind == 2:
        return f"{draw(st.sampled_from(SHARED))} + 1"  # may leave the range: a fault
    return "l"


def _cond(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 6))
    g = draw(st.sampled_from(SHARED))
    if kind == 0:
        return f"{g} == {draw(st.integers(0, 3))}"
    if kind == 1:
        return f"{g} < {draw(st.sampled_from(SHARED))}"
    if kind == 2:
        return "last == current"
    if kind == 3:
        return "last != none"
    if kind == 4:
        return "F.holder == me"
    if kind == 5:
        return draw(st.sampled_from(["b", "(S & (1 << current)) != 0", "S == F.ws", "S"]))
    return "!b"


def _heap(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 6))
    return [
        "p = alloc(objs); if (p != null) { p->owner = current; head = p; }",
        "p = head;",
        "if (p != null && p->owner == current) { free(p); head = null; }",  # use after free
        "if (head != null) head->owner = me;",
        f"if (head != null) head->v = {draw(st.integers(0, 3))};",
        "if (p != null) last = p->owner;",  # p may be freed: a fault
        "start helper(current);",
    ][kind]


def _simple(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 3)) == 0:
        return _heap(draw)
    kind = draw(st.integers(0, 9))
    g = draw(st.sampled_from(SHARED))
    if kind == 0:
        return f"{g} = {_value(draw)};"
    if kind == 1:
        return f"l = {g};"
    if kind == 2:
        return "last = current;"
    if kind == 3:
        return f"assert({_cond(draw)});"
    if kind == 4:
        return "F.holder = me; F.set = true;"
    if kind == 5:
        return "me = last;"
    if kind == 6:
        return "l = choose(0..2);"
    if kind == 7:
        return f"b = {draw(st.sampled_from(['true', 'false']))};"
    if kind == 8:
        return draw(st.sampled_from([
            "if (F.holder == current) F.holder = none;",
            "S |= 1 << current;", "S &= ~(1 << current);", "F.ws |= 1 << me;",
            "S = S & ~F.ws;", "F.ws ^= S;", "if (S & (1 << last)) S &= ~(1 << last);"]))
    return "me = current;"


@st.composite
def _stmt(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 8 if depth < 2 else 0))
    if kind <= 2:
        return _simple(draw)
    if kind == 3:
        return (f"if ({_cond(draw)}) {{ {draw(_stmt(depth + 1))} }} "
                f"else {{ {draw(_stmt(depth + 1))} }}")
    if kind == 4:
        return f"await {_cond(draw)};"
    if kind == 5:
        return f"atomic {{ {_simple(draw)} {_simple(draw)} }}"
    if kind == 6:
        return f"either {{ {draw(_stmt(depth + 1))} }} or {{ {draw(_stmt(depth + 1))} }}"
    if kind == 7:
        return f"mutex_lock(&M); {draw(_stmt(depth + 1))} mutex_unlock(&M);"
    return f"spin_lock(&L); {_simple(draw)} spin_unlock(&L);"


def _body(draw: st.DrawFn) -> str:
    stmts = " ".join(draw(st.lists(_stmt(), min_size=1, max_size=4)))
    return f"int[0..3] l = 0; tid me = none; struct obj *p = null; {stmts}"


@st.composite
def sym_programs(draw: st.DrawFn) -> str:
    n = draw(st.integers(2, 3))
    parts = [HEADER, f"thread w() {{ {_body(draw)} }}",
             "thread helper(tid parent) { if (last == parent) last = current; "
             "else g1 = 1; }"]
    other = draw(st.booleans())
    if other:
        parts.append(f"thread o() {{ {_body(draw)} }}")
    if draw(st.booleans()):
        kind = draw(st.integers(0, 2))
        cond = ["g0 <= g1 || b", "last == none || g0 != 2", "F.holder == none || !b"][kind]
        parts.append(f"invariant inv: {cond};")
    if draw(st.booleans()):
        parts.append(f"final fin: g0 != {draw(st.integers(1, 3))};")
    if draw(st.booleans()):
        parts.append("on_exit ex: last != current || g1 != 2;")
    extra = " run o();" if other else ""
    parts.append(f"scenario s {{ run w() * {n} symmetric;{extra} }}")
    parts.append(f"scenario p {{ run w() * {n};{extra} }}")
    return "\n".join(parts) + "\n"
