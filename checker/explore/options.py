"""Options of an explicit-state run, built fluently:

    CheckOptions().strategy("dfs").max_states(10**6).max_seconds(60)
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CheckOptions:
    search: str = "bfs"  # bfs (shortest counterexample) or dfs
    state_limit: int | None = None
    seconds_limit: float | None = None
    memory_limit_mb: float | None = None
    check_livelock: bool = True
    progress: bool = False
    few_switches: bool = True  # re-choose a shortest counterexample with the fewest thread switches
    # The VM's visited set (checker/vm/store.py): dense rows, the compressed
    # tree, or auto (dense, then the tree once the rows would pass 256 MiB).
    store: str = "auto"
    # --all-violations: search on past every violation, keep a shortest run
    # of each property (checker.explore.properties).
    all_violations: bool = False
    # --property: check only these (names from checker.explore.properties); None: all.
    properties: tuple[str, ...] | None = None
    # Symmetry reduction of `symmetric` runs (checker.explore.symmetry); off:
    # the same scenario searched state by state (--no-symmetry).
    symmetry: bool = True
    # --por: partial-order reduction of the breadth-first search (checker/ir/por.py)
    por: bool = False
    # --checkpoint FILE, every `checkpoint_every` seconds (checker/vm/checkpoint.py)
    checkpoint: str | None = None
    checkpoint_every: float = 600.0
    resumed: bool = False  # --resume: the search goes on from a checkpoint
    # Symmetric pools whose reduction the allocator watch dropped (set by
    # `explore.run` for the search it runs again): its checkpoints say so.
    unreduced: tuple[tuple[str, str], ...] = ()  # (pool, why)

    def strategy(self, name: str) -> CheckOptions:
        if name not in ("bfs", "dfs"):
            raise ValueError(f"unknown search strategy {name!r}")
        return replace(self, search=name)

    def checkpointed(self, path: str | None, every: float = 600.0,
                     resumed: bool = False) -> CheckOptions:
        return replace(self, checkpoint=path, checkpoint_every=every, resumed=resumed)

    def reduced(self, on: bool = True) -> CheckOptions:
        return replace(self, por=on)

    def max_states(self, n: int | None) -> CheckOptions:
        return replace(self, state_limit=n)

    def max_seconds(self, s: float | None) -> CheckOptions:
        return replace(self, seconds_limit=s)

    def max_memory(self, mb: float | None) -> CheckOptions:
        return replace(self, memory_limit_mb=mb)

    def livelock(self, on: bool) -> CheckOptions:
        return replace(self, check_livelock=on)

    def fewest_switches(self, on: bool) -> CheckOptions:
        return replace(self, few_switches=on)

    def store_form(self, form: str) -> CheckOptions:
        if form not in ("auto", "dense", "tree"):
            raise ValueError(f"unknown store form {form!r}")
        return replace(self, store=form)

    def every_violation(self, on: bool) -> CheckOptions:
        return replace(self, all_violations=on)

    def only_properties(self, names: tuple[str, ...] | None) -> CheckOptions:
        return replace(self, properties=names or None)

    def use_symmetry(self, on: bool) -> CheckOptions:
        return replace(self, symmetry=on)

    def show_progress(self, on: bool) -> CheckOptions:
        return replace(self, progress=on)
