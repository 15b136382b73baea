"""`migcheck doc`: the locking-rules document, Markdown and HTML."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

MIGCHECK = [sys.executable, "-m", "checker"]
ZS = "specs/zsmalloc/map_vs_migrate.mig"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MIGCHECK, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_zsmalloc_document(tmp_path):
    out = tmp_path / "zs.md"
    r = cli("doc", ZS, "-o", str(out))
    assert r.returncode == 0, r.stderr
    md = out.read_text()
    assert md.startswith(f"# Locking rules: {ZS}\n")
    # Scenarios with their reachable states and verdicts.
    assert "| `map_vs_migrate` | trypin=true | zs_map_object(H0), migrate_page(OLD, NEW) | 393 |" \
        in md
    assert "| `map_free_vs_migrate` | trypin=true |" in md and "| 4,608 |" in md
    assert "use_after_free, as expected" in md
    # Lock classes and kinds.
    assert "| `page` | sleeping | lock, trylock | `pages[0]`, `pages[1]` | migrate_page |" in md
    assert "| `zs_class.lock` | spinning | lock | `zs_class.lock` | migrate_page, zs_free |" in md
    # The Mermaid graph: page -> zspage.lock -> zs_class.lock; pin -> zspage.lock (read).
    graph = md[md.index("```mermaid"):]
    graph = graph[: graph.index("```\n", 10)]
    ids = dict(re.findall(r'(L\d)\["([^<"]+)', graph))
    edges = {(ids[a], ids[b]) for a, b in re.findall(r"(L\d) -->(?:\|[^|]*\|)? (L\d)", graph)}
    assert edges == {("page", "zs_class.lock"), ("page", "zspage.lock"),
                     ("zs_handle.val.pin", "zs_class.lock"),
                     ("zs_handle.val.pin", "zspage.lock"), ("zspage.lock", "zs_class.lock")}
    assert "None: the lock-order graph has no cycle" in md
    assert "`lock_order page -> zspage.lock -> zs_class.lock`: **kept** in every reachable " \
           "state." in md
    # The buggy variant's race on the handle: the writer at line 222 holds
    # no pin; the reader at line 131 holds only the pin.
    assert ("`zs_handle.val.idx`, `zs_handle.val.page`, `zs_handle.val.pin` "
            "(map_vs_migrate_notrypin): migrate_page writes it at line 222") in md
    assert "zs_map_object reads it at line 131 `obj = handle->val;` holding " \
           "`zs_handle.val.pin`." in md
    # Protected in the merged protocol.
    assert "every access holds zs_handle.val.pin" in md
    # Acquisition sequences.
    seq = md[md.index("### zs_map_object"):]
    assert "| 1 | lock | `zs_handle.val.pin` | 130 | `pin_tag(handle);` | - |" in seq
    assert "| 2 | read_lock | `zspage.lock` | 134 | `migrate_read_lock(zspage);` | " \
           "zs_handle.val.pin |" in seq


def test_document_is_deterministic_and_html_is_self_contained(tmp_path):
    a, b, h = tmp_path / "a.md", tmp_path / "b.md", tmp_path / "zs.html"
    for f in (a, b, h):
        r = cli("doc", ZS, "-s", "map_vs_migrate", "-o", str(f))
        assert r.returncode == 0, r.stderr
    assert a.read_text() == b.read_text()
    html = h.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert not re.search(r"""(src|href)=["']?https?:""", html)
    assert "<script" not in html
    assert 'data-lock="zs_class.lock"' in html


def test_declared_order_broken_with_the_first_run(spec_file, tmp_path):
    spec = spec_file("""
        import "spinlock";
        spinlock_t a;
        spinlock_t b;
        thread ab() { spin_lock(&a); spin_lock(&b); spin_unlock(&b); spin_unlock(&a); }
        thread ba() { spin_lock(&b); spin_lock(&a); spin_unlock(&a); spin_unlock(&b); }
        lock_order a -> b;
        scenario s { run ab(); run ba(); expect deadlock; }
    """)
    r = cli("doc", str(spec), "-I", str(ROOT / "models"))
    assert r.returncode == 0, r.stderr
    assert "**Potential deadlock 1**: `a` → `b` → `a`." in r.stdout
    assert "`lock_order a -> b`: **broken**: a thread holding `b` acquires `a`" in r.stdout
    assert "linkStyle 0,1 stroke:#c00" in r.stdout


def test_doc_of_a_bad_spec_is_a_located_error(tmp_path):
    spec = tmp_path / "bad.mig"
    spec.write_text("thread t() { y = 1; }\nscenario s { run t(); }\n")
    r = cli("doc", str(spec))
    assert r.returncode == 2 and f"{spec}:1:14: error: unknown name 'y'" in r.stderr
    assert "Traceback" not in r.stderr


def test_lines_of_a_protocol_module_name_their_file(tmp_path):
    # migrate_lock.mig runs threads declared in models/zsmalloc_5_17.mig and
    # models/nonlru_migrate.mig: their lines carry the file name, the spec's
    # own lines do not. The compactor trylocks its page first
    # (isolate_movable_page), then takes the class lock (zs_page_isolate,
    # behind the driver callback that isolate_movable_page calls).
    out = tmp_path / "ml.md"
    r = cli("doc", "specs/zsmalloc/migrate_lock.mig", "-s", "alloc_vs_compaction", "-o", str(out))
    assert r.returncode == 0, r.stderr
    md = out.read_text()
    seq = md[md.index("### compactor"):]
    rows = [line for line in seq.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert re.match(r"\| 1 \| trylock \| `page` \| nonlru_migrate\.mig:\d+ \| `if \(!trylock_page", rows[0])
    assert re.match(r"\| 2 \| lock \| `zs_class\.lock` \| nonlru_migrate\.mig:\d+ \| "
                    r"`if \(!mops_isolate_page", rows[1])


# ---------------------------------------------------------------- size, witnesses, atomics

ATOMICS = """
    int[0..3] refs = 0;
    int[0..3] plain = 0;
    int[0..3] mixed = 0;
    void atomic_inc(int[0..3] *v) { atomic { *v = *v + 1; } }
    thread a() { atomic_inc(&refs); int[0..3] r = refs; plain = 1; atomic_inc(&mixed); }
    thread b() { atomic_inc(&refs); plain = 2; int[0..3] m = mixed; mixed = m + 1; }
    scenario s { run a(); run b(); }
"""


def _document(path: Path, examples: bool = False, scenarios: list[str] | None = None) -> str:
    from checker.doc.command import spec_locks
    from checker.doc.locking import build_document
    from checker.doc.markdown import render_markdown
    from tests.conftest import systems

    sl = spec_locks(systems(path, scenarios=scenarios), 2_000_000, False)
    return render_markdown(build_document(sl, examples))


def test_atomic_accesses_are_classified_atomic_not_races(spec_file):
    """`refs` is only changed by an `atomic { }` block (the model's
    atomic_inc()) and read in one load: atomic, no race, no run. `plain` is
    two plain stores: a race. `mixed` is updated atomically by one thread and
    as a load and a store by the other: the plain store races."""
    from checker.locks.summary import summarize
    from tests.conftest import systems

    sl = summarize(systems(spec_file(ATOMICS)))
    rules = {f.name: f.by_scenario["s"] for f in sl.fields}
    assert rules["refs"].rule == "atomic" and not rules["refs"].races
    assert {(r.write.atomic, r.other.mode) for r in rules["refs"].atomics} == {(True, "write"),
                                                                              (True, "read")}
    assert rules["plain"].rule == "race"
    assert rules["mixed"].rule == "race"
    (race,) = rules["mixed"].races
    assert not (race.write.atomic and race.other.atomic)
    md = _document(spec_file(ATOMICS))
    atomic = md[md.index("### Atomic accesses"):md.index("### Accesses that hold no")]
    assert "| `refs` |" in atomic and "`plain`" not in atomic
    races = md[md.index("### Accesses that hold no"):]
    assert "`plain` (s)" in races and "`mixed` (s)" in races and "`refs`" not in races


def test_a_word_field_store_is_an_atomic_bit_operation(spec_file):
    """`bits.x = v` is one read-modify-write of the word (the language's
    set_bit()/clear_bit()): atomic. A load of the word and a later store of
    all of it (__set_bit()) races with the other thread's bit store."""
    from checker.locks.summary import summarize
    from tests.conftest import systems

    sl = summarize(systems(spec_file("""
        word w_t { bool x; bool y; };
        word w_t bits;
        word w_t mixbits;
        thread a() { bits.x = true; mixbits.x = true; }
        thread b() { bits.x = false; word w_t m = mixbits; m.y = true; mixbits = m; }
        scenario s { run a(); run b(); }
    """)))
    rules = {f.name: f.by_scenario["s"] for f in sl.fields}
    assert rules["bits.x"].rule == "atomic"
    assert rules["mixbits.x"].rule == "race"


TWO_SCENARIOS = """
    import "spinlock";
    spinlock_t l;
    int[0..3] x = 0;
    int[0..3] y = 0;
    thread good() { spin_lock(&l); x = 1; y = 1; spin_unlock(&l); }
    thread bad() { x = 2; spin_lock(&l); y = 2; spin_unlock(&l); }
    scenario one { run good(); run bad(); }
    scenario two { run bad(); run good(); }
"""


def test_one_folded_run_per_finding_and_every_run_with_examples(spec_file):
    """x races in both scenarios between the same two statements: one
    finding naming both scenarios, with one folded run; `--examples` gives
    the finding per scenario with a run to each access (four runs)."""
    path = spec_file(TWO_SCENARIOS)
    md = _document(path)
    races = md[md.index("### Accesses that hold no"):]
    assert races.count("**Race ") == 1 and "`x` (one, two): " in races
    assert races.count("<details>") == 1
    full = _document(path, examples=True)
    races = full[full.index("### Accesses that hold no"):]
    assert "`x` (one): " in races and "`x` (two): " in races
    assert races.count("<details>") == 4


def test_examples_flag_and_progress_lines(spec_file, capsys):
    from checker.cli import main

    path = str(spec_file(TWO_SCENARIOS))
    models = str(ROOT / "models")
    assert main(["doc", path, "-I", models, "--no-check"]) == 0
    plain = capsys.readouterr()
    assert main(["doc", path, "-I", models, "--no-check", "--examples", "--progress",
                 "-j", "1"]) == 0
    full = capsys.readouterr()
    assert plain.out.count("<details>") == 1 and full.out.count("<details>") == 4
    # Standard error is no terminal here: progress lines only when asked for.
    assert "migcheck doc:" not in plain.err
    assert "migcheck doc: lock search one (1/2)" in full.err
    assert "migcheck doc: lock search two (2/2)" in full.err
    # Two scenarios at a time, each in its own process: a line as each is done.
    assert main(["doc", path, "-I", models, "--no-check", "--examples", "--progress",
                 "-j", "2"]) == 0
    both = capsys.readouterr()
    assert both.out == full.out
    assert "migcheck doc: lock search: 2 scenarios, 2 jobs at a time" in both.err
    assert "migcheck doc: lock search: 2/2 scenarios done" in both.err


def test_runs_past_the_budget_are_left_to_examples(spec_file, monkeypatch):
    """Past the budget a finding keeps its line but not its run, and the
    document says how many runs it left out and how to get them."""
    import checker.doc.locking as locking

    monkeypatch.setattr(locking, "WITNESS_BUDGET", 1)
    md = _document(spec_file(TWO_SCENARIOS))
    assert "**Race 1**" in md and "<details>" not in md
    assert "1 more run is left out to keep this document short; `migcheck doc --examples` " \
           "shows every run." in md
    assert _document(spec_file(TWO_SCENARIOS), examples=True).count("<details>") == 4


# The default document must stay reviewable for every shipped spec. The
# specs whose lock search takes seconds run in `make test`; the others (a
# minute to several under load: 2 million states) under the slow marker.
SIZE_LIMIT = 200_000
FAST_SPECS = {"shapes/bitfield_rmw.mig", "shapes/callback_lock.mig", "shapes/chain_walk.mig",
              "shapes/lost_wakeup.mig", "shapes/nonatomic_flag_clear.mig",
              "shapes/softirq_free_under_plain_lock.mig", "shapes/teardown_vs_work.mig",
              "zsmalloc/map_vs_migrate.mig", "page_ext/page_owner_vs_offline.mig",
              "swap/swapoff_vs_swap_duplicate.mig"}
ALL_SPECS = sorted(str(p.relative_to(ROOT / "specs")) for p in (ROOT / "specs").rglob("*.mig"))


@pytest.mark.parametrize("spec", [
    pytest.param(s, marks=[] if s in FAST_SPECS else [pytest.mark.slow]) for s in ALL_SPECS])
def test_document_of_every_spec_is_under_the_size_limit(spec):
    from checker.doc.command import spec_locks
    from checker.doc.html import render_html
    from checker.doc.locking import build_document
    from checker.doc.markdown import render_markdown
    from tests.conftest import systems

    # The verdict column does not change the size: the fast ones skip `check`.
    sl = spec_locks(systems(ROOT / "specs" / spec), 2_000_000, spec not in FAST_SPECS)
    doc = build_document(sl)
    md, html = render_markdown(doc), render_html(doc)
    assert len(md.encode()) < SIZE_LIMIT and len(html.encode()) < SIZE_LIMIT, (len(md), len(html))
    # Every finding keeps its line; a document with races shows runs for some.
    if "**Race 1**" in md:
        assert "<details>" in md


def test_fast_specs_are_specs():
    assert set(ALL_SPECS) >= FAST_SPECS


def test_scenarios_on_processes_give_the_same_document():
    """`doc -j J` / `diff -j J`: each scenario checked and lock-searched in a
    forked process, the facts detached there (`LockFacts.detach`: every
    witness's path computed, the steps compiled again here). The document,
    with every example run, and the verdicts are those of one process."""
    from checker.doc.command import spec_locks
    from checker.doc.locking import build_document
    from checker.doc.markdown import render_markdown
    from tests.conftest import systems

    docs = []
    for jobs in (1, 3):
        sl = spec_locks(systems(ROOT / ZS), 2_000_000, True, jobs=jobs)
        docs.append((render_markdown(build_document(sl, True)),
                     {k: (r.verdict, r.stats.states) for k, r in sl.results.items()}))
        if jobs > 1:  # the facts came from the children, detached
            assert all(f.parent == {} and f.tracer is None for f in sl.facts.values())
            assert sum(len(f.paths) for f in sl.facts.values()) > 10
    assert docs[0] == docs[1] and len(docs[0][1]) > 1


def test_detach_keeps_the_path_of_every_witness():
    """`witnesses` lists every `Witness` the facts hold (found here by a walk
    over all their fields), so a detached fact answers every path."""
    import dataclasses

    from checker.locks.explore import LockFacts, Witness, witnesses
    from checker.locks.search import search_locks
    from tests.conftest import systems

    def walk(x: object, seen: set[Witness]) -> None:
        if isinstance(x, Witness):
            seen.add(x)
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            for f in dataclasses.fields(x):
                if f.name not in ("ts", "compiled", "parent", "tracer", "paths"):
                    walk(getattr(x, f.name), seen)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v, seen)
        elif isinstance(x, list | set | tuple | frozenset):
            for v in x:
                walk(v, seen)

    for ts in systems(ROOT / ZS):
        facts: LockFacts = search_locks(ts, 2_000_000)
        every: set[Witness] = set()
        walk(facts, every)
        assert set(witnesses(facts)) == every and every
        paths = {w.key: facts.path(w.key) for w in every}
        facts.detach()
        assert (facts.compiled, facts.tracer, facts.parent) == (None, None, {})
        assert {w.key: facts.path(w.key) for w in every} == paths
        assert facts.steps() is not None
