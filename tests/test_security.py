"""Untrusted specs and trace files: what migcheck guarantees (README, "Security").

Each test builds the hostile input the reliability probe described and
asserts the defense holds; removing the defense makes the test fail.
"""

from __future__ import annotations

import errno
import io
import json
import re
import subprocess
import tempfile
import tokenize
from pathlib import Path
from xml.etree import ElementTree

import pytest

from checker import fsio
from checker.cli import main
from checker.dsl.loader import load_program
from checker.explore.codegen import compile_system
from checker.ir.build import build_all
from tests.test_pytest_plugin import pytest_run

# A file or directory name that, pasted raw into a line of generated Python,
# ends the line and runs a command.
# The marker is relative: the tests run with the temporary directory as cwd.
PAYLOAD = "x\n    __import__('os').system('touch MARKER')\n    #"

SMALL = """\
int[0..3] g = 0;
thread t() { g = 1; if (g == 1) { g = 2; } else { g = 3; } }
scenario s { run t(); run t(); }
"""


def _evil_spec(root: Path, marker: Path, in_dir: bool) -> Path:
    name = PAYLOAD
    if in_dir:
        d = root / name
        d.mkdir(parents=True)
        spec = d / "a.mig"
    else:
        root.mkdir(parents=True, exist_ok=True)
        spec = root / (name + ".mig")
    spec.write_text(SMALL)
    return spec


# ------------------------------------------------------------ 1. generated code

def test_generated_source_holds_a_spec_path_only_as_a_literal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    spec = _evil_spec(tmp_path, marker, in_dir=False)
    (ts,) = build_all(load_program(str(spec)), {}, None)
    c = compile_system(ts)
    for source in (c.source, c._step_source):
        names = {t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
                 if t.type == tokenize.NAME}
        assert "__import__" not in names and "system" not in names
        for line in source.splitlines():
            assert not line.lstrip().startswith("__import__"), line
    for step in c.step:  # the per-action step functions are compiled and run too
        step(c.initial)
    assert c.expand(c.initial)
    assert not marker.exists()


@pytest.mark.parametrize("in_dir", [False, True], ids=["file", "directory"])
@pytest.mark.parametrize("command", [
    ["check", "--no-save"],
    ["check", "--engine", "bmc", "--depth", "4", "--no-save"],
    ["doc"],
    ["mutate"],
    ["prove", "--seconds", "20"],
    ["diff"],
])
def test_no_command_runs_code_from_a_spec_path(tmp_path, monkeypatch, capsys, command, in_dir):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    spec = _evil_spec(tmp_path / "w", marker, in_dir)
    if command[0] == "check" and "bmc" in command:
        # A violation, so the BMC counterexample is rebuilt with compiled steps.
        spec.write_text(SMALL.replace("g = 2; }", "g = 2; assert(g != 2, \"two\"); }"))
    args = [command[0], str(spec), *command[1:]]
    if command[0] == "diff":
        args = ["diff", str(spec), str(spec)]
    rc = main(args)
    assert rc in (0, 1, 3), capsys.readouterr()
    assert not marker.exists()


def test_the_pytest_plugin_runs_no_code_from_a_directory_name(tmp_path):
    marker = tmp_path / "MARKER"
    _evil_spec(tmp_path / "specs", marker, in_dir=True)
    r = pytest_run(tmp_path, "specs")
    assert "1 passed" in r.stdout, r.stdout + r.stderr
    assert not marker.exists()


# ------------------------------------------------------------ 2. output files

THREE = """\
int[0..3] g = 0;
thread t() { g = 1; assert(g == 0, "x'; echo PWNED > PWNED_marker; '"); }
thread u() { g = 2; }
scenario a { run t(); }
scenario b { run u(); }
scenario c { run t(); }
"""


def test_a_symlink_at_the_trace_path_is_replaced_not_written_through(tmp_path, capsys):
    spec = tmp_path / "specs" / "evil.mig"
    spec.parent.mkdir()
    spec.write_text(THREE)
    victim = tmp_path / "victim_rc"
    victim.write_text("original\n")
    cx = tmp_path / "cx" / "specs"
    cx.mkdir(parents=True)
    for suffix in ("json", "txt"):
        (cx / f"evil.a.{suffix}").symlink_to(victim)
    html = tmp_path / "v.html"
    html.symlink_to(victim)
    rc = main(["check", str(spec), "-s", "a", "--trace-dir", str(tmp_path / "cx"),
               "--html", str(html)])
    assert rc == 1
    assert victim.read_text() == "original\n"
    for p in (cx / "evil.a.json", cx / "evil.a.txt", html):
        assert p.is_file() and not p.is_symlink()
    assert "PWNED" in (cx / "evil.a.txt").read_text()  # the trace itself was written
    doc = tmp_path / "d.md"
    doc.symlink_to(victim)
    assert main(["doc", str(spec), "-o", str(doc)]) == 0
    assert victim.read_text() == "original\n" and "# " in doc.read_text()


def test_a_failed_save_is_a_warning_and_every_scenario_is_still_reported(tmp_path, capsys):
    spec = tmp_path / "s.mig"
    spec.write_text(THREE)
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")  # the trace directory's parent is a file: mkdir fails (even as root)
    rc = main(["check", str(spec), "--trace-dir", str(blocker / "cx"), "--format", "junit",
               "--html", str(blocker / "v.html")])
    out, err = capsys.readouterr()
    assert rc == 1  # the verdicts' status: unexpected violations, not an internal error
    assert err.count("warning: could not write") == 3, err  # two traces and the viewer
    assert "internal error" not in err
    suite = ElementTree.fromstring(out)
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert len(cases) == 3, list(cases)


def test_a_disk_full_save_keeps_the_previous_trace(tmp_path, monkeypatch, capsys):
    spec = tmp_path / "s.mig"
    spec.write_text(THREE)
    cx = tmp_path / "cx"
    assert main(["check", str(spec), "-s", "a", "--trace-dir", str(cx)]) == 1
    saved = cx / tmp_path.name / "s.a.json"
    before = saved.read_text()
    spec.write_text(THREE.replace("g = 1;", "g = 1; g = 1;"))

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(fsio.os, "fsync", full)
    assert main(["check", str(spec), "--trace-dir", str(cx)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert saved.read_text() == before
    assert sorted(p.name for p in saved.parent.iterdir()) == ["s.a.json", "s.a.txt"]


def test_the_atomic_writer_leaves_the_old_files_when_a_write_fails_midway(tmp_path,
                                                                         monkeypatch):
    a, b = tmp_path / "a.json", tmp_path / "a.txt"
    a.write_text("old a")
    b.write_text("old b")
    real = fsio.os.fdopen
    calls = []

    def failing_fdopen(fd: int, *args: object, **kw: object) -> object:
        f = real(fd, *args, **kw)  # type: ignore[call-overload]
        calls.append(fd)
        if len(calls) == 2:  # the second file: some bytes written, then the disk is full
            f.write("partial")
            f.flush()

            class Full:
                def __enter__(self) -> object:
                    return self

                def __exit__(self, *exc: object) -> None:
                    f.close()

                def write(self, _: str) -> None:
                    raise OSError(errno.ENOSPC, "No space left on device")
            return Full()
        return f
    monkeypatch.setattr(fsio.os, "fdopen", failing_fdopen)
    with pytest.raises(OSError):
        fsio.write_many_atomic([(a, "new a"), (b, "new b")])
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.txt"]  # no temp left
    monkeypatch.undo()
    fsio.write_many_atomic([(a, "new a"), (b, "new b")])
    assert a.read_text() == "new a" and b.read_text() == "new b"


# ------------------------------------------------------------ 3. diff REV:path

def _git(repo: Path, *a: str, stdin: str | None = None) -> str:
    r = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a], cwd=repo,
                       input=stdin, capture_output=True, text=True, check=True)
    return r.stdout.strip()


def test_diff_never_writes_outside_its_temporary_tree(tmp_path, monkeypatch, capsys):
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    (repo / "specs" / "x.mig").write_text(SMALL)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "one")
    # A tree holding zz/../../PWNED.mig: entries literally named '..' (git mktree
    # accepts them; only fsck complains). Extracted naively, the file lands two
    # levels above the temporary tree.
    blob = _git(repo, "hash-object", "-w", "specs/x.mig")
    t_pwn = _git(repo, "mktree", stdin=f"100644 blob {blob}\tPWNED_traversal.mig\n")
    t_dd = _git(repo, "mktree", stdin=f"040000 tree {t_pwn}\t..\n")
    t_d = _git(repo, "mktree", stdin=f"040000 tree {t_dd}\t..\n")
    specs = _git(repo, "rev-parse", "HEAD:specs")
    root = _git(repo, "mktree", stdin=f"040000 tree {specs}\tspecs\n040000 tree {t_d}\tzz\n")
    commit = _git(repo, "commit-tree", root, "-m", "evil")
    monkeypatch.chdir(repo)
    tmp_root = tmp_path / "systmp"
    tmp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_root))
    rc = main(["diff", f"{commit}:specs/x.mig", "specs/x.mig"])
    err = capsys.readouterr().err
    assert rc == 2 and "unsafe file name 'zz/../../PWNED_traversal.mig'" in err, err
    assert list(tmp_path.rglob("PWNED_traversal.mig")) == []
    assert list(tmp_root.iterdir()) == []  # the partial extraction was removed
    # A well-formed revision still works.
    assert main(["diff", "HEAD:specs/x.mig", "specs/x.mig"]) == 0


def test_a_revision_cannot_be_an_option(tmp_path, monkeypatch, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "x.mig").write_text(SMALL)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "one")
    monkeypatch.chdir(repo)
    out = tmp_path / "out.txt"
    assert main(["diff", "--", f"--output={out}:x.mig", "x.mig"]) == 2
    assert "is not a revision" in capsys.readouterr().err
    assert not out.exists()


# ------------------------------------------------------------ 4. module search

USES_HELPER = 'import "helper_mod";\nthread t() { h = 1; }\nscenario s { run t(); }\n'


def _load_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["list", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    return err


def test_models_of_ancestor_directories_are_not_searched(tmp_path, monkeypatch, capsys):
    # Another user's models/ at the top of a shared directory.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "helper_mod.mig").write_text("int[0..1] h = 0;\n")
    spec = tmp_path / "a" / "b" / "spec.mig"
    spec.parent.mkdir(parents=True)
    spec.write_text(USES_HELPER)
    err = _load_error(capsys, str(spec))
    assert "cannot find module 'helper_mod'" in err
    # The roots the user names still work: -I and $MIGCHECK_PATH.
    assert main(["list", str(spec), "-I", str(tmp_path / "models")]) == 0
    monkeypatch.setenv("MIGCHECK_PATH", str(tmp_path / "models"))
    assert main(["list", str(spec)]) == 0


def test_the_shipped_model_library_is_found_from_anywhere(tmp_path, monkeypatch):
    spec = tmp_path / "spec.mig"
    spec.write_text('import "spinlock";\nspinlock_t l;\n'
                    'thread t() { spin_lock(&l); spin_unlock(&l); }\nscenario s { run t(); }\n')
    monkeypatch.delenv("MIGCHECK_PATH", raising=False)
    assert main(["check", str(spec), "--no-save"]) == 0


@pytest.mark.parametrize("name", ["/etc/passwd", "../x/helper_mod", "sub/../../helper_mod"])
def test_absolute_and_dotdot_imports_are_refused_at_the_import(tmp_path, capsys, name):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "helper_mod.mig").write_text("int[0..1] h = 0;\n")
    spec = tmp_path / "d" / "spec.mig"
    spec.parent.mkdir()
    spec.write_text(USES_HELPER.replace("helper_mod", name))
    err = _load_error(capsys, str(spec))
    assert "spec.mig:1:8: error: import" in err and "may not be an absolute path nor contain '..'" in err


SECRET = "root:SECRET-HASH:20228:0:99999:7:::\n"


def test_a_module_linked_out_of_the_search_roots_is_not_read(tmp_path, capsys):
    secret = tmp_path / "outside" / "shadow"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    d = tmp_path / "specs"
    d.mkdir()
    (d / "shadow.mig").symlink_to(secret)
    spec = d / "spec.mig"
    spec.write_text(USES_HELPER.replace("helper_mod", "shadow"))
    err = _load_error(capsys, str(spec))
    assert "link leading outside the module search path" in err and "SECRET" not in err
    # Even a .mig file outside the roots, through a link.
    secret.rename(secret.with_suffix(".mig"))
    (d / "shadow.mig").unlink()
    (d / "shadow.mig").symlink_to(secret.with_suffix(".mig"))
    err = _load_error(capsys, str(spec))
    assert "link leading outside" in err and "SECRET" not in err


def test_only_mig_files_are_read(tmp_path, capsys):
    secret = tmp_path / "passwd"
    secret.write_text(SECRET)
    err = _load_error(capsys, str(secret))
    assert "is not a .mig spec file" in err and "SECRET" not in err
    link = tmp_path / "innocent.mig"
    link.symlink_to(secret)
    err = _load_error(capsys, str(link))
    assert "is not a .mig spec file" in err and "SECRET" not in err


def test_a_file_that_is_not_utf8_is_a_diagnostic(tmp_path, capsys):
    spec = tmp_path / "non_utf8.mig"
    spec.write_bytes(b"int[0..1] g;\nint[0..1] \xff h;\n")
    err = _load_error(capsys, str(spec))
    assert "non_utf8.mig:2:11: error: the file is not valid UTF-8 (byte 0xff at offset 23)" in err
    # An imported module too, and a BOM is simply skipped.
    main_spec = tmp_path / "m.mig"
    main_spec.write_bytes(b'\xef\xbb\xbfimport "non_utf8";\nscenario s { }\n')
    err = _load_error(capsys, str(main_spec))
    assert "non_utf8.mig:2:11: error: the file is not valid UTF-8" in err
    spec.write_bytes(b"\xef\xbb\xbfint[0..1] g;\nthread t() { g = 1; }\n")
    main_spec.write_bytes(b'\xef\xbb\xbfimport "non_utf8";\nscenario s { run t(); }\n')
    assert main(["list", str(main_spec)]) == 0


def test_replay_refuses_a_trace_naming_a_file_that_is_not_a_spec(tmp_path, capsys):
    spec = tmp_path / "s.mig"
    spec.write_text(THREE)
    cx = tmp_path / "cx"
    assert main(["check", str(spec), "-s", "a", "--trace-dir", str(cx)]) == 1
    saved = cx / tmp_path.name / "s.a.json"
    assert main(["replay", str(saved)]) == 0
    secret = tmp_path / "passwd"
    secret.write_text(SECRET)
    capsys.readouterr()
    for target in (secret, "/etc/passwd"):
        data = json.loads(saved.read_text())
        data["spec"] = str(target)
        saved.write_text(json.dumps(data))
        assert main(["replay", str(saved)]) == 2
        err = capsys.readouterr().err
        assert "is not a .mig spec file" in err and "SECRET" not in err and "root:" not in err


# ------------------------------------------------------------ 5. what spec text becomes

CONTROL_MSG = "bad\x01 \x1b[31mRED\x1b]0;title\x07 end"
HOSTILE = f"""\
// <!--<script>
int[0..3] g = 0;
thread t() {{ g = 1; assert(g == 0, "{CONTROL_MSG}"); }}
thread u() {{ g = 1; assert(g == 0, "</script><!--<script> <svg onload=alert(1)> | & x"); }}
scenario a {{ run t(); }}
scenario b {{ run u(); expect assert "</script><!--<script> <svg onload=alert(1)> | & x"; }}
"""


def _data_block(page: str) -> str:
    start = page.index('<script type="application/json" id="migcheck-data">')
    body = page[page.index(">", start) + 1:]
    return body[:body.index("</script>")]


def test_the_viewer_data_block_holds_no_markup(tmp_path, capsys):
    spec = tmp_path / "h.mig"
    spec.write_text(HOSTILE)
    page = tmp_path / "v.html"
    main(["check", str(spec), "--no-save", "--html", str(page)])
    text = page.read_text()
    data = _data_block(text)
    # The block ends at the real </script>: nothing inside can open a comment,
    # a tag or an end tag, and the whole page keeps exactly its two scripts.
    assert "<" not in data and ">" not in data and "&" not in data
    assert text.count("</script>") == 2
    parsed = json.loads(data)
    blob = json.dumps(parsed, ensure_ascii=False)
    assert "</script><!--<script> <svg onload=alert(1)>" in blob  # shown, as text
    assert "<!--<script>" in blob  # the comment line is in the source listing


ALLOWED_TAGS = {"<details>", "</details>", "<summary>", "</summary>", "<br/>", "<i>", "</i>"}


def test_markdown_documents_escape_raw_html(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "d<img src=x onerror=alert(1)>"
    d.mkdir()
    spec = d / "e<svg onload=alert(2)>.mig"
    spec.write_text(HOSTILE)
    assert main(["doc", str(spec.relative_to(tmp_path))]) == 0
    md = capsys.readouterr().out
    tags = set(re.findall(r"</?[A-Za-z][^>]*>", md))
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert "e&lt;svg onload=alert(2)&gt;.mig" in md
    assert "\x1b" not in md and "\\x1b" in md
    # Pipes in a table cell stay inside the cell.
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and "svg onload=alert(1)" in ln]
    assert rows and all("\\|" in r for r in rows)


def test_terminal_output_spells_out_control_characters(tmp_path, capsys):
    spec = tmp_path / "c.mig"
    spec.write_text(HOSTILE)
    assert main(["check", str(spec), "-s", "a", "--trace-dir", str(tmp_path / "cx")]) == 1
    out, err = capsys.readouterr()
    assert "\\x1b[31mRED\\x1b]0;title" in out
    assert "\x1b" not in out + err and "\x07" not in out + err and "\x01" not in out + err
    saved = tmp_path / "cx" / tmp_path.name / "c.a.txt"
    txt = saved.read_text()
    assert "\\x1b[31mRED" in txt and "\x1b" not in txt
    assert main(["replay", str(saved.with_suffix(".json"))]) == 0
    out, _ = capsys.readouterr()
    assert "\\x1b[31m" in out and "\x1b" not in out
    # Diagnostics quote the offending line with the controls spelled out.
    spec.write_text(HOSTILE.replace("g = 1; assert", "g = ; assert", 1))
    assert main(["list", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "c.mig:3:18: error" in err and "\\x1b[31mRED" in err and "\x1b" not in err


def test_junit_reports_are_well_formed_whatever_the_messages(tmp_path, capsys):
    spec = tmp_path / "j.mig"
    spec.write_text(HOSTILE)
    assert main(["check", str(spec), "--trace-dir", str(tmp_path / "cx"),
                 "--format", "junit"]) == 1
    out = capsys.readouterr().out
    suite = ElementTree.fromstring(out)
    failure = next(suite.iter("failure"))
    assert "\\x1b[31mRED" in (failure.get("message") or "") + (failure.text or "")
    saved = tmp_path / "cx" / tmp_path.name / "j.a.json"
    assert main(["replay", str(saved), "--format", "junit"]) == 0
    ElementTree.fromstring(capsys.readouterr().out)


def test_promela_comments_cannot_be_closed_by_spec_text(tmp_path, monkeypatch, capsys):
    # SPIN runs cpp: a backslash-newline in a file name would splice "*" and
    # "/" into the end of the comment, and the rest would be Promela (c_code).
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "x*\\\n" / " c_code { PWNED(); } "  # the path's '/' ends the splice
    d.mkdir(parents=True)
    spec = d / "p.mig"
    # ... and an assert message (the property's name) closing a comment itself.
    spec.write_text(SMALL.replace("g = 2; }", 'g = 2; assert(g != 2, "*/ c_code { PWNED2(); } /*"); }')
                    .replace("scenario s {", 'scenario s { expect assert "*\\\\";'))
    assert main(["export", "--promela", str(spec)]) == 0
    text = capsys.readouterr().out
    spliced = text.replace("\\\n", "")
    code = re.sub(r"/\*.*?\*/", "", spliced, flags=re.S)
    assert "PWNED()" in text and "PWNED2" in text
    assert "PWNED" not in code


def test_a_trace_cannot_make_the_viewer_quote_another_file(tmp_path, capsys):
    spec = tmp_path / "s.mig"
    spec.write_text(THREE)
    cx = tmp_path / "cx"
    assert main(["check", str(spec), "-s", "a", "--trace-dir", str(cx)]) == 1
    saved = cx / tmp_path.name / "s.a.json"
    secret = tmp_path / "id_rsa"
    secret.write_text(SECRET)
    link = tmp_path / "key.mig"
    link.symlink_to(secret)
    data = json.loads(saved.read_text())
    data["steps"][0]["file"] = str(secret)
    data["steps"][-1]["file"] = str(link)
    saved.write_text(json.dumps(data))
    page = tmp_path / "v.html"
    main(["replay", str(saved), "--html", str(page)])
    assert page.is_file() and "SECRET" not in page.read_text()


@pytest.mark.parametrize("command", [["diff", "{old}", "{spec}"], ["export", "--promela", "{spec}",
                                     "-s", "a"], ["doc", "{spec}"]])
def test_other_commands_print_no_raw_control_characters(tmp_path, capsys, command):
    spec = tmp_path / "c.mig"
    spec.write_text(f"""\
int[0..3] g = 0;
thread t() {{ g = 1; assert(g == 0, "{CONTROL_MSG}"); }}
scenario a {{ run t(); expect assert "{CONTROL_MSG}"; }}
scenario b {{ run t(); }}
""")
    old = tmp_path / "old.mig"  # for diff: b held before, now its assert fails
    old.write_text(spec.read_text().replace("assert(g == 0", "assert(g < 9"))
    main([c.format(spec=spec, old=old) for c in command])
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\\x1b" in out
