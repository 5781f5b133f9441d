# jaeger_lite developer commands. A newcomer needs two: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-all bench lint typecheck clean thrift screenshots

# The venv is (re)built when pyproject.toml changes; each stamp records one install.
$(VENV)/.base: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.test: pyproject.toml requirements/test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[opentracing]' -r requirements/test.txt
	touch $@ $(VENV)/.base

demo: $(VENV)/.base ## run the instrumented example against the development agent
	$(BIN)/python examples/demo.py

test: $(VENV)/.test ## lint, type-check, run the whole suite and check branch coverage (floor: pyproject.toml)
	./scripts/setup-interop
	./scripts/setup-browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict jaeger_lite
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest -n 2
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

test-all: ## the suite on every CPython 3.9-3.13 found (one venv each: .venv-3.X)
	./scripts/test-all

bench: $(VENV)/.test ## benchmarks against the skeleton and the peers (installed into .bench/ on first run)
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_wire.py
	$(BIN)/python benchmarks/bench_otlp.py

screenshots: $(VENV)/.test ## refresh the web UI pictures under docs/ (from the browser test)
	./scripts/setup-browser
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/test_agent_web_ui.py -k screenshots

lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.test
	$(BIN)/mypy --strict jaeger_lite

clean:
	rm -rf $(VENV) .venv-3.* .bench build *.egg-info .mypy_cache .ruff_cache .hypothesis .coverage .coverage.*

thrift: ## regenerate jaeger_lite/_gen from jaeger_lite/idl (needs Debian's thrift-compiler)
	rm -rf jaeger_lite/_gen build/thrift-gen && mkdir -p build/thrift-gen
	thrift -r --gen py -out build/thrift-gen jaeger_lite/idl/agent.thrift
	mv build/thrift-gen/jaeger_lite/_gen jaeger_lite/_gen
	rm -f jaeger_lite/_gen/*/*-remote
	rm -rf build/thrift-gen
