"""The model library from a spec outside the repository: found with no -I,
listed by `migcheck models`, `extern` requirements reported once at the
import, `static` names private to their module, and a spec's own names
shadowing a library's."""

from __future__ import annotations

import re
from pathlib import Path

from checker.cli import main
from checker.dsl.library import library_dir, modules_in, purpose

ROOT = Path(__file__).resolve().parent.parent


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_spec_outside_the_repository_imports_the_library(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MIGCHECK_PATH", raising=False)
    spec = _write(tmp_path / "two_lockers.mig", """
        import "spinlock";
        spinlock_t l;
        thread t() { spin_lock(&l); spin_unlock(&l); }
        scenario s { run t(); run t(); }
    """)
    assert main(["check", str(spec)]) == 0
    assert "verified" in capsys.readouterr().out


def test_library_is_the_models_directory():
    lib = library_dir()
    assert lib is not None and lib.resolve() == (ROOT / "models").resolve()
    names = {m.name for m in modules_in(lib)}
    assert {"spinlock", "page", "nonlru_migrate", "zsmalloc_5_17"} <= names


def test_models_command_lists_purposes_and_needs(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  spinlock +spinlock_t: include/linux/spinlock\.h", out, re.M)
    assert "needs: const NR_PAGES, PAGE_REF_MAX; struct page_owner; struct page_mem" in out
    assert "$MIGCHECK_PATH" in out


def test_purpose_is_the_first_sentence_of_the_leading_comment():
    assert purpose("// One. Two.\n// Three.\nint x;\n") == "One."
    assert purpose("int x;\n") == "(no leading comment)"


def test_missing_requirements_are_one_error_at_the_import(tmp_path, capsys):
    spec = _write(tmp_path / "only_page.mig", 'import "page";\n')
    assert main(["list", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1, err
    first = err.splitlines()[0]
    assert first.startswith(f"{spec}:1:8: error: module 'page' needs the importing spec to "
                            "define: const NR_PAGES, const PAGE_REF_MAX, struct page_owner, "
                            "struct page_mem"), first


def test_transitive_requirements_point_at_the_root_import(tmp_path, capsys):
    spec = _write(tmp_path / "vm.mig", '\n\nimport "nonlru_migrate";\n')
    assert main(["list", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert err.startswith(f"{spec}:3:8: error: module 'nonlru_migrate' needs")
    assert "const NR_PAGES" in err and "procedure mops_migrate_page" in err


def test_an_unsatisfied_extern_in_the_root_spec(tmp_path, capsys):
    spec = _write(tmp_path / "root.mig", "extern const N;\n")
    assert main(["list", str(spec)]) == 2
    assert "root.mig:1:14: error: extern const 'N' is defined nowhere" in capsys.readouterr().err


_COUNTER = """
// A counter with a private helper.
static int[0..3] hits = 0;
int[0..3] pool = 0;
static void bump() { if (hits < 3) hits++; }
void add() { int[0..3] x = pool; bump(); if (pool < 3) pool = x + 1; }
thread compactor() { add(); }
"""


def test_a_spec_shadows_library_names_and_cannot_collide_with_private_ones(tmp_path, capsys):
    lib = tmp_path / "lib"
    lib.mkdir()
    _write(lib / "counter.mig", _COUNTER)
    spec = _write(tmp_path / "own_names.mig", """
        import "counter";
        int[0..3] hits = 0;          // the module's static 'hits' is another variable
        bool pool = false;           // shadows the module's 'pool' for this spec
        void bump() { pool = true; }
        thread compactor() { add(); bump(); }
        final mine: pool && hits == 0;
        scenario s { run compactor(); run compactor(); expect verified; }
    """)
    assert main(["check", str(spec), "-I", str(lib)]) == 0, capsys.readouterr()


def test_a_private_name_is_unknown_to_the_importer(tmp_path, capsys):
    lib = tmp_path / "lib"
    lib.mkdir()
    _write(lib / "counter.mig", _COUNTER)
    spec = _write(tmp_path / "peek.mig", 'import "counter";\nvoid f() { bump(); }\n')
    assert main(["list", str(spec), "-I", str(lib)]) == 2
    assert ("peek.mig:2:12: error: unknown procedure 'bump' (module 'counter' keeps it "
            "static)") in capsys.readouterr().err


def test_a_local_shadows_a_private_name_in_its_module(tmp_path, capsys):
    lib = tmp_path / "lib"
    lib.mkdir()
    _write(lib / "m.mig", """
        static int[0..3] n = 1;
        int[0..3] get() { int[0..3] r = n; { int[0..3] n = 2; r = n; } return r; }
    """)
    spec = _write(tmp_path / "s.mig", """
        import "m";
        int[0..3] n = 3;
        int[0..3] got = 0;
        thread t() { got = get(); }
        final two: got == 2 && n == 3;
        scenario s { run t(); expect verified; }
    """)
    assert main(["check", str(spec), "-I", str(lib)]) == 0, capsys.readouterr()


def test_inline_applies_to_procedures_only(tmp_path, capsys):
    spec = _write(tmp_path / "q.mig", "inline const N = 1;\n")
    assert main(["list", str(spec)]) == 2
    assert "'inline' applies to procedures only" in capsys.readouterr().err


def data_include(root: Path) -> list[str]:
    import tomllib

    found = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    return list(found["packages"]["find"]["include"])


def test_the_build_ships_the_library_as_package_data():
    # A plain `pip install .` (checked by hand: site-packages/checker/models/*.mig)
    # relies on these two settings; keep them together.
    import tomllib

    link = ROOT / "checker" / "models"
    assert link.is_symlink() and link.resolve() == (ROOT / "models").resolve()
    assert data_include(ROOT) == ["checker*"]
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert data["package-data"]["checker.models"] == ["*.mig"]
    assert (ROOT / "models" / "__init__.py").is_file()


def test_models_lists_migcheck_path_directories(tmp_path, monkeypatch, capsys):
    extra = tmp_path / "mine"
    extra.mkdir()
    _write(extra / "rcu.mig", "// RCU, reduced to what my driver needs. More.\nextern const N;\n")
    monkeypatch.setenv("MIGCHECK_PATH", str(extra))
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert f"$MIGCHECK_PATH: {extra}" in out
    assert re.search(r"^  rcu +RCU, reduced to what my driver needs\.$", out, re.M)
    assert "needs: const N" in out
