"""Exact orbits of a symmetric scenario: the most a symmetry reduction can give.

Enumerates the scenario's plain state space (every successor, the Python
engine's expansion, no reduction), applies every permutation of its
symmetric groups to every state (`explore.symmetry.Canon.permute`: the
instances' slots moved, thread ids renamed) and counts the orbits, their
sizes, and the distinct representatives `Canon` gives. Plain states over
orbits bounds the reduction; representatives equal to orbits means the
reduced search stores one state per orbit. In Python, for scenarios of up
to a few hundred thousand states and groups of up to 4 or 5 threads.

    PYTHONPATH=. .venv/bin/python benchmarks/symmetry_orbits.py SPEC SCENARIO [-D NAME=VALUE]...
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.dsl.loader import load_program  # noqa: E402
from checker.explore.codegen import compile_system  # noqa: E402
from checker.explore.symmetry import Canon  # noqa: E402
from checker.ir.build import build_all  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", type=Path)
    ap.add_argument("scenario")
    ap.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME=VALUE")
    args = ap.parse_args()
    overrides = {k: int(v) for k, v in (d.split("=", 1) for d in args.defines)}
    program = load_program(args.spec, [ROOT / "models", args.spec.resolve().parent])
    ts = build_all(program, overrides, only=[args.scenario])[0]
    if not ts.symmetry or ts.pool_symmetry:
        print(f"{args.scenario}: symmetric runs only (no symmetric pools) are counted",
              file=sys.stderr)
        return 2
    c = compile_system(ts)
    canon = Canon(ts, c.packing)
    per_group = [[list(zip(g.threads, p, strict=True)) for p in itertools.permutations(g.threads)]
                 for g in ts.symmetry]
    perms = []  # `Canon`'s permutations: one renaming per domain, the threads' last
    for combo in itertools.product(*per_group):
        perm = canon.identity()
        for pairs in combo:
            for a, b in pairs:
                perm[-1][a] = b
        perms.append(perm)
    seen = {c.initial}
    todo = [c.initial]
    while todo:
        for t in c.expand(todo.pop()):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    least: set[int] = set()
    sizes: Counter[int] = Counter()
    for s in seen:
        orbit = {canon.permute(s, perm) for perm in perms}
        if (m := min(orbit)) not in least:
            least.add(m)
            sizes[len(orbit)] += 1
    reps = {canon(s) for s in seen}
    print(f"{args.scenario}: {len(seen):,} states, {len(least):,} orbits "
          f"(bound {len(seen) / len(least):.2f}x), {len(reps):,} representatives; "
          "orbits by size: " + ", ".join(f"{n:,} of {k}" for k, n in sorted(sizes.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
