"""The embedded suite: C programs written for this project in seven domains that mirror the
paper's suites. Every program has ``main()``, runs a deterministic workload and prints a checksum.
The fixed train/test split lives in ``embedded/manifest.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ecco_lib.benchmarks.program import Program
from ecco_lib.errors import BadProgramError
from ecco_lib.llvm.cache import EvaluationCache
from ecco_lib.llvm.frontend import compile_c

ROOT = Path(__file__).with_name("embedded")
SCHEME = "ecco://"


def manifest() -> dict:
    """``{"suites": {suite: {"mirrors": ..., "description": ...}}, "split": {"suite/name": "train"|"test"}}``."""
    with open(ROOT / "manifest.yaml") as f:
        return yaml.safe_load(f)


def suites() -> dict[str, dict]:
    return manifest()["suites"]


def program_names(suite: str | None = None, split: str | None = None) -> list[str]:
    """``suite/name`` of every embedded program, sorted, optionally filtered by suite and split."""
    data = manifest()
    if suite is not None and suite not in data["suites"]:
        raise BadProgramError(f"unknown embedded suite '{suite}' (known: {', '.join(data['suites'])})")
    return sorted(key for key, s in data["split"].items()
                  if (suite is None or key.split("/")[0] == suite) and (split is None or s == split))


def load(key: str, cache: EvaluationCache | None = None) -> Program:
    """Load ``suite/name`` (compiling its C source; cached)."""
    data = manifest()
    if key not in data["split"]:
        raise BadProgramError(f"unknown embedded program '{SCHEME}{key}' (see `ecco suites`)")
    suite, name = key.split("/")
    path = ROOT / suite / f"{name}.c"
    return Program(uri=SCHEME + key, suite=suite, name=name, ir=compile_c(path, cache), runnable=True,
                   split=data["split"][key], source=str(path))


def load_uri(uri: str, cache: EvaluationCache | None = None, split: str | None = None) -> list[Program]:
    """``ecco://`` (all), ``ecco://SUITE`` or ``ecco://SUITE/NAME``."""
    rest = uri[len(SCHEME):].strip("/")
    if "/" in rest:
        return [load(rest, cache)]
    return [load(key, cache) for key in program_names(rest or None, split)]
