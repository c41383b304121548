# geonews: `make run` to use it, `make test` to check it. Both set up .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: setup test-setup run test lint format bench chromium clean-venv

# Idempotent install: re-runs pip only when a requirements file changed.
$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed
	$(PY) -m geonews build-gazetteer

test-setup: setup $(VENV)/.installed-dev chromium

# The browser test drives Debian's chromium. Installed when we are root and it is missing;
# otherwise the browser test is skipped and says why.
chromium:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped"; \
	else \
		echo "chromium missing and not root: the browser test will be skipped (apt-get install chromium)"; \
	fi

run: setup
	$(PY) -m geonews ingest sample_data/articles.jsonl
	$(PY) -m geonews serve --port $(PORT)

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: test-setup
	$(PY) -m pytest
	$(MAKE) --no-print-directory lint

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
