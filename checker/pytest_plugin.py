"""A pytest plugin: every scenario of every spec is a test item.

    pytest specs/                 # each scenario of each .mig file under specs/

An item passes when its scenario meets its `expect` line (a search cut short
by a limit fails: incomplete is never verified); a failure shows the
counterexample. Scenario tags become markers (`tag slow;` -> `-m "not slow"`).

.mig files are collected when pytest is given paths on its command line, or
with `--migcheck` / the ini option `migcheck_collect = true`; a bare `pytest`
that runs its configured `testpaths` does not check specs twice in a project
whose own tests already do. Files without scenarios (model libraries) give no
items. Registered through the `pytest11` entry point as `migcheck`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.argtypes import positive_int
from checker.dsl.diagnostics import SpecError
from checker.dsl.loader import load_program
from checker.dsl.specfiles import has_scenarios
from checker.explore.codegen import compile_system
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.ir.build import build_all
from checker.trace.model import build_trace
from checker.trace.text import render
from checker.vm.tiered import default_engine


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migcheck", "migcheck specs")
    group.addoption("--migcheck", action="store_true",
                    help="collect .mig specs even when pytest runs its configured testpaths")
    group.addoption("--migcheck-max-states", type=positive_int, default=None, metavar="N",
                    help="stop each scenario's search after N states (it then fails)")
    group.addoption("--migcheck-include", action="append", default=[], metavar="DIR",
                    help="more module directories for imports (repeatable)")
    parser.addini("migcheck_collect", "collect .mig specs in every run", type="bool",
                  default=False)
    parser.addini("migcheck_include", "module directories for imports", type="paths",
                  default=[])


def _wanted(config: pytest.Config) -> bool:
    if config.getoption("migcheck") or config.getini("migcheck_collect"):
        return True
    return config.args_source == pytest.Config.ArgsSource.ARGS


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".mig" or not _wanted(parent.config):
        return None
    return SpecFile.from_parent(parent, path=file_path)


def _includes(config: pytest.Config) -> list[str | Path]:
    return [*config.getoption("migcheck_include"),
            *(str(p) for p in config.getini("migcheck_include"))]


class SpecFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        if not has_scenarios(self.path):
            return  # a model library: nothing to run
        try:
            systems = build_all(load_program(self.path, _includes(self.config)))
        except SpecError as e:
            yield SpecErrorItem.from_parent(self, name="<spec>", message=e.render())
            return
        except RecursionError:  # as `migcheck` reports it (checker.cli)
            yield SpecErrorItem.from_parent(self, name="<spec>", message=(
                f"{self.path}: error: the spec nests too deeply (an expression or "
                "statements nested hundreds of levels): split the expression or the statement"))
            return
        for ts in systems:
            item = ScenarioItem.from_parent(self, name=ts.scenario)
            for tag in ts.tags:
                self.config.addinivalue_line("markers", f"{tag}: migcheck scenario tag")
                item.add_marker(tag)
            yield item


class SpecErrorItem(pytest.Item):
    def __init__(self, *, message: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.message = message

    def runtest(self) -> None:
        raise ScenarioFailed(self.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "spec error"


class ScenarioFailed(Exception):
    pass


class ScenarioItem(pytest.Item):
    def runtest(self) -> None:
        ts = build_all(load_program(self.path, _includes(self.config)), only=[self.name])[0]
        opts = CheckOptions().max_states(self.config.getoption("migcheck_max_states"))
        r: CheckResult = check(ts, opts, engine=default_engine(opts.search))
        self.user_properties.append(("states", r.stats.states))
        if r.status == "met":
            return
        exp = ts.expect.kind + (f" '{ts.expect.name}'" if ts.expect.name else "")
        lines = [f"scenario {ts.scenario}: expected {exp}, got {r.verdict}"
                 + (f" ({r.limit})" if r.limit else "")]
        if r.status == "vacuous":
            lines += [f"cover never reached: \"{c.message}\" at {c.span}" for c in r.uncovered]
        lines += [f"unexpected warning '{w.name}' ({w.steps} steps) at {w.prop.span}"
                  for w in r.unexpected_warnings]
        lines += [f"expected warning '{x.name or '(any)'}' never fired"
                  for x in r.missing_warnings]
        if r.violation is not None:
            v = r.violation
            lines[0] += f": {v.kind}" + (f" '{v.name}'" if v.name else "") + f": {v.message}"
            trace = build_trace(r.compiled or compile_system(ts), v)
            lines += ["", render(trace)]
        raise ScenarioFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed | SpecError):
            return excinfo.value.render() if isinstance(excinfo.value, SpecError) \
                else str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name
