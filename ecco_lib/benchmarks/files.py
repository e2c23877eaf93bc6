"""User programs from the file system: single ``.c``/``.ll``/``.bc`` files or directories laid out
as ``<suite>_<name>.<ext>`` or ``<suite>/<name>.<ext>`` (the layout of related work's test splits).
Hidden files and folders (names starting with ``.``, e.g. ``.git``, editor backups) inside a
directory are not programs and are never scanned.
"""

from __future__ import annotations

import os
from pathlib import Path

from ecco_lib.benchmarks.program import Program
from ecco_lib.errors import BadProgramError
from ecco_lib.llvm.cache import EvaluationCache
from ecco_lib.llvm.frontend import compile_c, inspect_ir

EXTENSIONS = (".c", ".ll", ".bc")


def load_file(path: Path, suite: str, name: str, cache: EvaluationCache | None = None) -> Program:
    if not path.is_file():
        raise BadProgramError(f"{path}: no such file")
    if path.suffix not in EXTENSIONS:
        raise BadProgramError(f"{path}: unsupported file type (expected {', '.join(EXTENSIONS)})")
    ir = compile_c(path, cache) if path.suffix == ".c" else path.read_bytes()
    runnable = inspect_ir(ir, str(path), cache)
    return Program(uri=str(path), suite=suite, name=name, ir=ir, runnable=runnable,
                   source=str(path) if path.suffix == ".c" else None)


def _visible_files(root: Path):
    """Program files below ``root``; hidden folders are pruned, not descended into."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            file = Path(folder) / name
            if not name.startswith(".") and file.suffix in EXTENSIONS and file.is_file():
                yield file


def load_path(path: Path, cache: EvaluationCache | None = None) -> list[Program]:
    """A file (suite ``file``) or a directory of programs (sorted by suite, then name; hidden
    entries below ``path`` skipped)."""
    if path.is_file():
        return [load_file(path, "file", path.stem, cache)]
    if not path.is_dir():
        raise BadProgramError(f"{path}: no such file or directory")
    programs = []
    for file in sorted(_visible_files(path)):
        relative = file.relative_to(path)
        if len(relative.parts) > 1:
            suite, name = relative.parts[0], file.stem
        elif "_" in file.stem:
            suite, name = file.stem.split("_", 1)
        else:
            suite, name = path.name, file.stem
        programs.append(load_file(file, suite, name, cache))
    if not programs:
        raise BadProgramError(f"{path}: no {', '.join(EXTENSIONS)} files in this directory")
    return sorted(programs, key=lambda p: (p.suite, p.name))
