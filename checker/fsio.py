"""Writing output files safely: every counterexample, report, document and
exported model migcheck writes goes through `write_text_atomic`.

Why: a trace directory comes from a checkout that may not be trusted
(`counterexamples/` is committed), and runs get killed or hit a full disk.

- Atomic: the text goes to a temporary file in the destination's directory,
  which is then renamed over the destination (`os.replace`). A kill or a
  failed write leaves the previous file as it was, never a truncated one.
- No writing through links: `os.replace` replaces a symlink at the
  destination with the new file; the file the link pointed to is untouched.
  (Only the last component is protected: a symlinked *directory* on the way
  is followed, as for any program.)

Errors are `OSError`s; callers that save a by-product (a trace while the run
goes on) report them as warnings, see `checker.cli`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) in one rename."""
    write_many_atomic([(Path(path), text)])


def write_many_atomic(files: Sequence[tuple[Path, str]]) -> None:
    """Write every file to a temporary sibling first, then rename them all:
    a failure while writing (disk full) leaves every destination unchanged,
    and the renames, done last, are quick (a trace's `.json` and `.txt`
    stay a pair unless the process dies between two renames)."""
    staged: list[tuple[str, Path]] = []
    mode = 0o666 & ~_umask()  # what open() would have given a new file
    try:
        for path, text in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
        while staged:
            tmp, path = staged[0]
            os.replace(tmp, path)
            staged.pop(0)
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_binary_atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Replace `path` with what `write` writes to a binary file, in one
    rename (a search's checkpoint: a kill while writing it leaves the
    previous one whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
