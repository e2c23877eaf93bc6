# The two first commands on a fresh machine: `make reproduce` (main job) and `make test`.
# Both set up what they need: LLVM 19 (apt-get, as root) and a Python venv with pinned packages.

PROFILE ?= default
VENV ?= .venv
PYTHON ?= python3
LLVM_APT_VERSION ?=
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ecco-installed
CGYM_WHEEL := tests/fixtures/.downloads/compiler_gym-0.2.5-py3-none-manylinux2014_x86_64.whl
LLVM_TOOLS := opt-19 llc-19 llvm-mca-19 llvm-mc-19 llvm-link-19 clang-19

.PHONY: setup toolchain test reproduce bench lint notebooks clean

setup: toolchain $(STAMP)

toolchain:
	@missing=""; for t in $(LLVM_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ] && [ -z "$$ECCO_LLVM_BIN" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    v="$(LLVM_APT_VERSION)"; \
	    echo "installing LLVM 19 with apt-get (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      llvm-19$${v:+=$$v} clang-19$${v:+=$$v} >/dev/null || exit 1; \
	  else \
	    echo "LLVM 19 tools missing:$$missing. Install them: sudo apt-get install -y llvm-19 clang-19 (or set ECCO_LLVM_BIN)"; exit 1; \
	  fi; \
	fi

$(STAMP): requirements.txt pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(CGYM_WHEEL):
	$(PY) -m pip download -q --disable-pip-version-check --no-deps compiler-gym==0.2.5 -d $(dir $@)

test: setup $(CGYM_WHEEL)
	$(PY) -m pytest -q -n 2 --dist loadgroup

reproduce: setup
	$(VENV)/bin/ecco reproduce --profile $(PROFILE)

bench: setup
	$(PY) perf/evaluator_throughput.py

lint: setup
	$(VENV)/bin/hadolint Dockerfile

notebooks: setup
	$(VENV)/bin/jupytext --sync notebooks/*.py

clean:
	rm -rf $(VENV) results/executed
