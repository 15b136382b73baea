"""`migcheck doc`: the locking-rules document, Markdown and HTML."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
