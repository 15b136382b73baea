# migcheck: the two commands of the README, and developer helpers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow fuzz lint setup bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,cluster]'
	touch $(STAMP)

setup: $(STAMP)

# The main job: check the default spec. It holds the fixed zsmalloc protocol
# and its historical bug side by side, so a new user sees both a verified run
# and a counterexample; every scenario meets its `expect`, so this exits 0.
run: $(STAMP)
	$(BIN)/migcheck check specs/zsmalloc/map_vs_migrate.mig

test: $(STAMP)
	$(BIN)/ruff check checker tests benchmarks
	$(BIN)/mypy
	$(BIN)/vulture
	$(BIN)/pytest -q -n auto

test-slow: $(STAMP)
	$(BIN)/pytest -q -n auto -m slow

# Long fuzzing of the command line (tests/test_fuzz.py): MIGCHECK_FUZZ_EXAMPLES
# inputs of each kind (default 5000); `make test` runs a small fixed sample.
fuzz: $(STAMP)
	$(BIN)/pytest -q -m fuzz tests/test_fuzz.py -x

lint: $(STAMP)
	$(BIN)/ruff check checker tests benchmarks
	$(BIN)/mypy
	$(BIN)/vulture

bench: $(STAMP)
	$(BIN)/python benchmarks/states_per_second.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
