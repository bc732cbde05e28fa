# Cantata: `make demo` scans the shipped example library into a catalog; `make test` runs the tests.
# Both set up .venv (Debian packages, torch CPU, the package) on first use.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

demo: $(VENV)/.setup-base
	$(BIN)/cantata scan examples --db demo-out/catalog.db
	$(BIN)/cantata catalog ls --db demo-out/catalog.db
	$(BIN)/cantata search examples/kevin-macleod-vibe-ace-20s.ogg --start 6 --duration 6 \
		--db demo-out/catalog.db -k 3
	$(BIN)/cantata continue examples/karissa-hobbs-lets-go-fishin-30s.ogg --seconds 12 \
		--db demo-out/catalog.db -o demo-out/continued.wav --png demo-out/continued.png --overwrite

test: $(VENV)/.setup-dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q || [ $$? -eq 5 ]  # the fast tier; 5: no test selected
	if [ -n "$$CI" ] || [ "$$SLOW" = 1 ]; then $(BIN)/python -m pytest -q -m slow || [ $$? -eq 5 ]; fi

lint: $(VENV)/.setup-dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports

bench: $(VENV)/.setup-dev
	$(BIN)/python bench/audio_throughput.py --record docs/benchmarks.md
	$(BIN)/python bench/synth_throughput.py --record docs/benchmarks.md

$(VENV)/.setup-base: pyproject.toml scripts/setup.sh scripts/apt/base.txt
	scripts/setup.sh base
	touch $@

$(VENV)/.setup-dev: pyproject.toml scripts/setup.sh scripts/apt/base.txt scripts/apt/train.txt \
		scripts/apt/dev.txt
	scripts/setup.sh dev
	touch $@ $(VENV)/.setup-base

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build src/*.egg-info demo-out
