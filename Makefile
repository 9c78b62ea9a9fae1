# Two commands for a fresh machine: `make run` and `make test`.
# Everything is installed into .venv by these targets; nothing by hand.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-stamp
# Tests and screenshots draw offscreen; `make run` keeps the desktop's display.
HEADLESS = QT_QPA_PLATFORM=$${QT_QPA_PLATFORM:-offscreen}

.PHONY: install run test test-slow test-pythons lint bench screenshots clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m gloam.cli up

# The editor's end-to-end tests run in a process of their own: qasync loops and
# Qt objects left by other Qt tests in the same process made one of them crash.
# One test opens the editor in a real X server (Xvfb): the system packages it and the
# window need are installed first (as root with apt; otherwise the command is printed).
test: install
	$(PY) -m editor.platform_check --install --xvfb
	$(HEADLESS) $(PY) -m pytest -q
	$(HEADLESS) $(PY) -m pytest -q -m qt_e2e

# The whole suite on every Python the README promises, each in a venv of its own
# (.venv-3.11, ...). A version is found as pythonX.Y on the PATH, or under pyenv.
PYTHONS ?= 3.11 3.12 3.13
test-pythons:
	@for v in $(PYTHONS); do \
	  py=""; \
	  for c in python$$v $$HOME/.pyenv/versions/$$v*/bin/python$$v; do \
	    if $$c -c pass 2>/dev/null; then py=$$c; break; fi; \
	  done; \
	  if [ -z "$$py" ]; then echo "Python $$v is not installed: install it (or set PYTHONS)"; exit 1; fi; \
	  echo "== Python $$v ($$py)"; \
	  $(MAKE) --no-print-directory test VENV=.venv-$$v PYTHON=$$py || exit 1; \
	done

test-slow: install
	$(HEADLESS) $(PY) -m pytest -q -m slow

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The performance benchmarks (benchmarks/run_all.py lists them); writes docs/benchmarks.md and
# benchmarks/results.json.
bench: install
	$(PY) -m pip install -q -e '.[bench]'
	$(HEADLESS) $(PY) benchmarks/run_all.py

screenshots: install
	$(HEADLESS) $(PY) docs/screenshots/render.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
