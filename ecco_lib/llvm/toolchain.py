"""Locate the LLVM 19 tools and check their version.

Search order: ``$ECCO_LLVM_BIN`` (a directory holding ``opt``, ``llc``, ... with or without the
``-19`` suffix), then ``llvm-config-19 --bindir``, then ``PATH`` (``opt-19`` etc.).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ecco_lib.errors import ToolchainError

REQUIRED_MAJOR = 19
TOOLS = ("opt", "llc", "llvm-mca", "llvm-mc", "clang", "llvm-link")
INSTALL_HINT = "install them with: apt-get install -y llvm-19 clang-19 (or set ECCO_LLVM_BIN)"


@dataclass(frozen=True)
class Toolchain:
    """Absolute paths of the LLVM tools plus the exact version string (e.g. ``19.1.7``)."""

    opt: str
    llc: str
    llvm_mca: str
    llvm_mc: str
    clang: str
    llvm_link: str
    version: str

    @property
    def fingerprint(self) -> str:
        """Version plus the identity (path, size, mtime) of each binary: part of every cache key,
        so a rebuilt or patched LLVM 19 never reuses another build's results."""
        ident = [self.version]
        for tool in TOOLS:
            path = getattr(self, tool.replace("-", "_"))
            st = os.stat(path)
            ident.append(f"{path}:{st.st_size}:{int(st.st_mtime)}")
        return hashlib.sha256("|".join(ident).encode()).hexdigest()[:16]

    def describe(self) -> dict:
        return {"llvm_version": self.version, **{t: getattr(self, t.replace("-", "_")) for t in TOOLS}}


def _candidate_dirs() -> list[tuple[str, Path | None]]:
    dirs: list[tuple[str, Path | None]] = []
    if os.environ.get("ECCO_LLVM_BIN"):
        dirs.append(("ECCO_LLVM_BIN", Path(os.environ["ECCO_LLVM_BIN"])))
        return dirs  # an explicit override is never silently bypassed
    config = shutil.which(f"llvm-config-{REQUIRED_MAJOR}")
    if config:
        out = subprocess.run([config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            dirs.append(("llvm-config", Path(out.stdout.strip())))
    dirs.append(("PATH", None))
    return dirs


def _find_tool(tool: str, where: Path | None) -> str | None:
    names = (f"{tool}-{REQUIRED_MAJOR}", tool)
    for name in names:
        if where is None:
            found = shutil.which(name)
            if found and name != tool:  # on PATH only the -19 names are trusted
                return found
        else:
            path = where / name
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
    return None


def _version_of(opt_path: str) -> str:
    out = subprocess.run([opt_path, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"LLVM version (\d+\.\d+\.\d+)", out.stdout + out.stderr)
    if not match:
        raise ToolchainError(f"cannot read the LLVM version from '{opt_path} --version'")
    return match.group(1)


@functools.lru_cache(maxsize=None)
def _find(env_key: str) -> Toolchain:
    del env_key  # part of the cache key only
    for origin, where in _candidate_dirs():
        paths = {tool: _find_tool(tool, where) for tool in TOOLS}
        missing = [tool for tool, path in paths.items() if path is None]
        if missing:
            if origin == "ECCO_LLVM_BIN":
                raise ToolchainError(
                    f"ECCO_LLVM_BIN={where} lacks {', '.join(missing)}; {INSTALL_HINT}")
            continue
        version = _version_of(paths["opt"])
        if int(version.split(".")[0]) != REQUIRED_MAJOR:
            raise ToolchainError(
                f"{paths['opt']} is LLVM {version}, but LLVM {REQUIRED_MAJOR} is required; {INSTALL_HINT}")
        return Toolchain(*(paths[t] for t in TOOLS), version=version)
    raise ToolchainError(f"LLVM {REQUIRED_MAJOR} tools (opt-19, llc-19, llvm-mca-19, clang-19) not found; "
                         f"{INSTALL_HINT}")


def find_toolchain() -> Toolchain:
    """Return the LLVM 19 toolchain or raise :class:`ToolchainError` with one line saying why."""
    return _find(os.environ.get("ECCO_LLVM_BIN", ""))


@functools.lru_cache(maxsize=None)
def _target_problem(llc: str, triple: str, cpu: str) -> str | None:
    proc = subprocess.run([llc, f"-mtriple={triple}", f"-mcpu={cpu}", "-o", os.devnull, "-"], input=b"",
                          capture_output=True, check=False)
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        line = next((l.strip() for l in stderr.splitlines() if l.strip()), "llc failed")
        return f"unknown target triple '{triple}': {line.split('error: ', 1)[-1]}"
    if "is not a recognized processor" in stderr:
        return f"'{cpu}' is not a CPU of target '{triple}' (list them: llc-19 -mtriple={triple} -mcpu=help)"
    return None


def check_target(triple: str, cpu: str) -> None:
    """Raise :class:`ToolchainError` unless llc-19 knows ``triple`` and ``cpu`` (llc and llvm-mca
    otherwise silently fall back to a generic CPU). One llc run on an empty module per process."""
    problem = _target_problem(find_toolchain().llc, triple, cpu)
    if problem:
        raise ToolchainError(problem)
