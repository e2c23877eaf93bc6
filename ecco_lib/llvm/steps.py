"""The subprocess steps of one evaluation. Pure functions of their arguments, so they run the
same in-process, in a process pool or as Ray tasks. Each returns a dict with an explicit status.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from elftools.elf.elffile import ELFFile

from ecco_lib.llvm import procs
from ecco_lib.llvm.metric import MetricSettings
from ecco_lib.llvm.toolchain import find_toolchain

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


#: Version of each step's measuring procedure; part of its cache keys, so changing how a step
#: measures invalidates the entries it wrote before. opt v2: the instruction count is a separate
#: analysis run on the optimized bitcode (v1 appended the printer to the candidate's pipeline).
STEP_VERSIONS = {"opt": 2, "backend": 1, "runs": 1}
#: Captured output of a checked program beyond this many bytes is cut (and the cut is recorded).
MAX_PROGRAM_OUTPUT = 16 * 2**20
#: A ``-passes=`` argument longer than this goes to opt through a response file (``@file``): the
#: kernel limits one argument to 128 KiB (E2BIG), about 4,300 passes.
_MAX_INLINE_ARGUMENT = 100_000


def _run(cmd: list[str], stdin: bytes | None, timeout: float, cwd: str | os.PathLike) -> subprocess.CompletedProcess | None:
    """Run one tool in the scratch directory ``cwd``; None on timeout (see :func:`procs.run`)."""
    return procs.run(cmd, stdin, timeout, cwd)


def _scratch() -> tempfile.TemporaryDirectory:
    """A private working directory for one step: tools that write files (``insert-gcov-profiling``
    writes ``<function>.gcno``, checked programs write what they like) never touch the caller's."""
    return tempfile.TemporaryDirectory(prefix="ecco-step-")


def _crash_message(tool: str, proc: subprocess.CompletedProcess) -> str:
    """The error of a failed tool; a death by signal is named as the LLVM crash it is."""
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        return f"{tool} crashed ({name}): {first_error_line(proc.stderr)}"
    return first_error_line(proc.stderr)


def passes_argument(opt_text: str, scratch: str | os.PathLike) -> str:
    """``-passes=opt_text``, or ``@file`` holding it when it is too long for one argument."""
    argument = f"-passes={opt_text}"
    if len(argument) <= _MAX_INLINE_ARGUMENT:
        return argument
    response = Path(scratch) / "passes.rsp"
    response.write_text(argument)
    return f"@{response}"


_TOTAL_INSTRUCTIONS = re.compile(rb"^TotalInstructionCount: (\d+)", re.MULTILINE)


def count_instructions(ir: bytes, timeout: float, scratch: str | os.PathLike) -> tuple[int | None, str | None]:
    """Sum of LLVM's ``TotalInstructionCount`` over the module's functions, from a separate
    ``print<func-properties>`` run on ``ir``: (count, None), or (None, why) when that analysis fails.
    A failure here never changes the candidate's status: it is a measurement, not the candidate."""
    tc = find_toolchain()
    proc = _run([tc.opt, "-passes=function(print<func-properties>)", "-enable-detailed-function-properties",
                 "-disable-output", "-"], ir, timeout, scratch)
    if proc is None:
        return None, f"instruction count: opt exceeded {timeout:g} s"
    if proc.returncode != 0:
        return None, "instruction count: " + _crash_message("opt", proc)
    return sum(int(n) for n in _TOTAL_INSTRUCTIONS.findall(proc.stderr)), None


def run_opt(input_ir: bytes, opt_text: str, timeout: float) -> dict:
    """``opt-19 -passes=opt_text`` on ``input_ir`` (text or bitcode), exactly the candidate's pipeline.

    Returns the optimized module as bitcode: a text round trip loses use-list order, and llc's
    output depends on it (measured: 6100 vs 6290 cycles for one program), while
    ``--preserve-ll-uselistorder`` text can fail to parse in LLVM 19. ``ir_instructions`` is
    measured afterwards by :func:`count_instructions` (``None`` plus ``measure_error`` if it fails).
    The empty pipeline is opt with no passes (the input, verified and written as bitcode).
    """
    tc = find_toolchain()
    start = time.perf_counter()
    with _scratch() as scratch:
        passes = [passes_argument(opt_text, scratch)] if opt_text else []
        proc = _run([tc.opt, *passes, "-o", "-", "-"], input_ir, timeout, scratch)
        if proc is None:
            return {"status": "timeout", "error": f"opt exceeded {timeout:g} s", "seconds": time.perf_counter() - start}
        if proc.returncode != 0:
            message = _crash_message("opt", proc)
            status = "invalid-pipeline" if any(e in message for e in _PIPELINE_ERRORS) else "opt-error"
            return {"status": status, "error": message, "seconds": time.perf_counter() - start}
        count, measure_error = count_instructions(proc.stdout, timeout, scratch)
    result = {"status": "ok", "ir": proc.stdout, "ir_hash": sha256(proc.stdout), "ir_instructions": count,
              "seconds": time.perf_counter() - start, "llvm_version": tc.version}
    if measure_error:
        result["measure_error"] = measure_error
    return result


def text_size(obj: bytes) -> int:
    """Total size in bytes of the executable ``.text*`` sections of an ELF object."""
    elf = ELFFile(io.BytesIO(obj))
    return sum(s["sh_size"] for s in elf.iter_sections() if s.name.startswith(".text"))


def run_backend(ir: bytes, metric: MetricSettings, timeout: float) -> dict:
    """llc (assembly) -> llvm-mca Total Cycles, and llvm-mc (object) -> ``.text`` bytes."""
    tc = find_toolchain()
    start = time.perf_counter()

    def failed(status: str, error: str) -> dict:
        return {"status": status, "error": error, "seconds": time.perf_counter() - start}

    with _scratch() as scratch:
        llc = _run([tc.llc, *metric.llc_args(), "-o", "-", "-"], ir, timeout, scratch)
        if llc is None:
            return failed("timeout", f"llc exceeded {timeout:g} s")
        if llc.returncode != 0:
            return failed("llc-error", _crash_message("llc", llc))
        mca = _run([tc.llvm_mca, *metric.mca_args(), "-"], llc.stdout, timeout, scratch)
        if mca is None:
            return failed("timeout", f"llvm-mca exceeded {timeout:g} s")
        match = _TOTAL_CYCLES.search(mca.stdout)
        if mca.returncode != 0 or not match:
            return failed("mca-error", _crash_message("llvm-mca", mca))
        mc = _run([tc.llvm_mc, f"--triple={metric.triple}", f"-mcpu={metric.cpu}", "-filetype=obj", "-o", "-", "-"],
                  llc.stdout, timeout, scratch)
    if mc is None or mc.returncode != 0:
        return failed("llc-error", "assembling: " + ("llvm-mc timed out" if mc is None else _crash_message("llvm-mc", mc)))
    return {"status": "ok", "cycles": int(match.group(1)), "text_size": text_size(mc.stdout),
            "seconds": time.perf_counter() - start}


def _run_program(exe: Path, timeout: float, cwd: str | os.PathLike) -> tuple[str, str, int] | None:
    """Run a checked program with empty stdin: (digest of stdout and exit code, why the check is
    incomplete or '', exit code); None on timeout. Output is hashed as it streams, never held in
    memory; past :data:`MAX_PROGRAM_OUTPUT` bytes the program is stopped and the reason returned."""
    digest, size = hashlib.sha256(), 0
    start = time.perf_counter()
    proc = procs.spawn([str(exe)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, cwd=cwd)
    timer = threading.Timer(timeout, procs.kill, (proc,))
    timer.start()
    try:
        while chunk := proc.stdout.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
            if size > MAX_PROGRAM_OUTPUT:
                procs.kill(proc)
                proc.wait()
                return "", f"the program printed more than {MAX_PROGRAM_OUTPUT >> 20} MiB", -1
        code = proc.wait()
    except BaseException:
        procs.kill(proc)
        proc.wait()
        raise
    finally:
        timer.cancel()
        proc.stdout.close()
        procs.release(proc)
    if time.perf_counter() - start > timeout:  # killed by the timer, or finished past the limit
        return None
    digest.update(f"\nexit={code}".encode())
    return digest.hexdigest(), "", code


def run_executable(ir: bytes, llc_opt: str, repeats: int, timeout: float, build_timeout: float) -> dict:
    """Build ``ir`` for the host (``llc -<llc_opt>``, default CPU, linked by clang with -lm), run it
    ``repeats`` times in a scratch directory; returns the digest of stdout+exit code and the median
    wall time in seconds. ``timeout`` bounds each run, ``build_timeout`` each build tool. Status
    ``unchecked`` (with ``error``) when the check cannot be completed, e.g. the output is too large."""
    tc = find_toolchain()
    with _scratch() as tmp:
        obj, exe = Path(tmp) / "prog.o", Path(tmp) / "prog"
        llc = _run([tc.llc, f"-{llc_opt}", "-relocation-model=pic", "-filetype=obj", "-o", str(obj), "-"], ir,
                   build_timeout, tmp)
        if llc is None:
            return {"status": "timeout", "error": f"llc (host build) exceeded {build_timeout:g} s"}
        if llc.returncode != 0:
            return {"status": "link-error", "error": "llc: " + _crash_message("llc", llc)}
        link = _run([tc.clang, str(obj), "-lm", "-o", str(exe)], None, build_timeout, tmp)
        if link is None:
            return {"status": "timeout", "error": f"linking exceeded {build_timeout:g} s"}
        if link.returncode != 0:
            return {"status": "link-error", "error": "link: " + first_error_line(link.stderr)}
        times, digest, exit_code = [], None, None
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            outcome = _run_program(exe, timeout, tmp)
            elapsed = time.perf_counter() - start
            if outcome is None:
                return {"status": "timeout", "error": f"executable exceeded {timeout:g} s"}
            this, incomplete, code = outcome
            if incomplete:
                return {"status": "unchecked", "error": incomplete}
            if digest is not None and this != digest:
                return {"status": "nondeterministic", "error": "two runs of one build printed different output"}
            digest, exit_code = this, code
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
        subprocess.run([tc.opt, f"-passes={opt_text}", str(src), "-o", str(opt_out)], check=True, capture_output=True,
                       cwd=tmp)  # in the scratch directory: insert-gcov-profiling writes .gcno files
        subprocess.run([tc.llc, f"-{metric.llc_opt}", *target, str(opt_out), "-o", str(asm)], check=True,
                       capture_output=True, cwd=tmp)
        mca = subprocess.run([tc.llvm_mca, *target, *iterations, str(asm)], check=True, capture_output=True, cwd=tmp)
    return int(_TOTAL_CYCLES.search(mca.stdout).group(1))
