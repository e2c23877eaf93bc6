"""Benchmarks addressed by path or URI.

- ``ecco://SUITE/NAME``, ``ecco://SUITE``, ``ecco://``: the embedded suite (:mod:`.embedded`)
- ``benchmark://DATASET/PATH``, ``benchmark://DATASET``: CompilerGym datasets (:mod:`.compilergym`)
- a ``.c``/``.ll``/``.bc`` file or a directory of them (:mod:`.files`)
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ecco_lib.benchmarks import compilergym, embedded, files
from ecco_lib.benchmarks.program import Program
from ecco_lib.errors import BadProgramError
from ecco_lib.llvm.cache import EvaluationCache

__all__ = ["Program", "resolve", "resolve_all"]


def resolve(spec: str, cache: EvaluationCache | None = None, split: str | None = None) -> list[Program]:
    """All programs a path or URI names. ``split`` (train/test) filters embedded suites."""
    if spec.startswith(embedded.SCHEME):
        return embedded.load_uri(spec, cache, split)
    if spec.startswith(compilergym.SCHEME):
        return compilergym.load_uri(spec, cache)
    if "://" in spec:
        raise BadProgramError(f"unknown URI scheme in '{spec}' (use ecco://, benchmark:// or a path)")
    return files.load_path(Path(spec), cache)


def resolve_all(specs: Iterable[str], cache: EvaluationCache | None = None,
                split: str | None = None) -> list[Program]:
    """Programs of several specs, without duplicates (first occurrence wins)."""
    seen: dict[str, Program] = {}
    for spec in specs:
        for program in resolve(spec, cache, split):
            seen.setdefault(program.uri, program)
    return list(seen.values())
