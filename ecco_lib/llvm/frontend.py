"""Turn inputs into IR the evaluator can use: C via clang-19, ``.ll``/``.bc`` checked by opt-19.

C is compiled as ``clang-19 -O2 -Xclang -disable-llvm-passes -emit-llvm -c`` (unoptimized IR with
neither ``optnone`` nor ``noinline``: the shape of CompilerGym's benchmark IR).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from ecco_lib.errors import BadProgramError
from ecco_lib.llvm.cache import EvaluationCache
from ecco_lib.llvm.steps import first_error_line
from ecco_lib.llvm.toolchain import find_toolchain

CLANG_FLAGS = ("-O2", "-Xclang", "-disable-llvm-passes", "-emit-llvm", "-c", "-g0")
_DEFINES_MAIN = re.compile(rb"^define [^\n]*@main\(", re.MULTILINE)


def compile_c(path: Path, cache: EvaluationCache | None = None, extra_flags: tuple[str, ...] = ()) -> bytes:
    """Bitcode of a C file (cached by source content, clang version and flags)."""
    tc = find_toolchain()
    source = path.read_bytes()
    flags = (*CLANG_FLAGS, *extra_flags)
    key = "clang:" + hashlib.sha256(source + repr((tc.version, flags)).encode()).hexdigest()
    if cache is not None and (blob := cache.get_blob(key)) is not None:
        return blob
    proc = subprocess.run([tc.clang, *flags, "-x", "c", "-", "-o", "-"], input=source,
                          capture_output=True, check=False, cwd=path.parent)
    if proc.returncode != 0:
        raise BadProgramError(f"{path}: clang-19 failed: {first_error_line(proc.stderr)}")
    if cache is not None:
        cache.put_blob(key, proc.stdout)
    return proc.stdout


def inspect_ir(ir: bytes, origin: str, cache: EvaluationCache | None = None) -> bool:
    """Verify that ``ir`` is valid LLVM IR (text or bitcode); return whether it defines ``main``.

    Raises :class:`BadProgramError` with opt-19's first error line otherwise.
    """
    key = "inspect:" + hashlib.sha256(ir).hexdigest()
    if cache is not None and (blob := cache.get_blob(key)) is not None:
        return blob == b"1"
    tc = find_toolchain()
    proc = subprocess.run([tc.opt, "-passes=verify", "-S", "-o", "-", "-"], input=ir,
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise BadProgramError(f"{origin}: not valid LLVM IR: {first_error_line(proc.stderr)}")
    defines_main = bool(_DEFINES_MAIN.search(proc.stdout))
    if cache is not None:
        cache.put_blob(key, b"1" if defines_main else b"0")
    return defines_main
