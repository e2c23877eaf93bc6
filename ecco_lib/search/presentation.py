"""What ``ecco optimize`` tells a user about one search: a JSON record, a human summary, the IR."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from ecco_lib.atomic import atomic_path
from ecco_lib.errors import EccoError
from ecco_lib.llvm.evaluate import Measurement
from ecco_lib.llvm.steps import first_error_line, run_opt
from ecco_lib.llvm.toolchain import find_toolchain
from ecco_lib.report import UNCHECKED_LABEL, is_unchecked
from ecco_lib.search.objective import OptimizationResult


def optimize_record(result: OptimizationResult, best: Measurement | None, settings: dict) -> dict:
    """DESIGN.md's ``--json`` fields for one search: the best sequence's measurement (re-read
    from the cache) plus method, budget, evaluations, sequence, seed, status counts, settings."""
    return {"program": result.program, "suite": result.suite,
            "pipeline": ",".join(result.best), "status": best.status if best else "no-valid-sequence",
            "cycles": best.cycles if best else None, "cycles_O3": result.cycles_O3, "i_o3": result.i_o3,
            "ir_instructions": best.ir_instructions if best else None, "text_size": best.text_size if best else None,
            "seconds": result.seconds, "compile_seconds": result.compile_seconds,
            "method_seconds": result.method_seconds,
            "opt_pipeline": result.opt_pipeline if result.found else None,
            "method": result.method, "budget": result.budget, "evaluations": result.evaluations,
            "sequence": list(result.best), "seed": result.seed, "status_counts": result.status_counts(),
            "settings": settings, "checked": best.checked if best else False,
            "check_error": best.error if best is not None and is_unchecked(best.as_dict()) else None,
            "llvm_version": best.llvm_version if best else None, "triple": best.triple if best else None,
            "cpu": best.cpu if best else None, "mca_iterations": best.mca_iterations if best else None,
            **{k: result.extra[k] for k in ("intents", "reasoning", "found_by", "intent_rule", "parsed",
                                            "valid_evaluated", "generation_seconds", "sampled_seconds") if k in result.extra}}


def _input_hint(program) -> str:
    source = program.source or program.uri
    if str(source).endswith((".ll", ".bc")):
        return shlex.quote(str(source))
    return "INPUT.bc"


def reproduce_command(program, opt_pipeline: str) -> str:
    """The shell command that reruns the best sequence by hand (with a note on the input IR)."""
    command = f"opt-19 -passes={shlex.quote(opt_pipeline)} {_input_hint(program)} -o optimized.bc"
    if _input_hint(program) == "INPUT.bc":
        how = (f"clang-19 -O2 -Xclang -disable-llvm-passes -emit-llvm -c {shlex.quote(program.source)} -o INPUT.bc"
               if program.source and str(program.source).endswith(".c") else "the program's unoptimized IR")
        command += f"    (INPUT.bc: {how})"
    return command


def describe_result(program, record: dict) -> str:
    """The human summary of one search (several lines)."""
    counts = ", ".join(f"{status} {n}" for status, n in sorted(record["status_counts"].items()))
    head = f"{record['program']}  [{record['method']}, budget {record['budget']}, seed {record['seed']}]"
    if record["cycles"] is None:
        return f"{head}\n  no sequence compiled: evaluations {record['evaluations']} ({counts})"
    i_o3 = f"{100 * record['i_o3']:+.2f} %" if record["i_o3"] is not None else "n/a (-O3 failed)"
    check = "" if record["checked"] else f"  ({UNCHECKED_LABEL}: {record['check_error']})" if record["check_error"] \
        else "  (not checked against the -O0 build)"
    strategist = []
    if "intents" in record:
        weights = ", ".join(f"{c} {w:.2f}" for c, w in sorted((record["intents"] or {}).items(), key=lambda kv: -kv[1]))
        strategist = [f"  strategist: {record['parsed']} answers parsed, {record['valid_evaluated']} evaluated; "
                      f"intents ({record['intent_rule']}): {weights or 'none'}",
                      "  reasoning: " + " ".join((record["reasoning"] or "(none)").split())[:600],
                      f"  best found by: {record['found_by']}"]
    lines = [head, *strategist,
             f"  best sequence ({len(record['sequence'])} passes): {', '.join(record['sequence']) or '(none)'}",
             f"  cycles {record['cycles']} vs -O3 {record['cycles_O3']}: I_O3 = {i_o3}{check}",
             f"  evaluations {record['evaluations']} of {record['budget']}: {counts}",
             f"  seconds {record['seconds']:.1f} (compiling {record['compile_seconds']:.1f}, "
             f"method {record['method_seconds']:.1f})",
             f"  reproduce: {reproduce_command(program, record['opt_pipeline'])}"]
    if record.get("emitted_ir"):
        lines.append(f"  optimized IR: {record['emitted_ir']}")
    return "\n".join(lines)


def emit_ir(program, result: OptimizationResult, path: str | os.PathLike, timeout_s: float) -> Path:
    """Write the best sequence's optimized module to ``path``: LLVM text for ``.ll``, else bitcode."""
    optimized = run_opt(program.ir, result.opt_pipeline, timeout_s)
    if optimized["status"] != "ok":
        raise EccoError(f"{program.uri}: re-running the best sequence failed: {optimized['error']}")
    data = optimized["ir"]
    if str(path).endswith(".ll"):
        proc = subprocess.run([find_toolchain().opt, "-S", "-o", "-", "-"], input=data, capture_output=True,
                              timeout=timeout_s, check=False)
        if proc.returncode != 0:
            raise EccoError(f"{program.uri}: cannot print the optimized IR: {first_error_line(proc.stderr)}")
        data = proc.stdout
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
