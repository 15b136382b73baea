"""Which files are specs: `migcheck check DIR` and the pytest plugin check
every .mig file that declares a scenario; model libraries (modules without
one) are skipped, since checked alone they would only report the constants
their importers define."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

_SCENARIO = re.compile(r"^\s*scenario\s+\w+\s*\{", re.MULTILINE)


def has_scenarios(path: Path) -> bool:
    """Whether the file declares a scenario (a cheap textual look, no parse)."""
    try:
        return bool(_SCENARIO.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def expand_specs(given: Sequence[str]) -> list[str]:
    """The spec files named on the command line, each directory replaced by
    the .mig files below it that have a scenario, in sorted order; a file is
    kept as given (an error about it is the loader's)."""
    out: list[str] = []
    for g in given:
        p = Path(g)
        if p.is_dir():
            out.extend(str(f) for f in sorted(p.rglob("*.mig")) if f.is_file() and has_scenarios(f))
        else:
            out.append(g)
    return list(dict.fromkeys(out))
