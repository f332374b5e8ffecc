# Two commands: `make demo` and `make test`. Each sets up .venv from this checkout first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= results/pyongyang

.PHONY: demo test lint bench bench-mesa fuzz clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "minders needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dashboard,distributed,calibrate,report]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/minders run scenarios/pyongyang.toml --out $(OUT)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check src tests benchmarks

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_engine.py

bench-mesa: $(VENV)/.installed-test
	$(BIN)/python benchmarks/vs_mesa.py

clean:
	rm -rf $(VENV) results .pytest_cache

# Long fuzz run (10,000 generated cases by default; MINDERS_FUZZ_CASES=N to change):
# writes benchmarks/results/fuzz.json (see docs/fuzzing.md).
MINDERS_FUZZ_CASES ?= 10000
fuzz: $(VENV)/.installed-test
	MINDERS_FUZZ_CASES=$(MINDERS_FUZZ_CASES) $(BIN)/python -m tests.fuzz
