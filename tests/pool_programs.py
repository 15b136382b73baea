"""Random programs over a pool of interchangeable objects (hypothesis
strategies), for the pool symmetry's differential tests
(tests/test_pool_symmetry.py).

Threads `w` (run 2 times, their instances sometimes declared symmetric too)
and optionally `o` over a pool `objs` of three objects (a value, a
reference to another object of the pool, an owner's thread id):
allocation (the pool may run out), frees (double frees), references held
in thread locals, in a global, in a word's field and in the objects
themselves, dereferences of freed objects (use after free), comparisons
of references, quantifiers over the live objects, a mutex. Seeded bugs:
asserts on values that other threads write, double frees, uses after free,
invariants and finals that may break. Scenario `s` declares the pool
symmetric (`symmetric objs;`), scenario `p` is the same without it.
"""

from __future__ import annotations

from hypothesis import strategies as st

HEADER = """\
import "mutex";
struct mutex M;
struct obj { int[0..2] v; struct obj *next; tid owner; };
pool struct obj objs[3];
struct obj *head = null;
word handle { struct obj *o; bool pin; };
word handle H;
int[0..3] g = 0;
"""


def _simple(draw: st.DrawFn) -> str:
    k = draw(st.integers(0, 2))
    return draw(st.sampled_from([
        "p = alloc(objs);",
        "q = alloc(objs);",
        f"if (p != null) p->v = {k};",  # p may be freed: a fault
        f"if (q != null) q->v = {k};",
        "if (p != null && q != null) p->next = q;",
        "head = p;",
        "p = head;",
        "H.o = q; H.pin = true;",
        "q = H.o;",
        "if (p != null) q = p->next;",
        "free(p);",  # may free twice
        "free(q); q = null;",
        "atomic { free(p); p = null; }",  # no dangling reference: the reduction holds on
        "atomic { if (head == p) head = null; free(p); p = null; }",
        "if (p != null && p->owner == current) { free(p); p = null; head = null; }",
        "if (p == q) g = 1;",
        "if (head != null) l = head->v;",
        "if (p != null) p->owner = current;",
        f"assert(p == null || p->v != {k});",
        "assert(head != p || g == 0);",
        "l = count(x in objs: x->v == 1);",
        "assert(l < 2);",
        "if (exists(x in objs: x->next == p && p != null)) g = 2;",
        "g = 0;",
    ]))


@st.composite
def _stmt(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 7 if depth < 2 else 0))
    if kind <= 3:
        return _simple(draw)
    if kind == 4:
        return f"if (p != q) {{ {draw(_stmt(depth + 1))} }} else {{ {draw(_stmt(depth + 1))} }}"
    if kind == 5:
        return f"atomic {{ {_simple(draw)} {_simple(draw)} }}"
    if kind == 6:
        return f"either {{ {draw(_stmt(depth + 1))} }} or {{ {draw(_stmt(depth + 1))} }}"
    return f"mutex_lock(&M); {draw(_stmt(depth + 1))} mutex_unlock(&M);"


def _body(draw: st.DrawFn) -> str:
    stmts = " ".join(draw(st.lists(_stmt(), min_size=1, max_size=4)))
    return f"struct obj *p = null; struct obj *q = null; int[0..3] l = 0; {stmts}"


@st.composite
def pool_programs(draw: st.DrawFn) -> str:
    parts = [HEADER, f"thread w() {{ {_body(draw)} }}"]
    other = draw(st.booleans())
    if other:
        parts.append(f"thread o() {{ {_body(draw)} }}")
    if draw(st.booleans()):
        parts.append("invariant inv: count(x in objs: x->v == 2) <= 1;")
    if draw(st.booleans()):
        parts.append("final fin: forall(x in objs: x->next == null || x->v != 0);")
    threads = " symmetric" if draw(st.booleans()) else ""
    extra = " run o();" if other else ""
    parts.append(f"scenario s {{ symmetric objs; run w() * 2{threads};{extra} }}")
    parts.append(f"scenario p {{ run w() * 2;{extra} }}")
    return "\n".join(parts) + "\n"
