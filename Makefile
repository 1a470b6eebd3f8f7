# EMP: two commands on a fresh machine with Python 3.11.
#   make run   sets up the environment and refreshes every bundled profile
#   make test  sets up the environment and runs the test suite (CI also runs make test-slow)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: setup system-deps run test test-slow lint dev clean

setup: system-deps $(VENV)/.installed

# From Debian: chromium renders the HTML profile in the tests (headless); Pango and fonts with
# Arabic and Georgian letters let WeasyPrint print the PDF edition; poppler-utils (pdftotext,
# pdfinfo) reads the PDFs back in the tests. Installed once, where missing.
SYSTEM_PACKAGES = chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-noto-core poppler-utils
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# Exit 4 (every country published, something held back and listed in the summary) is a
# success here; a failed refresh (1), a busy warehouse (3) or a wrong setting (2) is not.
run: setup
	@$(BIN)/emp refresh; status=$$?; \
	  if [ $$status -eq 4 ]; then echo "make run: every country was published; what was held back is listed above (exit 4)"; exit 0; fi; \
	  exit $$status

test: setup
	$(BIN)/ruff check .
	$(BIN)/emp translations --missing
	$(BIN)/pytest -q -m "not slow" -n 2 --dist loadfile

# Whole refreshes killed with kill -9, run side by side, or run with broken specs (minutes).
test-slow: setup
	$(BIN)/pytest -q -m slow

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The Dagster UI over the same instance `make run` records into ($EMP_HOME/dagster). Ctrl-C or
# SIGTERM stops it with every process it started (pipelines/dev.py); DAGSTER_DEV_ARGS passes
# options to `dagster dev` (for example -p 3001).
dev: setup
	DAGSTER_HOME="$$($(BIN)/emp dagster-home)" exec $(BIN)/python -m pipelines.dev $(DAGSTER_DEV_ARGS)

clean:
	rm -rf var
