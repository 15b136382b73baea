"""`migcheck export --promela SPEC`: the command line of the Promela export.

    migcheck export --promela SPEC [-s SCENARIO]... [-D NAME=VALUE]... [-o FILE.pml]
                    [--all-violations]

One file per scenario: with several scenarios, `-o out.pml` writes
`out.SCENARIO.pml` for each; without `-o`, the one scenario's model goes to
standard output. Exit status 0, or 2 for a usage or spec error.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from checker.backends.promela import export
from checker.dsl.loader import load_program
from checker.ir.build import build_all
from checker.sema.check import parse_override

EXIT_OK, EXIT_USAGE = 0, 2


def add_export_parser(sub: Any, spec_args: Callable[[argparse.ArgumentParser], None]) -> None:
    e = sub.add_parser("export", help="write a scenario as a Promela model for SPIN")
    spec_args(e)
    e.add_argument("--promela", action="store_true", required=True,
                   help="the output format (the only one so far)")
    e.add_argument("-o", "--output", metavar="FILE.pml",
                   help="where to write (default: standard output, for one scenario)")
    e.add_argument("--all-violations", action="store_true",
                   help="report every violation (default: as `check`, only the one a "
                        "scenario expects, when it expects one)")


def cmd_export(args: argparse.Namespace, out: Console, err: Console) -> int:
    overrides: dict[str, int] = {}
    for d in args.defines:
        name, value = parse_override(d)
        overrides[name] = value
    program = load_program(args.spec, args.include)
    systems = build_all(program, overrides, args.scenario or None)
    if len(systems) > 1 and not args.output:
        err.print("migcheck export: the spec has several scenarios: choose one with -s, "
                  "or give -o FILE.pml (one file per scenario)", highlight=False)
        return EXIT_USAGE
    for ts in systems:
        model = export(ts, None if args.all_violations else "default")
        if not args.output:
            print(model.text, end="")
            continue
        path = Path(args.output)
        if len(systems) > 1:
            path = path.with_name(f"{path.stem}.{ts.scenario}{path.suffix or '.pml'}")
        try:
            model.write(path)
        except OSError as e:
            err.print(f"migcheck: cannot write {path}: {e.strerror or e}", highlight=False)
            return EXIT_USAGE
        err.print(f"wrote {path} (scenario {ts.scenario})", highlight=False)
    return EXIT_OK
