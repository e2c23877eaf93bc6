"""The subprocess steps of one evaluation. Pure functions of their arguments, so they run the
same in-process, in a process pool or as Ray tasks. Each returns a dict with an explicit status.
"""

from __future__ import annotations

import hashlib
import io
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from elftools.elf.elffile import ELFFile

from ecco_lib.llvm.metric import MetricSettings
from ecco_lib.llvm.toolchain import find_toolchain

_BUILD_TIMEOUT_S = 120.0
_TOTAL_CYCLES = re.compile(rb"^Total Cycles:\s+(\d+)", re.MULTILINE)
_PIPELINE_ERRORS = ("unknown pass name", "unknown function pass", "unknown module pass",
                    "unknown loop pass", "unknown cgscc pass", "invalid use of",
                    "invalid pipeline", "Could not parse")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def first_error_line(stderr: bytes, limit: int = 300) -> str:
    """The most informative line of a tool's stderr (errors first, then the first line)."""
    lines = [l.strip() for l in stderr.decode(errors="replace").splitlines() if l.strip()]
    for line in lines:
        if "error" in line.lower() or "assert" in line.lower() or "LLVM ERROR" in line:
            return line[:limit]
    return (lines[0] if lines else "no output")[:limit]


def _run(cmd: list[str], stdin: bytes | None, timeout: float) -> subprocess.CompletedProcess | None:
    """Run one tool; None on timeout."""
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None


_TOTAL_INSTRUCTIONS = re.compile(rb"^TotalInstructionCount: (\d+)", re.MULTILINE)
#: Appended to every pipeline: prints LLVM's own per-function properties of the final IR to stderr
#: (an analysis printer: the optimized module is unchanged).
_PROPERTIES = "function(print<func-properties>)"


def run_opt(input_ir: bytes, opt_text: str, timeout: float) -> dict:
    """``opt-19 -passes=opt_text`` on ``input_ir`` (text or bitcode).

    Returns the optimized module as bitcode: a text round trip loses use-list order, and llc's
    output depends on it (measured: 6100 vs 6290 cycles for one program), while
    ``--preserve-ll-uselistorder`` text can fail to parse in LLVM 19. ``ir_instructions`` is the sum
    of LLVM's ``TotalInstructionCount`` over the module's functions.
    """
    tc = find_toolchain()
    pipeline = f"{opt_text},{_PROPERTIES}" if opt_text else _PROPERTIES
    start = time.perf_counter()
    proc = _run([tc.opt, f"-passes={pipeline}", "-enable-detailed-function-properties", "-o", "-", "-"],
                input_ir, timeout)
    seconds = time.perf_counter() - start
    if proc is None:
        return {"status": "timeout", "error": f"opt exceeded {timeout:g} s", "seconds": seconds}
    if proc.returncode != 0:
        message = first_error_line(proc.stderr)
        status = "invalid-pipeline" if any(e in message for e in _PIPELINE_ERRORS) else "opt-error"
        return {"status": status, "error": message, "seconds": seconds}
    return {"status": "ok", "ir": proc.stdout, "ir_hash": sha256(proc.stdout),
            "ir_instructions": sum(int(n) for n in _TOTAL_INSTRUCTIONS.findall(proc.stderr)),
            "seconds": seconds, "llvm_version": tc.version}


def text_size(obj: bytes) -> int:
    """Total size in bytes of the executable ``.text*`` sections of an ELF object."""
    elf = ELFFile(io.BytesIO(obj))
    return sum(s["sh_size"] for s in elf.iter_sections() if s.name.startswith(".text"))


def run_backend(ir: bytes, metric: MetricSettings, timeout: float) -> dict:
    """llc (assembly) -> llvm-mca Total Cycles, and llvm-mc (object) -> ``.text`` bytes."""
    tc = find_toolchain()
    start = time.perf_counter()
    llc = _run([tc.llc, *metric.llc_args(), "-o", "-", "-"], ir, timeout)
    if llc is None:
        return {"status": "timeout", "error": f"llc exceeded {timeout:g} s", "seconds": time.perf_counter() - start}
    if llc.returncode != 0:
        return {"status": "llc-error", "error": first_error_line(llc.stderr), "seconds": time.perf_counter() - start}
    mca = _run([tc.llvm_mca, *metric.mca_args(), "-"], llc.stdout, timeout)
    if mca is None:
        return {"status": "timeout", "error": f"llvm-mca exceeded {timeout:g} s", "seconds": time.perf_counter() - start}
    match = _TOTAL_CYCLES.search(mca.stdout)
    if mca.returncode != 0 or not match:
        return {"status": "mca-error", "error": first_error_line(mca.stderr), "seconds": time.perf_counter() - start}
    mc = _run([tc.llvm_mc, f"--triple={metric.triple}", f"-mcpu={metric.cpu}", "-filetype=obj", "-o", "-", "-"],
              llc.stdout, timeout)
    if mc is None or mc.returncode != 0:
        error = "llvm-mc timed out" if mc is None else first_error_line(mc.stderr)
        return {"status": "llc-error", "error": f"assembling: {error}", "seconds": time.perf_counter() - start}
    return {"status": "ok", "cycles": int(match.group(1)), "text_size": text_size(mc.stdout),
            "seconds": time.perf_counter() - start}


def run_executable(ir: bytes, llc_opt: str, repeats: int, timeout: float) -> dict:
    """Build ``ir`` for the host (``llc -<llc_opt>``, default CPU, linked by clang with -lm), run it
    ``repeats`` times; returns the digest of stdout+exit code and the median wall time in seconds.
    ``timeout`` bounds each run; building gets at least ``_BUILD_TIMEOUT_S``."""
    tc = find_toolchain()
    with tempfile.TemporaryDirectory(prefix="ecco-run-") as tmp:
        obj, exe = Path(tmp) / "prog.o", Path(tmp) / "prog"
        build_timeout = max(timeout, _BUILD_TIMEOUT_S)  # building is not what the run limit bounds
        llc = _run([tc.llc, f"-{llc_opt}", "-relocation-model=pic", "-filetype=obj", "-o", str(obj), "-"], ir,
                   build_timeout)
        if llc is None:
            return {"status": "timeout", "error": f"llc (host build) exceeded {build_timeout:g} s"}
        if llc.returncode != 0:
            return {"status": "link-error", "error": "llc: " + first_error_line(llc.stderr)}
        link = _run([tc.clang, str(obj), "-lm", "-o", str(exe)], None, build_timeout)
        if link is None:
            return {"status": "timeout", "error": f"linking exceeded {build_timeout:g} s"}
        if link.returncode != 0:
            return {"status": "link-error", "error": "link: " + first_error_line(link.stderr)}
        times, digest, exit_code = [], None, None
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            proc = _run([str(exe)], b"", timeout)
            elapsed = time.perf_counter() - start
            if proc is None:
                return {"status": "timeout", "error": f"executable exceeded {timeout:g} s"}
            this = sha256(proc.stdout + f"\nexit={proc.returncode}".encode())
            if digest is not None and this != digest:
                return {"status": "nondeterministic", "error": "two runs of one build printed different output"}
            digest, exit_code = this, proc.returncode
            times.append(elapsed)
        return {"status": "ok", "output_digest": digest, "exit_code": exit_code,
                "runtime_s": statistics.median(times)}


def by_hand_cycles(ir: bytes, opt_text: str, metric: MetricSettings) -> int:
    """Cycles from the literal three commands of DESIGN.md, through files and with llvm-mca's
    default views: the reference the engine must reproduce (and the throughput floor)."""
    tc = find_toolchain()
    target = [f"-mtriple={metric.triple}", f"-mcpu={metric.cpu}"]
    iterations = [f"-iterations={metric.mca_iterations}"] if metric.mca_iterations is not None else []
    with tempfile.TemporaryDirectory(prefix="ecco-hand-") as tmp:
        src, opt_out, asm = Path(tmp) / "input", Path(tmp) / "opt.bc", Path(tmp) / "out.s"
        src.write_bytes(ir)
        subprocess.run([tc.opt, f"-passes={opt_text}", str(src), "-o", str(opt_out)], check=True, capture_output=True)
        subprocess.run([tc.llc, f"-{metric.llc_opt}", *target, str(opt_out), "-o", str(asm)], check=True,
                       capture_output=True)
        mca = subprocess.run([tc.llvm_mca, *target, *iterations, str(asm)], check=True, capture_output=True)
    return int(_TOTAL_CYCLES.search(mca.stdout).group(1))
