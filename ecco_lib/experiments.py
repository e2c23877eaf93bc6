"""Experiments as tables: each function evaluates and returns a pandas DataFrame of result rows
(one :class:`~ecco_lib.llvm.evaluate.Measurement` per row, every metric setting included), and
:func:`run_methods`, the resumable equal-budget comparison of search methods every RQ notebook calls."""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm

from ecco_lib.atomic import atomic_path, check_writable
from ecco_lib.errors import EccoError
from ecco_lib.benchmarks.program import Program
from ecco_lib.llvm.evaluate import Evaluator
from ecco_lib.llvm.passes import DROPPED, REGISTRY
from ecco_lib.llvm.pipeline import O_LEVELS, Pipeline
from ecco_lib.llvm.steps import by_hand_cycles

#: Pipelines of the sanity check: levels, the empty sequence and a short mixed-level sequence.
SANITY_PIPELINES = ("O0", "O3", "Oz", "", "mem2reg,licm,inline,instcombine,loop-unroll,gvn,simplifycfg")


def environment_report(profile) -> dict:
    """Versions of the toolchain and the ML stack, and the profile's metric and execution settings."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from ecco_lib.llvm.toolchain import find_toolchain

    report = {"profile": profile.name, "seed": profile.seed, "python": platform.python_version(),
              "machine": f"{platform.machine()} ({os.cpu_count()} cores)"}
    report.update(find_toolchain().describe())
    report.update({f"metric.{k}": v for k, v in profile.metric.as_record().items()})
    report.update({f"execution.{k}": v for k, v in profile["execution"].items()})
    for package in ("torch", "transformers", "trl", "peft", "pandas", "papermill", "gymnasium", "ray"):
        try:
            report[package] = version(package)
        except PackageNotFoundError:
            report[package] = "not installed"
    return report


def action_space_summary() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(passes per category x level, dropped CompilerGym passes with the reason)."""
    registry = pd.DataFrame([{"category": p.category, "level": p.level} for p in REGISTRY])
    counts = registry.pivot_table(index="category", columns="level", aggfunc="size", fill_value=0)
    counts["total"] = counts.sum(axis=1)
    dropped = pd.DataFrame([{"legacy pass": f"-{k}", "why": v} for k, v in DROPPED.items()])
    return counts, dropped


def sanity_check(evaluator: Evaluator, program: Program | None = None) -> pd.DataFrame:
    """Evaluate :data:`SANITY_PIPELINES` on ``program`` (default: the first embedded program) and
    compare each cycle count with :func:`by_hand_cycles`. Raises ``RuntimeError`` on any mismatch."""
    from ecco_lib.benchmarks import embedded

    program = program or embedded.load(embedded.program_names()[0], evaluator.cache)
    pipelines = [Pipeline.of_level(p) if p in O_LEVELS else Pipeline.of_passes(p) for p in SANITY_PIPELINES]
    rows = evaluator.evaluate_many([(program, p) for p in pipelines], desc="sanity")
    table = pd.DataFrame([{"program": r.program, "pipeline": r.pipeline or "(none)", "status": r.status,
                           "cycles": r.cycles, "by_hand": by_hand_cycles(program.ir, p.opt_text, evaluator.metric),
                           "checked": r.checked, "runtime_s": r.runtime_s} for r, p in zip(rows, pipelines)])
    table["match"] = table["cycles"] == table["by_hand"]
    bad = table[(table["status"] != "ok") | ~table["match"]]
    if len(bad):
        raise RuntimeError(f"sanity check failed:\n{bad.to_string(index=False)}")
    return table


def program_inventory(programs: Sequence[Program]) -> pd.DataFrame:
    """Programs per suite and split."""
    frame = pd.DataFrame([{"suite": p.suite, "split": p.split or "-", "program": p.name} for p in programs])
    return frame.pivot_table(index="suite", columns="split", values="program", aggfunc="count", fill_value=0)


def runtime_agreement(rows: pd.DataFrame) -> pd.DataFrame:
    """Per pipeline: Spearman correlation between I_O3 (estimated) and the measured runtime change
    relative to -O3, ``(t_O3 - t) / t_O3``, over programs with checked ``ok`` builds. The rows
    left out (not ok, or no measured runtime) are counted in ``attrs["dropped"]``."""
    from scipy.stats import spearmanr

    ok = rows[(rows["status"] == "ok") & rows["runtime_s"].notna()]
    o3 = ok[ok["pipeline"] == "O3"].set_index("program")["runtime_s"]
    out = []
    for pipeline, group in ok[ok["pipeline"] != "O3"].groupby("pipeline"):
        group = group[group["program"].isin(o3.index)]
        t_o3 = group["program"].map(o3)
        speedup = (t_o3 - group["runtime_s"]) / t_o3
        rho, p_value = spearmanr(group["i_o3"], speedup) if len(group) > 2 else (float("nan"), float("nan"))
        out.append({"pipeline": pipeline, "programs": len(group), "mean I_O3 (%)": 100 * group["i_o3"].mean(),
                    "mean runtime change (%)": 100 * speedup.mean(), "spearman_rho": rho, "p_value": p_value})
    table = pd.DataFrame(out)
    table.attrs["dropped"] = {**dropped_rows(rows), "no runtime": int(((rows["status"] == "ok")
                                                                        & rows["runtime_s"].isna()).sum())}
    return table


def o_level_table(programs: Sequence[Program], evaluator: Evaluator,
                  levels: Sequence[str] = O_LEVELS) -> pd.DataFrame:
    """Every program at every -O level, with ``cycles_O3`` and ``i_o3`` filled."""
    pairs = [(p, Pipeline.of_level(level)) for p in programs for level in levels]
    rows = evaluator.evaluate_many(pairs, desc="-O levels")
    evaluator.with_o3(rows, {p.uri: p for p in programs})
    table = pd.DataFrame([r.as_dict() for r in rows])
    names = {p.uri: p.name for p in programs}
    table.insert(2, "name", table["program"].map(names))
    return table


def dropped_rows(rows: pd.DataFrame) -> dict[str, int]:
    """Rows that are not ``ok`` (left out of every mean), counted by status."""
    return {str(k): int(v) for k, v in rows.loc[rows["status"] != "ok", "status"].value_counts().sort_index().items()}


def suite_scores(rows: pd.DataFrame, value: str = "i_o3", by: str = "pipeline") -> pd.DataFrame:
    """Mean ``value`` per suite (rows) and ``by`` (columns) over ``ok`` rows, plus the paper's
    headline row ``average``: the unweighted mean of the suite means. The rows left out are
    counted in ``table.attrs["dropped"]`` (status -> rows, see :func:`dropped_rows`) and
    ``table.attrs["unchecked"]`` counts the ``ok`` rows whose check could not run."""
    from ecco_lib.report import is_unchecked

    ok = rows[rows["status"] == "ok"]
    table = ok.pivot_table(index="suite", columns=by, values=value, aggfunc="mean")
    table.loc["average"] = table.mean(axis=0)
    table.attrs["dropped"] = dropped_rows(rows)
    table.attrs["unchecked"] = int(sum(is_unchecked(r) for r in ok.to_dict("records")))
    return table


def status_counts(rows: pd.DataFrame, by: str = "pipeline") -> pd.DataFrame:
    """How many rows ended in each status, per ``by`` value (every status is visible)."""
    return rows.pivot_table(index=by, columns="status", values="program", aggfunc="count", fill_value=0)


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write CSV atomically: a crash never leaves a half-written result file."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return Path(path)


# -- search methods at an equal budget -----------------------------------------------------------

#: Columns identifying one cell of a method comparison (one search of one program with one seed).
CELL_KEY = ("method", "program", "seed", "budget", "settings")
#: Columns of the trace table: the cell, then one evaluation.
TRACE_COLUMNS = (*CELL_KEY, "evaluation", "sequence", "status", "cycles", "best_cycles", "cached", "seconds")
#: Result columns that depend on wall-clock time only (left out when comparing reruns).
TIMING_COLUMNS = ("seconds", "compile_seconds", "method_seconds")


def _cell_rows(result, program: Program, settings: str, evaluator: Evaluator) -> tuple[dict, list[dict]]:
    """The result row and trace rows of one finished cell."""
    row = {**result.as_row(), "split": program.split or "", "settings": settings,
           "status": "ok" if result.found else "no-valid-sequence",
           "status_counts": json.dumps(result.status_counts(), sort_keys=True),
           "extra": json.dumps(result.extra, sort_keys=True, default=str),
           "llvm_version": evaluator.toolchain.version, "checked": evaluator.check, **evaluator.metric.as_record()}
    key = {k: row[k] for k in CELL_KEY}
    trace = [{**key, **{c: t[c] for c in TRACE_COLUMNS[len(CELL_KEY):]}} for t in result.trace]
    return row, trace


def _read_existing(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"settings": str, "sequence": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise EccoError(f"{path}: not a results table written by run_methods ({exc})") from None


def _sorted(frame: pd.DataFrame, extra: Sequence[str] = ()) -> pd.DataFrame:
    return frame.sort_values([*CELL_KEY, *extra], kind="stable").reset_index(drop=True)


def cell_fingerprint(optimizer, settings: dict, measure: str = "cycles") -> str:
    """The ``settings`` column of a cell: the method's settings and, when the optimizer names them
    (``inputs()``: e.g. the training evidence's digest, the strategist's weights, the prior), the
    digests of the files its result depends on, so a cell is rerun when one of them changed; a
    measure other than cycles is part of it too."""
    from ecco_lib.search import settings_fingerprint

    inputs = getattr(optimizer, "inputs", None)
    settings = {**settings, "inputs": inputs()} if inputs is not None else dict(settings)
    return settings_fingerprint(settings if measure == "cycles" else {**settings, "measure": measure})


def run_methods(programs: Sequence[Program], methods: Sequence[str], *, budget: int, seeds: Sequence[int],
                evaluator: Evaluator, results_path: str | os.PathLike, trace_path: str | os.PathLike,
                settings: dict | None = None, threads: int = 1, progress: bool = True,
                measure: str = "cycles") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every (method, program, seed) cell at ``budget`` evaluations and return (results, trace).

    ``settings`` is the profile's ``search.methods`` mapping (method name -> settings section).
    Both tables are long-format CSV files, rewritten atomically each time a cell finishes (trace
    first, then results), so a killed run resumes where it stopped: a cell whose result row
    exists is never recomputed, and trace rows of unfinished cells are dropped on resume. The
    -O3 reference of each program is measured once, outside every budget. ``threads`` cells run
    at a time (they share the evaluator's workers and cache); the tables' order does not depend on it.
    A learned method's ``offline(evaluator)`` stage runs (or loads) first, so its cost is in its
    ``extra`` (``offline_*``), never in a cell's seconds. ``measure`` is the Objective's
    (:data:`~ecco_lib.search.objective.MEASURES`; with ``runtime`` the cycle columns hold
    microseconds of run time, and the cells are distinct from the cycle ones).
    """
    from ecco_lib.search import Objective, make_optimizer

    results_path, trace_path = Path(results_path), Path(trace_path)
    for path in (results_path, trace_path):
        check_writable(path)
    if not methods or not seeds or not programs:
        raise EccoError("run_methods needs at least one method, one seed and one program")
    built = {m: make_optimizer(m, settings) for m in dict.fromkeys(methods)}
    fingerprints = {m: cell_fingerprint(o, s, measure) for m, (o, s) in built.items()}

    existing = _read_existing(results_path)
    rows = existing.to_dict("records") if existing is not None else []
    done = {tuple(str(r[k]) for k in CELL_KEY) for r in rows}
    old_trace = _read_existing(trace_path)
    trace_rows = [] if old_trace is None else \
        [t for t in old_trace.to_dict("records") if tuple(str(t[k]) for k in CELL_KEY) in done]

    cells = [(m, p, s) for m in built for p in programs for s in seeds
             if (m, p.uri, str(s), str(budget), fingerprints[m]) not in done]
    o3 = {}
    if cells:
        needed = list({p.uri: p for _, p, _ in cells}.values())
        o3 = dict(zip([p.uri for p in needed],
                      evaluator.evaluate_many([(p, Pipeline.of_level("O3")) for p in needed], desc="-O3 reference")))
    for method in dict.fromkeys(m for m, _, _ in cells):  # offline training, outside every cell's timing
        offline = getattr(built[method][0], "offline", None)
        if offline is not None:
            offline(evaluator)
    lock = threading.Lock()
    bar = tqdm(total=len(cells), desc="cells", disable=not progress)

    def run(cell) -> None:
        method, program, seed = cell
        optimizer, _ = built[method]
        objective = Objective(program, evaluator, budget, o3=o3[program.uri], measure=measure)
        result = optimizer.optimize(program, objective, seed)
        row, trace = _cell_rows(result, program, fingerprints[method], evaluator)
        with lock:
            rows.append(row)
            trace_rows.extend(trace)
            write_table(_sorted(pd.DataFrame(trace_rows, columns=list(TRACE_COLUMNS)), ["evaluation"]), trace_path)
            write_table(_sorted(pd.DataFrame(rows)), results_path)
            bar.update(1)

    try:
        if threads <= 1:
            for cell in cells:
                run(cell)
        else:
            with ThreadPoolExecutor(threads) as pool:
                for future in [pool.submit(run, cell) for cell in cells]:
                    future.result()
    finally:
        bar.close()
    results = _sorted(pd.DataFrame(rows)) if rows else pd.DataFrame(columns=list(CELL_KEY))
    trace = _sorted(pd.DataFrame(trace_rows, columns=list(TRACE_COLUMNS)), ["evaluation"])
    wanted = {(m, p.uri, s) for m in built for p in programs for s in seeds}
    mask = [(r["method"], r["program"], int(r["seed"])) in wanted and int(r["budget"]) == budget
            and r["settings"] == fingerprints.get(r["method"]) for r in results.to_dict("records")]
    return results[mask].reset_index(drop=True), trace.merge(results[mask][list(CELL_KEY)], on=list(CELL_KEY))


def best_so_far(results: pd.DataFrame, trace: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, program, seed, evaluation index 1..budget): I_O3 of the best sequence
    found so far (NaN until the first ``ok`` evaluation). A search that stopped early (e.g. Best-of-N
    alone) keeps its last value up to the budget, so every curve spans the same x axis."""
    rows = []
    o3 = results.set_index(["method", "program", "seed"])["cycles_O3"]
    for (method, program, seed), group in trace.groupby(["method", "program", "seed"], sort=True):
        c_o3 = o3.get((method, program, seed))
        budget = int(group["budget"].iloc[0])
        best = group.set_index("evaluation")["best_cycles"].reindex(range(1, budget + 1)).ffill()
        score = (c_o3 - best) / c_o3 if c_o3 else best * float("nan")
        suite = results.loc[(results["program"] == program), "suite"].iloc[0]
        rows.extend({"method": method, "program": program, "suite": suite, "seed": seed, "evaluation": i,
                     "i_o3": s} for i, s in score.items())
    return pd.DataFrame(rows)


def paired_differences(results: pd.DataFrame, baseline: str = "ga", value: str = "i_o3",
                       confidence: float = 0.95, resamples: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """Each method against ``baseline`` on the same (program, seed) cells: per suite and overall
    (``average`` = unweighted mean of suite means, the paper's headline), the mean paired
    difference of ``value``, wins / ties / losses, and a bootstrap interval (scipy) that resamples
    programs within suites (``ci_method`` "stratified"; each program's difference is its mean over
    seeds). With one program in some suite the ``average`` interval resamples programs instead
    ("programs": the mean over programs is resampled) and a suite's
    own interval is NaN ("none"). A cell whose search found nothing valid counts as ``value`` 0
    (as -O3), and ``missing`` says how many."""
    from scipy.stats import bootstrap

    scores = results.assign(**{value: results[value].fillna(0.0)})
    wide = scores.pivot_table(index=["suite", "program", "seed"], columns="method", values=value, aggfunc="first")
    missing = results[results[value].isna()].groupby("method").size()
    if baseline not in wide:
        raise EccoError(f"baseline method '{baseline}' has no results")
    rows = []
    for method in [m for m in wide.columns if m != baseline]:
        diff = (wide[method] - wide[baseline]).dropna()
        per_program = diff.groupby(["suite", "program"]).mean()
        suites = {s: g.to_numpy() for s, g in per_program.groupby(level="suite")}
        for suite, values in [*suites.items(), ("average", None)]:
            if suite == "average":
                point = float(np.mean([v.mean() for v in suites.values()]))
                samples, cells = list(suites.values()), diff
                if not all(len(v) >= 2 for v in samples) and len(suites) >= 2:
                    samples = [per_program.to_numpy()]  # one program in some suite: resample programs
            else:
                point, samples, cells = float(values.mean()), [values], diff.xs(suite, level="suite")
            low = high = float("nan")
            method_ci = "none"
            if all(len(v) >= 2 for v in samples):
                ci = bootstrap(tuple(samples), lambda *xs, axis=-1: np.mean([x.mean(axis=axis) for x in xs], axis=0),
                               paired=False, vectorized=True, confidence_level=confidence, n_resamples=resamples,
                               method="percentile", random_state=np.random.default_rng(seed)).confidence_interval
                low, high = float(ci.low), float(ci.high)
                method_ci = "stratified" if len(samples) > 1 else "programs"
            rows.append({"method": method, "baseline": baseline, "suite": suite, "cells": len(cells),
                         "mean_difference": point, "ci_low": low, "ci_high": high,
                         "ci_method": method_ci, "wins": int((cells > 0).sum()), "ties": int((cells == 0).sum()),
                         "losses": int((cells < 0).sum()), "missing": int(missing.get(method, 0))})
    return pd.DataFrame(rows)


def variant_label(method: str, overrides: dict) -> str:
    """``method`` for the profile's own settings, else ``method k=v,...`` (keys sorted)."""
    return method if not overrides else f"{method} " + ",".join(f"{k}={v}" for k, v in sorted(overrides.items()))


def settings_sweep(programs: Sequence[Program], method: str, variants: Sequence[dict], *, budget: int,
                   seeds: Sequence[int], evaluator: Evaluator, results_path: str | os.PathLike,
                   trace_path: str | os.PathLike, settings: dict | None = None, baselines: Sequence[str] = (),
                   progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``method`` once per variant (each a mapping of overrides of its ``search.methods``
    section; ``{}`` = the profile's settings) and every baseline with the profile's settings, on
    the same (program, seed) cells at ``budget``, through :func:`run_methods` (resumable, one pair
    of files). Returns (results, trace) whose ``method`` column is the :func:`variant_label`, so
    :func:`paired_differences` and :func:`best_so_far` compare variants directly; ``variant``
    holds the overrides as JSON. Test-split programs are refused: settings are chosen on train."""
    from ecco_lib.search import get_method

    if not variants:
        raise EccoError("settings_sweep needs at least one variant ({} = the profile's settings)")
    tested = [p.uri for p in programs if p.split == "test"]
    if tested:
        raise EccoError(f"settings are chosen on the train split, never on the test split ({tested[0]} and "
                        f"{len(tested) - 1} more test programs given)")
    section = get_method(method).section or method
    runs = [(variant_label(method, dict(v)), [method], {**(settings or {}),
             section: {**((settings or {}).get(section) or {}), **dict(v)}}, dict(v)) for v in variants]
    if baselines:
        runs.append((None, list(baselines), settings, {}))
    results, traces = [], []
    for label, methods, sections, overrides in runs:
        rows, trace = run_methods(programs, methods, budget=budget, seeds=seeds, evaluator=evaluator,
                                  settings=sections, results_path=results_path, trace_path=trace_path,
                                  progress=progress)
        if label is not None:
            rows, trace = rows.assign(method=label), trace.assign(method=label)
        results.append(rows.assign(variant=json.dumps(overrides, sort_keys=True)))
        traces.append(trace)
    return pd.concat(results, ignore_index=True), pd.concat(traces, ignore_index=True)


def sweep_summary(results: pd.DataFrame, baseline: str = "ga", seed: int = 0) -> pd.DataFrame:
    """One row per method or variant: the headline mean I_O3 (unweighted mean of suite means),
    and its paired difference against ``baseline`` on the same cells with the bootstrap interval
    and wins / ties / losses (see :func:`paired_differences`); sorted best first."""
    headline = suite_scores(results, by="method").loc["average"].rename("mean_i_o3")
    differences = paired_differences(results, baseline=baseline, seed=seed)
    overall = differences[differences["suite"] == "average"].set_index("method")
    table = headline.to_frame().join(overall[["mean_difference", "ci_low", "ci_high", "wins", "ties", "losses",
                                              "missing"]])
    table["cells"] = results.groupby("method").size()
    return table.sort_values("mean_i_o3", ascending=False).rename_axis("method").reset_index()
