"""Turn inputs into IR the evaluator can use: C via clang-19, ``.ll``/``.bc`` checked by opt-19.

C is compiled as ``clang-19 -O2 -Xclang -disable-llvm-passes -emit-llvm -c`` (unoptimized IR with
neither ``optnone`` nor ``noinline``: the shape of CompilerGym's benchmark IR).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import warnings
from pathlib import Path

from ecco_lib.errors import BadProgramError, EccoWarning
from ecco_lib.llvm.cache import EvaluationCache
from ecco_lib.llvm.steps import first_error_line
from ecco_lib.llvm.toolchain import find_toolchain

CLANG_FLAGS = ("-O2", "-Xclang", "-disable-llvm-passes", "-emit-llvm", "-c", "-g0")
_DEFINES_MAIN = re.compile(rb"^define [^\n]*@main\(", re.MULTILINE)
_DEFINITION = re.compile(rb"^define [^\n]*", re.MULTILINE)
_ATTRIBUTE_GROUP = re.compile(rb"^attributes #(\d+) = \{([^}\n]*)\}", re.MULTILINE)
_GROUP_REF = re.compile(rb"#(\d+)")


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


def _shape(text_ir: bytes) -> dict:
    """Function definitions, those marked ``optnone``, and whether ``main`` is defined."""
    optnone_groups = {g for g, body in _ATTRIBUTE_GROUP.findall(text_ir) if b"optnone" in body.split()}
    definitions = _DEFINITION.findall(text_ir)
    optnone = sum(1 for d in definitions
                  if b" optnone " in d or optnone_groups & set(_GROUP_REF.findall(d.rsplit(b")", 1)[-1])))
    return {"functions": len(definitions), "optnone": optnone, "main": bool(_DEFINES_MAIN.search(text_ir))}


def inspect_ir(ir: bytes, origin: str, cache: EvaluationCache | None = None) -> bool:
    """Verify that ``ir`` is valid LLVM IR (text or bitcode) with at least one function definition;
    return whether it defines ``main``. Warns (:class:`EccoWarning`, once per program) when
    functions carry ``optnone``: opt skips them, so every pipeline gives the same cycles.

    Raises :class:`BadProgramError` with opt-19's first error line, or for IR without functions.
    """
    key = "inspect-v2:" + hashlib.sha256(ir).hexdigest()
    blob = cache.get_blob(key) if cache is not None else None
    if blob is not None:
        shape = json.loads(blob)
    else:
        tc = find_toolchain()
        proc = subprocess.run([tc.opt, "-passes=verify", "-S", "-o", "-", "-"], input=ir,
                              capture_output=True, check=False)
        if proc.returncode != 0:
            raise BadProgramError(f"{origin}: not valid LLVM IR: {first_error_line(proc.stderr)}")
        shape = _shape(proc.stdout)
        if cache is not None:
            cache.put_blob(key, json.dumps(shape).encode())
    if not shape["functions"]:
        raise BadProgramError(f"{origin}: no function definitions (empty or declaration-only IR): "
                              f"nothing to optimize or measure")
    if shape["optnone"]:
        warnings.warn(f"{origin}: {shape['optnone']} of {shape['functions']} functions are optnone "
                      f"(clang -O0 without -Xclang -disable-O0-optnone): opt skips them, so every pipeline "
                      f"scores about 0", EccoWarning, stacklevel=2)
    return shape["main"]
