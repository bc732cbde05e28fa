# Cantata: `make demo` runs the main job on the shipped examples; `make test` runs the tests.
# Both set up .venv (Debian packages, torch CPU, the package) on first use.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

demo: $(VENV)/.setup-base
	$(BIN)/cantata info examples/*.ogg
	$(BIN)/cantata detect examples/*.ogg
	$(BIN)/cantata separate examples/karissa-hobbs-lets-go-fishin-30s.ogg -o demo-out --overwrite

test: $(VENV)/.setup-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q

lint: $(VENV)/.setup-dev
	$(BIN)/ruff check src tests bench

bench: $(VENV)/.setup-dev
	$(BIN)/python bench/audio_throughput.py --record docs/benchmarks.md
	$(BIN)/python bench/synth_throughput.py --record docs/benchmarks.md

$(VENV)/.setup-base: pyproject.toml scripts/setup.sh scripts/apt/base.txt
	scripts/setup.sh base
	touch $@

$(VENV)/.setup-dev: pyproject.toml scripts/setup.sh scripts/apt/base.txt scripts/apt/train.txt
	scripts/setup.sh dev
	touch $@ $(VENV)/.setup-base

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build src/*.egg-info demo-out
