"""Experiments as tables: each function evaluates and returns a pandas DataFrame of result rows
(one :class:`~ecco_lib.llvm.evaluate.Measurement` per row, every metric setting included)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import pandas as pd

from ecco_lib.atomic import atomic_path
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
    relative to -O3, ``(t_O3 - t) / t_O3``, over programs with checked ``ok`` builds."""
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
    return pd.DataFrame(out)


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


def suite_scores(rows: pd.DataFrame, value: str = "i_o3", by: str = "pipeline") -> pd.DataFrame:
    """Mean ``value`` per suite (rows) and ``by`` (columns) over ``ok`` rows, plus the paper's
    headline row ``average``: the unweighted mean of the suite means."""
    ok = rows[rows["status"] == "ok"]
    table = ok.pivot_table(index="suite", columns=by, values=value, aggfunc="mean")
    table.loc["average"] = table.mean(axis=0)
    return table


def status_counts(rows: pd.DataFrame, by: str = "pipeline") -> pd.DataFrame:
    """How many rows ended in each status, per ``by`` value (every status is visible)."""
    return rows.pivot_table(index=by, columns="status", values="program", aggfunc="count", fill_value=0)


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write CSV atomically: a crash never leaves a half-written result file."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return Path(path)
