"""Pool symmetry (`pool ... symmetric;`, a scenario's `symmetric POOL;`)
against plain search.

The reduced search sorts a symmetric pool's objects and renames every
reference to them (checker/explore/symmetry.py, checker/vm/symmetry.py);
the static check (checker/ir/symmetry.py, and the type checker before it)
refuses specs that name an object by its position or treat a reference as
a number. Held to: a hand-counted orbit count; the same scenario without
the declaration (verdict, violated properties, no more states) on random
programs with a symmetric pool, alone and with symmetric threads; the
Python engine and the VM (the same reduced figures); counterexamples
mapped back to concrete runs that the reference interpreter replays.
Controls: without the reference renaming, or without the static check,
the reduced search turns a violation into *verified*.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from checker.dsl.diagnostics import SpecError
from checker.dsl.loader import load_program
from checker.explore import symmetry as esym
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir import symmetry as isym
from checker.ir.build import build_all
from checker.kinds import Verdict, ViolationKind
from tests.conftest import ROOT
from tests.pool_programs import pool_programs
from tests.test_symmetry import OPTS, SETTINGS, _pair, _reduced_search, _write, agree

# ---------------------------------------------------------------- hand count

LIST = """
    struct obj { int[0..1] v; struct obj *next; };
    pool struct obj objs[3];
    struct obj *head = null;
    thread user() {
        struct obj *p = alloc(objs);
        head = p;
    }
    scenario s { symmetric objs; run user() * 2; }
    scenario p { run user() * 2; }
"""


def test_hand_counted_orbits(tmp_path):
    """Two threads, each `p = alloc(objs); head = p;` (two steps). A
    thread is before its alloc (0), holding its object in p (1), or done
    (2, its local p gone). The allocator takes the lowest free object, so
    the first to allocate gets object 1, the second object 2.
    Plain states, by (T1, T2): (0,0); (1,0), (0,1), (2,0), (0,2): one each
    (object 1); (1,1): who allocated first, 2; (2,1) and (1,2): head is the
    done thread's object, 1 or 2 as it allocated first or second, 2 each;
    (2,2): head is the last writer's object, 1 or 2, 2. Total 1+4+2+4+2 = 13.
    Orbits under the permutations of the objects (threads not permuted):
    object ids only say which references are equal, and the two allocated
    objects are equal but for the references to them. (1,1): p1 != p2, one
    orbit; (2,1), (1,2): head != the other's p, one each; (2,2): two
    allocated objects, head on one of them, one. Total 1+4+1+2+1 = 9.
    The stable sort alone leaves equal allocated objects in place (13
    states); the tie-break by the first reference outside the pool (head,
    then the threads' p) makes each orbit one representative."""
    s, p = _pair(_write(tmp_path, LIST))
    rs, rp = check(s, OPTS), check(p, OPTS)
    assert (rp.stats.states, rp.stats.transitions) == (13, 16)
    assert (rs.stats.states, rs.stats.transitions) == (9, 12)
    assert rs.stats.symmetry == "pool objs (3 objects)"
    assert rs.verdict == rp.verdict == Verdict.VERIFIED


def test_vm_gives_the_python_figures(tmp_path):
    from checker.vm.llvm_search import jit_bfs
    from checker.vm.search import vm_bfs

    s, _p = _pair(_write(tmp_path, LIST))
    py = check(s, OPTS)
    for engine in (vm_bfs, jit_bfs):
        vm = check(s, OPTS, engine=engine)
        assert (vm.stats.states, vm.stats.transitions, vm.stats.depth) == \
            (py.stats.states, py.stats.transitions, py.stats.depth)


# ---------------------------------------------------------------- the static check


def _refusal(tmp_path: Path, body: str, extra: str = "") -> str:
    text = f"""
        struct obj {{ int[0..2] v; struct obj *next; }};
        pool struct obj objs[2] symmetric;
        struct obj *g = null;
        int[0..3] n = 0;
        {extra}
        thread w() {{ struct obj *p = alloc(objs); struct obj *q = alloc(objs); {body} }}
        scenario s {{ run w(); }}
    """
    with pytest.raises(SpecError) as info:
        build_all(load_program(_write(tmp_path, text), [ROOT / "models"]))
    return info.value.render()


POSITION = "'objs[...]' names an object of the pool by its position"


@pytest.mark.parametrize(("body", "why"), [
    ("objs[0].v = 1;", POSITION),  # a literal object
    ("g = &objs[1];", POSITION),  # its address
    ("int[0..1] k = 0; objs[k].v = 1;", POSITION),  # a variable index
    ("if (p == objs[0].next) n = 1;", POSITION),
    # the type checker refuses these before the symmetry check sees them:
    ("if (p < q) n = 1;", "'<' needs integer operands"),  # an ordered comparison
    ("n = p;", "cannot use a value of type 'struct obj *'"),  # a reference as an int
    ("p = p + 1;", "'+' needs integer operands"),  # arithmetic
    ("p++;", "'++' needs an integer"),
    ("if (p == 1) n = 1;", "cannot compare 'struct obj *' with 'int'"),  # a number as one
    ("p = 1;", "cannot use a value of type 'int'"),
])
def test_static_check_refuses(tmp_path, body, why):
    text = _refusal(tmp_path, body)
    assert why in text and "error:" in text
    if why == POSITION:
        assert "declared 'symmetric' (line 3)" in text


@pytest.mark.parametrize(("prop", "why"), [
    ("forall(x in objs: x->next == null || x->next->v == 0)",
     "body dereferences something other than a live object it binds"),
    ("exists(x in objs: g->v == x->v)",
     "body dereferences something other than a live object it binds"),
    ("count(x in objs: x->v / n == 1) < 2", "body computes '/'"),
    ("forall(x in objs: (1 << x->v) < 4)", "body computes '<<'"),
    ("forall(x in objs: A[x->v] == 0)", "body indexes with a variable"),
])
def test_quantifier_bodies_that_may_fault_are_refused(tmp_path, prop, why):
    """`forall`/`exists` over the pool stop at the first object that
    decides, in the objects' order: a body that can fault would fault or
    not as they are numbered."""
    text = _refusal(tmp_path, "", extra=f"int[0..2] A[3]; invariant i: {prop};")
    assert why in text and "may fault as its objects are ordered" in text


def test_quantifier_bodies_that_cannot_fault_are_accepted(tmp_path):
    text = """
        struct obj { int[0..2] v; struct obj *next; int[0..1] a[2]; };
        pool struct obj objs[2] symmetric;
        invariant i: forall(x in objs: x->next != x && x->a[1] == 0 &&
                                       exists(y in objs: y->v == x->v));
        final f: count(x in objs: x->v == 1) <= 2 && exists(i in 0..1: forall(x in objs: x->a[i] == 0));
        thread w() { struct obj *p = alloc(objs); if (p != null) p->v = 1; }
        scenario s { run w() * 2; }
    """
    ts = build_all(load_program(_write(tmp_path, text)))[0]
    assert [pg.pool for pg in ts.pool_symmetry] == ["objs"]


def test_static_check_reads_properties_initializers_and_procedures(tmp_path):
    assert POSITION in _refusal(tmp_path, "", extra="invariant i: objs[0].v == 0;")
    assert POSITION in _refusal(tmp_path, "", extra="init { g = alloc(objs); objs[0].v = 2; }")
    assert POSITION in _refusal(tmp_path, "n = f();",
                                extra="int[0..3] f() { return objs[0].v; }")


def test_a_scenario_line_names_a_pool(tmp_path):
    with pytest.raises(SpecError, match="'symmetric nothing;' names no pool"):
        build_all(load_program(_write(tmp_path, """
            int[0..1] x = 0;
            thread w() { x = 1; }
            scenario s { symmetric nothing; run w(); }
        """)))


def test_the_ref_walk_refuses_what_the_type_checker_lets_through(tmp_path):
    """Behind the type checker, `RefUses` refuses references used as
    numbers on its own: fed an elaboration whose types say a comparison
    orders two references, it names the reason."""
    from checker.dsl import ast
    from checker.dsl.diagnostics import Span

    program = load_program(_write(tmp_path, LIST))
    from checker.sema.check import elaborate

    el = elaborate(program)
    pool = el.pools["objs"]
    walk = isym.RefUses(el, pool, pool.span)
    span = Span(str(tmp_path / "x.mig"), 1, 1, 1, 2)
    ptr = next(t for e, t in el.expr_types.items() if isinstance(e, ast.Name) and
               walk.is_id(t))
    left, right = ast.Name(span, "a"), ast.Name(span, "b")
    el.expr_types[left] = el.expr_types[right] = ptr
    with pytest.raises(SpecError, match="an ordered comparison of references to pool objs"):
        walk.expr(ast.Binary(span, "<", left, right), "cond")
    with pytest.raises(SpecError, match="arithmetic"):
        walk.expr(ast.Binary(span, "+", left, ast.IntLit(span, 1)), "int")
    with pytest.raises(SpecError, match="a reference to pool objs used as a number"):
        walk.value(left, None)


# ---------------------------------------------------------------- random programs


def pool_agree(s, p) -> None:
    """`agree` (tests/test_symmetry.py), or, where the search fell back to
    plain search for the pool (the allocator's choice showed), the same
    verdict as the plain search."""
    every = OPTS.every_violation(True)
    if check(s, every).stats.symmetry_applied:  # the pool's, or the threads' alone
        agree(s, p)
        return
    r, rp = check(s, OPTS), check(p, OPTS)
    assert r.verdict == rp.verdict
    assert "pool objs not applied" in r.stats.symmetry


def _agree_vm(s) -> None:
    from checker.vm.search import vm_bfs

    py = check(s, OPTS)
    vm = check(s, OPTS, engine=vm_bfs)
    assert (vm.verdict, vm.stats.states, vm.stats.transitions, vm.stats.symmetry) == \
        (py.verdict, py.stats.states, py.stats.transitions, py.stats.symmetry)


@settings(SETTINGS, max_examples=25)
@given(pool_programs())
def test_reduced_agrees_with_plain_search(tmp_path, text):
    s, p = _pair(_write(tmp_path, text))
    pool_agree(s, p)


@pytest.mark.slow
@settings(SETTINGS, max_examples=300)
@given(pool_programs())
def test_reduced_agrees_with_plain_search_many(tmp_path, text):
    s, p = _pair(_write(tmp_path, text))
    pool_agree(s, p)


@settings(SETTINGS, max_examples=10)
@given(pool_programs())
def test_vm_reduces_as_the_python_engine(tmp_path, text):
    s, _p = _pair(_write(tmp_path, text))
    _agree_vm(s)


@pytest.mark.slow
@settings(SETTINGS, max_examples=100)
@given(pool_programs())
def test_vm_reduces_as_the_python_engine_many(tmp_path, text):
    s, _p = _pair(_write(tmp_path, text))
    _agree_vm(s)


# ---------------------------------------------------------------- controls

UAF = """
    struct obj { int[0..2] v; };
    pool struct obj objs[2];
    thread w() {
        struct obj *p = alloc(objs);
        struct obj *q = alloc(objs);
        p->v = 1;
        assert(p->v == 0, "p's value changed");
    }
    scenario s { symmetric objs; run w(); }
    scenario p { run w(); }
"""


def test_control_no_reference_renaming_is_caught(tmp_path, monkeypatch):
    """`p->v = 1` makes p's object (object 1, value 1) sort after q's
    (value 0): the two swap places. Renamed, p follows its object and the
    assert fails as in the plain search. Without the renaming p points to
    the moved-in object, of value 0, and the reduced search verifies."""
    s, p = _pair(_write(tmp_path, UAF))
    agree(s, p)
    assert check(p, OPTS).violation is not None
    original = esym.Canon.__init__

    def no_renaming(self, ts, packing):
        original(self, ts, packing)
        self.ref_fields = [[] for _ in self.ref_fields]

    monkeypatch.setattr(esym.Canon, "__init__", no_renaming)
    assert _reduced_search(s).violation is None
    with pytest.raises(AssertionError):
        agree(s, p)


def test_control_vm_without_reference_renaming_is_caught(tmp_path, monkeypatch):
    from checker.vm import search as vsearch
    from checker.vm import symmetry as vsym

    s, _p = _pair(_write(tmp_path, UAF))
    original = vsym.sym_table

    def no_renaming(c, layout):
        table = original(c, layout).copy()
        pg = c.ts.pool_symmetry[0]
        n, m = len(pg.blocks), len(pg.blocks[0])
        # [n_domains, flag, scratch, size, n_groups, n_ext, ext..., n, m,
        #  ids..., rows..., n_at, at..., n_locs, locs...] (checker/vm/symmetry.py)
        ext = table[5]  # the pool's locations outside it (the tie-break)
        steps = 6 + 3 * ext + 2 + n + n * m * 4  # its steps that allocate
        at = steps + 1 + 4 * table[steps]  # its count of reference locations
        assert table[at] == len(pg.refs)
        table[at + 1:at + 1 + 4 * len(pg.refs)] = 0  # every location: word 0, mask 0
        return table

    monkeypatch.setattr(vsearch, "sym_table", no_renaming)
    assert check(s, OPTS, engine=vsearch.vm_bfs).verdict == Verdict.VERIFIED
    assert check(s, OPTS).verdict == Verdict.VIOLATION


POSITIONAL = """
    struct obj { int[0..2] v; };
    pool struct obj objs[2];
    thread w() {
        struct obj *p = alloc(objs);
        struct obj *q = alloc(objs);
        p->v = 1;
        assert(objs[0].v == 0, "the first object untouched");
    }
    scenario s { symmetric objs; run w(); }
    scenario p { run w(); }
"""


def test_control_static_check_prevents_a_wrong_verdict(tmp_path, monkeypatch):
    """`objs[0]` names the first object. Plain: p is object 1, written
    with 1, and the assert fails. Reduced without the check, p's object
    sorts after q's and the representative's `objs[0]` is q's, of value
    0: the reduced search verifies. The check refuses the declaration."""
    path = _write(tmp_path, POSITIONAL)
    with pytest.raises(SpecError, match="names an object of the pool by its position"):
        _pair(path)
    monkeypatch.setattr(isym.RefUses, "check_scenario", lambda self, sc, kinds: None)
    s, p = _pair(path)
    plain = check(p, OPTS)
    assert plain.violation is not None and plain.violation.kind == ViolationKind.ASSERT
    assert _reduced_search(s).violation is None
    with pytest.raises(AssertionError):
        agree(s, p)


DANGLING = """
    struct obj { int[0..2] v; };
    pool struct obj objs[2];
    thread w() {
        struct obj *a = alloc(objs);
        struct obj *b = alloc(objs);
        a->v = 2;
        free(b);
        free(a);
        struct obj *c = alloc(objs);
        c->v = 1;
        assert(a != c, "the allocator reuses the first object freed last");
    }
    scenario s { symmetric objs; run w(); }
    scenario p { run w(); }
"""


def test_the_allocators_choice_falls_back_to_plain_search(tmp_path, monkeypatch):
    """The allocator takes the lowest free object, which the objects'
    permutations do not preserve: `a->v = 2` sorts a's object (object 1)
    after b's, so the representative holds a = 2, b = 1; after both frees
    the next alloc returns object 1, which is b's in the representative and
    a's in the real run. A state with a freed object still referenced and
    a thread about to allocate is where this shows: the search is redone
    without the pool's reduction, and says so. Without that watch the
    reduced search verifies where the plain one finds the violation."""
    s, p = _pair(_write(tmp_path, DANGLING))
    rp, rs = check(p, OPTS), check(s, OPTS)
    assert rp.verdict == rs.verdict == Verdict.VIOLATION
    assert not rs.stats.symmetry_applied and rs.stats.states == rp.stats.states
    assert "pool objs not applied: a freed object still referenced" in rs.stats.symmetry
    from checker.vm.search import vm_bfs

    vm = check(s, OPTS, engine=vm_bfs)
    assert (vm.verdict, vm.stats.symmetry) == (rs.verdict, rs.stats.symmetry)
    monkeypatch.setattr(esym.Canon, "escaped", lambda self: None)
    assert _reduced_search(s).violation is None
    assert check(s, OPTS).verdict == Verdict.VERIFIED  # the wrong verdict


# ---------------------------------------------------------------- declaration forms


def test_pool_declaration_form_and_threads_combined(tmp_path):
    """`pool ... symmetric;` applies in every scenario; with symmetric
    threads both reductions apply, pools first."""
    text = LIST.replace("pool struct obj objs[3];", "pool struct obj objs[3] symmetric;")
    text = text.replace("scenario s { symmetric objs; run user() * 2; }",
                        "scenario s { run user() * 2 symmetric; }")
    systems = {ts.scenario: ts for ts in build_all(load_program(_write(tmp_path, text)))}
    both = check(systems["s"], OPTS)
    pool_only = check(systems["p"], OPTS)
    assert both.stats.symmetry == "1 group of 2 user threads, pool objs (3 objects)"
    assert pool_only.stats.states == 9
    # the threads' swap joins (1,0) and (0,1), (2,0) and (0,2), (2,1) and
    # (1,2): 9 - 3 = 6 orbits
    assert both.stats.states == 6


def test_command_line_reports_and_replays(tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    spec = _write(tmp_path, UAF)
    r = cli("check", str(spec), "-s", "s", "--trace-dir", str(tmp_path / "cex"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "symmetry: pool objs (2 objects)" in r.stdout
    saved = next((tmp_path / "cex").rglob("sym.s.json"))
    again = cli("replay", str(saved))
    assert again.returncode == 0, again.stdout + again.stderr
    bad = _write(tmp_path, POSITIONAL)
    refused = cli("check", str(bad))
    assert refused.returncode == 2
    assert f"{bad}:8:16: error: 'objs[...]' names an object" in refused.stderr


def test_only_the_pool_that_showed_is_searched_plainly(tmp_path):
    """Two symmetric pools, the allocator's choice showing in one: the
    search is redone without that pool's reduction and keeps the other's."""
    text = DANGLING.replace("pool struct obj objs[2];", """pool struct obj objs[2];
    struct other { int[0..1] x; };
    pool struct other others[2];
    struct other *o1 = null;
    struct other *o2 = null;
    thread u() { o1 = alloc(others); o2 = alloc(others); o1->x = 1; }""")
    text = text.replace("scenario s { symmetric objs; run w(); }",
                        "scenario s { symmetric objs, others; run w(); run u(); }")
    text = text.replace("scenario p { run w(); }", "scenario p { run w(); run u(); }")
    s, p = _pair(_write(tmp_path, text))
    rs, rp = check(s, OPTS), check(p, OPTS)
    assert rs.verdict == rp.verdict == Verdict.VIOLATION
    assert rs.stats.symmetry.startswith("pool others (2 objects); pool objs not applied")
    assert rs.stats.symmetry_applied


def test_spec_scenario_declares_its_zspages_symmetric():
    ts = build_all(load_program(ROOT / "specs/zsmalloc/migration.mig"),
                   only=["two_allocs_vs_compaction"])[0]
    assert [pg.pool for pg in ts.pool_symmetry] == ["zspages"]


@pytest.mark.slow
def test_spec_scenario_figures():
    """specs/zsmalloc/migration.mig, two_allocs_vs_compaction: two
    zs_malloc() calls build their zspages in either order; declared
    symmetric, the two orders are one state (README figures)."""
    from dataclasses import replace

    from checker.vm.search import vm_bfs

    ts = build_all(load_program(ROOT / "specs/zsmalloc/migration.mig"),
                   only=["two_allocs_vs_compaction"])[0]
    opts = CheckOptions().livelock(False)
    rs = check(ts, opts, engine=vm_bfs)
    rp = check(replace(ts, pool_symmetry=[]), opts, engine=vm_bfs)
    assert rs.verdict == rp.verdict == Verdict.VERIFIED
    assert (rp.stats.states, rs.stats.states) == (120_191, 61_785)
    assert rs.stats.symmetry == "pool zspages (2 objects)"


REORDERED = """
    struct obj { int[0..2] v; };
    pool struct obj objs[3];
    thread w() {
        struct obj *a = alloc(objs);
        struct obj *b = alloc(objs);
        a->v = 2;
        atomic { free(b); b = null; }
        atomic { free(a); a = null; }
        struct obj *c = alloc(objs);
        c->v = 1;
        assert(c->v == 0, "c is written");
    }
    scenario s { symmetric objs; run w(); }
    scenario p { run w(); }
"""


def test_counterexample_through_an_allocation_the_permutation_reorders(tmp_path):
    """`a->v = 2` swaps a's and b's objects in the representative; both
    are freed (no reference left), and the next alloc takes object 1: a's
    in the real run, b's old one in the representative. The mapping back
    swaps the two free objects there (`Concretizer.pools_matched`), and
    the concrete run replays."""
    s, p = _pair(_write(tmp_path, REORDERED))
    got = agree(s, p)
    assert got is not None and got[0].verdict == Verdict.VIOLATION
    assert got[0].stats.symmetry == "pool objs (3 objects)"


def test_checkpointed_searches_reduce_pools_too(tmp_path):
    """The allocator watch's finding is saved in a checkpoint
    (tests/test_checkpoint.py), so a checkpointed search reduces its pools
    as any other: the 9 hand-counted orbits, not the 13 plain states."""
    s, _p = _pair(_write(tmp_path, LIST))
    r = check(s, OPTS.checkpointed(str(tmp_path / "ck")))
    assert r.stats.states == 9 and r.stats.symmetry_applied
    assert r.stats.symmetry == "pool objs (3 objects)"
