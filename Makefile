# Two commands on a fresh machine:  make build   and   make test
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: build compile test test-fast bench clean

$(STAMP): pyproject.toml scripts/install-system-deps tools/mjml-validator/package-lock.json
	bash scripts/install-system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	npm ci --prefix tools/mjml-validator --no-audit --no-fund --loglevel=error  # the official MJML validator, for the tests
	touch $(STAMP)

# sitegen's modules compiled, as pip compiles an installed package: an editable install where
# PYTHONDONTWRITEBYTECODE is set compiled every module again on every run (0.15 s a command); a module edited
# since is compiled again here (one that is not is only compiled in memory, as before). Then the packaged
# themes' templates (sitegen/precompile.py): a build loads them instead of compiling them (0.2 s of CPU)
compile: $(STAMP)
	$(BIN)/python -m compileall -q generator/sitegen
	$(BIN)/python -m sitegen.precompile

build: $(STAMP) compile
	$(BIN)/sitegen build

# Everything (what CI runs); the markers and the missing-tool policy are described in tests/README.md.
# Two workers, each test file on one worker: the example's PDFs are printed once, not once per worker.
test: $(STAMP) compile
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The quick lane for contributors (about a minute): no Chromium, nothing slow, no npm.
test-fast: $(STAMP) compile
	$(BIN)/python -m pytest -m "not browser and not slow and not node" -n auto

bench: $(STAMP)
	$(BIN)/python bench/bench_web.py
	$(BIN)/python bench/bench_send.py
	$(BIN)/python bench/bench_pdf.py
	$(BIN)/python bench/bench_serve.py
	$(BIN)/python bench/bench_crash.py
	$(BIN)/python bench/bench_ad.py
	$(BIN)/python bench/bench_fuzz.py --examples 200
	$(BIN)/python bench/bench_mutate.py --sites 200
	$(BIN)/python bench/bench_mutate.py --sites 30 --kind themes --pdf

clean:
	rm -rf $(VENV) build
