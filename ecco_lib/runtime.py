"""RQ5 (ours): do the cycle gains run faster? The llvm-mca metric scores a module as straight-line
code; this module times the real thing.

:func:`time_sequences` builds the program once per pass sequence (``opt-19`` with the sequence,
then ``llc-19 -O3`` for the host and ``clang-19 -lm``), plus the ``-O3`` build twice (the second
one measures timing noise: the same build against itself), then runs the builds *interleaved* —
every round runs each build once, in a seeded random order — pinned to one core, and records the
CPU time (user + system, from ``wait4``) of every run. :func:`speedups` turns the runs into the
median speed-up of each build over ``-O3`` with a bootstrap interval (runs resampled per build).
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ecco_lib.errors import EccoError
from ecco_lib.llvm.pipeline import Pipeline
from ecco_lib.llvm.steps import first_error_line, run_opt
from ecco_lib.llvm.toolchain import find_toolchain

O3, O3_AGAIN = "-O3", "-O3 (again)"


def _build(ir: bytes, directory: Path, name: str, timeout: float) -> tuple[Path | None, str]:
    """The host executable of optimized ``ir`` (``llc -O3``, linked by clang with -lm), or None
    and why not."""
    tc = find_toolchain()
    obj, exe = directory / f"{name}.o", directory / name
    steps = (("llc", [tc.llc, "-O3", "-relocation-model=pic", "-filetype=obj", "-o", str(obj), "-"], ir),
             ("link", [tc.clang, str(obj), "-lm", "-o", str(exe)], None))
    for tool, command, stdin in steps:
        try:
            proc = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, cwd=directory)
        except subprocess.TimeoutExpired:
            return None, f"{tool}: exceeded {timeout:g} s"
        if proc.returncode != 0:
            return None, f"{tool}: " + first_error_line(proc.stderr)
    return exe, "ok"


def _run(exe: Path, core: int | None, timeout: float, cwd: Path) -> float | None:
    """User + system CPU seconds of one run of ``exe`` (output discarded; pinned to ``core``), from
    ``os.wait4``; None when it fails or is killed at ``timeout``."""
    def pin():
        if core is not None:
            os.sched_setaffinity(0, {core})

    proc = subprocess.Popen([str(exe)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=cwd, preexec_fn=pin)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return usage.ru_utime + usage.ru_stime if proc.returncode == 0 else None


def quiet_core() -> int | None:
    """The last core this process may run on (None where affinity is not supported)."""
    try:
        return max(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def time_sequences(program, sequences: Mapping[str, Sequence[str]], *, rounds: int = 21, seed: int = 0,
                   timeout_s: float = 20.0, core: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, builds) for ``program`` under each labelled sequence plus :data:`O3` and
    :data:`O3_AGAIN`. ``runs``: label, round, cpu_seconds (one row per run, interleaved rounds);
    ``builds``: label, status (``ok`` or why it could not be built or run), sequence. Labels
    sharing a sequence share one build."""
    if not program.runnable:
        raise EccoError(f"{program.uri} has no main: it cannot be timed")
    if rounds < 3:
        raise EccoError(f"rounds = {rounds}: need at least 3 runs per build for a median and an interval")
    core = quiet_core() if core is None else core
    labelled = {O3: None, O3_AGAIN: None, **{k: tuple(v) for k, v in sequences.items()}}
    builds, exes = [], {}
    with tempfile.TemporaryDirectory(prefix="ecco-rq5-") as tmp:
        directory = Path(tmp)
        for index, (label, sequence) in enumerate(labelled.items()):
            pipeline = Pipeline.of_level("O3") if sequence is None else Pipeline(passes=sequence)
            optimized = run_opt(program.ir, pipeline.opt_text, timeout_s * 5)
            if optimized["status"] != "ok":
                builds.append({"label": label, "status": f"opt: {optimized['status']}", "sequence": sequence})
                continue
            exe, status = _build(optimized["ir"], directory, f"b{index}", timeout_s * 5)
            if exe is not None and _run(exe, core, timeout_s, directory) is None:
                exe, status = None, "the build does not run to a zero exit within the timeout"
            builds.append({"label": label, "status": status,
                           "sequence": None if sequence is None else ",".join(sequence)})
            if exe is not None:
                exes[label] = exe
        rng = random.Random(f"{seed}|{program.uri}")
        runs = []
        for round_ in range(rounds):
            order = list(exes)
            rng.shuffle(order)
            for label in order:
                runs.append({"label": label, "round": round_, "cpu_seconds": _run(exes[label], core, timeout_s, directory)})
    return pd.DataFrame(runs, columns=["label", "round", "cpu_seconds"]), pd.DataFrame(builds)


def speedups(runs: pd.DataFrame, confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per label: median CPU seconds, the speed-up over -O3 (median of -O3 / median of the label;
    > 1 = faster) with a bootstrap interval (each build's runs resampled independently), and
    ``slower``/``faster`` when the interval excludes 1."""
    data = runs.dropna(subset=["cpu_seconds"])
    if O3 not in set(data["label"]):
        raise EccoError("no -O3 runs to compare with")
    base = data.loc[data["label"] == O3, "cpu_seconds"].to_numpy()
    rng = np.random.default_rng(seed)
    rows = []
    for label, group in data.groupby("label", sort=False):
        own = group["cpu_seconds"].to_numpy()
        boot = [np.median(rng.choice(base, len(base))) / max(np.median(rng.choice(own, len(own))), 1e-9)
                for _ in range(resamples)]
        low, high = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2])
        speedup = float(np.median(base) / max(np.median(own), 1e-9))
        rows.append({"label": label, "runs": len(own), "median_s": float(np.median(own)), "speedup": speedup,
                     "ci_low": float(low), "ci_high": float(high),
                     "verdict": "faster" if low > 1 else "slower" if high < 1 else "same"})
    return pd.DataFrame(rows)


def best_sequences(results: pd.DataFrame, program: str) -> dict[str, tuple[str, ...]]:
    """Each method's final best sequence for ``program`` (seed 0 cells; methods without a valid
    sequence are left out): what RQ1 found, timed here without any new search."""
    cells = results[(results["program"] == program) & (results["seed"] == results["seed"].min())]
    return {r.method: tuple(r.sequence.split(",")) for r in cells.itertuples()
            if isinstance(r.sequence, str) and r.sequence}


def time_methods(programs: Sequence, results: pd.DataFrame, *, rounds: int, seed: int = 0,
                 timeout_s: float = 20.0, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(runs, builds, speed-ups) of every method's best sequence on every runnable program of
    ``programs``, each against -O3; speed-ups carry the cell's I_O3 (``i_o3``, NaN for -O3)."""
    from tqdm import tqdm

    all_runs, all_builds, all_speedups = [], [], []
    scores = results.set_index(["method", "program"])["i_o3"]
    for program in tqdm([p for p in programs if p.runnable], desc="timed programs", disable=not progress):
        runs, builds = time_sequences(program, best_sequences(results, program.uri), rounds=rounds, seed=seed,
                                      timeout_s=timeout_s)
        table = speedups(runs, seed=seed)
        table["i_o3"] = [scores.get((label, program.uri), float("nan")) for label in table["label"]]
        for frame, out in ((runs, all_runs), (builds, all_builds), (table, all_speedups)):
            out.append(frame.assign(program=program.uri, suite=program.suite))
    return (pd.concat(all_runs, ignore_index=True), pd.concat(all_builds, ignore_index=True),
            pd.concat(all_speedups, ignore_index=True))


def runtime_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per method (and the -O3 noise control): programs timed, median speed-up over -O3, how many
    are faster / the same / slower (interval excludes 1 or not), how many of its cycle
    "improvements" (I_O3 > 0) are in fact measured slowdowns, and the Spearman correlation between
    I_O3 and the speed-up over its programs (scipy; NaN with fewer than 3)."""
    from scipy.stats import spearmanr

    rows = []
    for label, group in table[table["label"] != O3].groupby("label", sort=False):
        improved = group[group["i_o3"] > 0]
        rho = float(spearmanr(group["i_o3"], group["speedup"]).statistic) \
            if group["i_o3"].notna().sum() >= 3 and group["i_o3"].nunique() > 1 else float("nan")
        rows.append({"method": label, "programs": len(group), "median_speedup": float(group["speedup"].median()),
                     **{v: int((group["verdict"] == v).sum()) for v in ("faster", "same", "slower")},
                     "improvements": len(improved), "improvements_slower": int((improved["verdict"] == "slower").sum()),
                     "spearman_i_o3_speedup": rho})
    return pd.DataFrame(rows).sort_values("median_speedup", ascending=False).reset_index(drop=True)


def compare_objectives(programs: Sequence, cycle_results: pd.DataFrame, runtime_results: pd.DataFrame, *,
                       rounds: int, seed: int = 0, timeout_s: float = 20.0, progress: bool = True) -> pd.DataFrame:
    """Per runnable program and method of ``runtime_results``: the best sequence the search found
    when it minimized measured run time, and the one it found minimizing cycles (from
    ``cycle_results``), both timed against -O3 in the same interleaved rounds (labels
    ``<method> (runtime)``, ``<method> (cycles)``). A search's own run-time measurements are
    few and noisy, so its winner is re-timed here rather than trusted."""
    from tqdm import tqdm

    rows = []
    for program in tqdm([p for p in programs if p.runnable], desc="objectives", disable=not progress):
        runtime_best, cycle_best = best_sequences(runtime_results, program.uri), best_sequences(cycle_results, program.uri)
        sequences = {f"{m} (runtime)": s for m, s in runtime_best.items()}
        sequences.update({f"{m} (cycles)": cycle_best[m] for m in runtime_best if m in cycle_best})
        runs, _ = time_sequences(program, sequences, rounds=rounds, seed=seed, timeout_s=timeout_s)
        rows.append(speedups(runs, seed=seed).assign(program=program.uri, suite=program.suite))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
