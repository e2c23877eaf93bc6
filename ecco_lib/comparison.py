"""RQ1 (the paper's Table 1) as tables: every method's headline I_O3 with a bootstrap interval,
ECCO paired against each baseline, sample efficiency, cost, and the paper's LLVM 10 numbers.

Inputs are :func:`ecco_lib.experiments.run_methods` tables. Scores are fractions (0.25 = 25 %);
the headline is the unweighted mean of suite means, as in the paper; a cell whose search found
nothing valid counts as 0 (as -O3), as in :func:`~ecco_lib.experiments.paired_differences`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Sequence

import numpy as np
import pandas as pd

from ecco_lib.benchmarks.embedded import suites
from ecco_lib.errors import EccoError
from ecco_lib.experiments import paired_differences


def paper_table1() -> pd.DataFrame:
    """The paper's Table 1 (I_O3 %, LLVM 10, its suites), one row per printed method; ``method``
    names our method for it ("" for the general LLMs we only reach through an endpoint)."""
    with resources.files("ecco_lib.baselines").joinpath("paper_table1.csv").open() as f:
        return pd.read_csv(f, keep_default_na=False, na_values=[""], dtype={"method": str}).fillna({"method": ""})


def suite_columns() -> dict[str, str]:
    """Our embedded suite -> the paper's suite it mirrors (the order of the paper's columns)."""
    mirrors = {name: info["mirrors"] for name, info in suites().items()}
    order = list(paper_table1().columns[2:-1])
    return dict(sorted(mirrors.items(), key=lambda item: order.index(item[1]) if item[1] in order else len(order)))


def _per_program(results: pd.DataFrame, value: str) -> pd.DataFrame:
    scores = results.assign(**{value: results[value].fillna(0.0)})
    return scores.groupby(["method", "suite", "program"], sort=True)[value].mean().reset_index()


def method_intervals(results: pd.DataFrame, value: str = "i_o3", confidence: float = 0.95,
                     resamples: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """One row per method: its headline (unweighted mean of suite means of per-program means over
    seeds), a bootstrap interval that resamples programs within suites (``stratified``; with one
    program in a suite, programs are resampled as one pool: ``programs``), and the cell count."""
    from scipy.stats import bootstrap

    rows = []
    for method, group in _per_program(results, value).groupby("method", sort=True):
        by_suite = [g[value].to_numpy() for _, g in group.groupby("suite")]
        point = float(np.mean([v.mean() for v in by_suite]))
        samples, kind = (by_suite, "stratified") if all(len(v) >= 2 for v in by_suite) else \
            ([group[value].to_numpy()], "programs")
        low = high = float("nan")
        if all(len(v) >= 2 for v in samples):
            ci = bootstrap(tuple(samples), lambda *xs, axis=-1: np.mean([x.mean(axis=axis) for x in xs], axis=0),
                           vectorized=True, confidence_level=confidence, n_resamples=resamples,
                           method="percentile", random_state=np.random.default_rng(seed)).confidence_interval
            low, high = float(ci.low), float(ci.high)
        else:
            kind = "none"
        rows.append({"method": method, "mean": point, "ci_low": low, "ci_high": high, "ci_method": kind,
                     "programs": len(group), "cells": int((results["method"] == method).sum())})
    return pd.DataFrame(rows).sort_values("mean", ascending=False).reset_index(drop=True)


def table1(results: pd.DataFrame, value: str = "i_o3") -> pd.DataFrame:
    """The paper's layout: one row per method, one column per suite (named ``ours (paper's)``),
    then ``average`` (the unweighted mean of suite means), in percent, best average first."""
    per_program = _per_program(results, value)
    wide = 100 * per_program.pivot_table(index="method", columns="suite", values=value, aggfunc="mean")
    columns = [s for s in suite_columns() if s in wide.columns]
    wide = wide[columns]
    wide["average"] = wide.mean(axis=1)
    wide.columns = [f"{c} ({suite_columns()[c]})" if c in suite_columns() else c for c in wide.columns]
    return wide.sort_values("average", ascending=False)


def beside_paper(ours: pd.DataFrame) -> pd.DataFrame:
    """Our headline next to the paper's (LLVM 10, its suites) per method, and both ranks."""
    paper = paper_table1()
    paper = paper[paper["method"] != ""].set_index("method")
    table = pd.DataFrame({"ours (LLVM 19, %)": ours["average"]}).join(
        paper[["paper_name", "average"]].rename(columns={"average": "paper (LLVM 10, %)"}), how="left")
    table["rank ours"] = table["ours (LLVM 19, %)"].rank(ascending=False, method="min")
    table["rank paper"] = table["paper (LLVM 10, %)"].rank(ascending=False, method="min")
    return table.rename_axis("method")


def paired_against(results: pd.DataFrame, method: str = "ecco", baselines: Sequence[str] | None = None,
                   seed: int = 0) -> pd.DataFrame:
    """``method`` minus each baseline on the same (program, seed) cells, overall (``average``):
    mean paired difference, stratified bootstrap interval, wins / ties / losses (``method``'s)."""
    present = list(dict.fromkeys(results["method"]))
    if method not in present:
        raise EccoError(f"method '{method}' has no results")
    rows = []
    for baseline in [b for b in (baselines or present) if b != method]:
        if baseline not in present:
            raise EccoError(f"baseline '{baseline}' has no results")
        pair = results[results["method"].isin([method, baseline])]
        diff = paired_differences(pair, baseline=baseline, seed=seed)
        rows.append(diff[diff["suite"] == "average"].iloc[0].to_dict())
    return pd.DataFrame(rows).sort_values("mean_difference").reset_index(drop=True)


def in_points(paired: pd.DataFrame) -> pd.DataFrame:
    """:func:`paired_against`'s table as shown: differences and interval in percentage points,
    wins / ties / losses and missing cells, rounded to 2 decimals."""
    shown = paired.assign(**{c: 100 * paired[c] for c in ("mean_difference", "ci_low", "ci_high")})
    return shown[["baseline", "mean_difference", "ci_low", "ci_high", "wins", "ties", "losses", "missing"]].round(2)


def sample_efficiency(curves: pd.DataFrame, at: Sequence[int] = (10, 30, 100)) -> pd.DataFrame:
    """Headline I_O3 (%) of the best found after each number of evaluations in ``at`` (NaN before
    a first valid sequence counts as 0), from :func:`~ecco_lib.experiments.best_so_far`'s table."""
    budget = int(curves["evaluation"].max())
    columns = {}
    for n in at:
        if n > budget:
            continue
        rows = curves[curves["evaluation"] == n].assign(i_o3=lambda d: d["i_o3"].fillna(0.0))
        per_suite = rows.groupby(["method", "suite"])["i_o3"].mean().groupby("method").mean()
        columns[f"after {n}"] = 100 * per_suite
    if not columns:
        raise EccoError(f"no evaluation count in {list(at)} is within the budget ({budget})")
    return pd.DataFrame(columns).sort_values(list(columns)[-1], ascending=False)


def cost_table(results: pd.DataFrame, trace: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per method: mean evaluations, wall seconds per search, seconds outside the compiler per
    search and per evaluation, mean ``generation_seconds`` (LLM methods; 0 when the answers came
    from the cache), and the offline cost its ``extra`` records (learned methods). With ``trace``,
    ``cached_share``: the fraction of counted evaluations this run served from the evaluation cache
    (a cell's seconds are this run's; cold-cache costs are measured by ``perf/``)."""
    extra = results["extra"].map(lambda e: json.loads(e) if isinstance(e, str) and e else {})
    frame = results.assign(offline_evaluations=extra.map(lambda e: e.get("offline_evaluations")),
                           offline_seconds=extra.map(lambda e: e.get("offline_seconds")),
                           generation_seconds=extra.map(lambda e: e.get("generation_seconds")))
    table = frame.groupby("method").agg(evaluations=("evaluations", "mean"), seconds=("seconds", "mean"),
                                        method_seconds=("method_seconds", "mean"),
                                        generation_seconds=("generation_seconds", "mean"),
                                        offline_evaluations=("offline_evaluations", "max"),
                                        offline_seconds=("offline_seconds", "max"))
    table["method_ms_per_evaluation"] = 1000 * table["method_seconds"] / table["evaluations"].clip(lower=1)
    if trace is not None:
        cached = trace.assign(cached=trace["cached"].astype(str).str.lower().isin(["true", "1"]))
        table["cached_share"] = cached.groupby("method")["cached"].mean()
    return table.sort_values("seconds")


def budget_audit(results: pd.DataFrame, trace: pd.DataFrame) -> pd.DataFrame:
    """Per method, the checks of an equal-budget comparison: ``cells``; ``max_evaluations`` and
    ``over_budget`` (cells whose counted evaluations exceed their budget: must be 0);
    ``trace_mismatch`` (cells whose trace does not hold exactly ``evaluations`` rows of distinct
    sequences: must be 0); ``outside_search_space`` (evaluations naming a pass outside
    :data:`~ecco_lib.llvm.passes.SEARCH_PASSES`: must be 0); ``no_valid_sequence`` (cells that found nothing valid, scored 0); and
    ``failed_evaluations`` (evaluations whose status was not ``ok``, summed from ``status_counts``:
    recorded, never fatal)."""
    from ecco_lib.llvm.passes import SEARCH_PASSES

    key = ["method", "program", "seed", "budget", "settings"]
    allowed = frozenset(SEARCH_PASSES)
    trace = trace.assign(outside=[not allowed.issuperset(str(s).split(",")) for s in trace["sequence"]])
    counted = trace.groupby(key).agg(rows=("sequence", "size"), distinct=("sequence", "nunique"),
                                     outside=("outside", "sum"))
    frame = results.set_index(key).join(counted).reset_index()
    frame["rows"] = frame["rows"].fillna(0)
    frame["distinct"] = frame["distinct"].fillna(0)
    frame["outside"] = frame["outside"].fillna(0).astype(int)
    statuses = frame["status_counts"].map(lambda s: json.loads(s) if isinstance(s, str) and s else {})
    frame = frame.assign(over=frame["evaluations"] > frame["budget"],
                         mismatch=(frame["rows"] != frame["evaluations"]) | (frame["distinct"] != frame["evaluations"]),
                         invalid=frame["status"] != "ok",
                         failed=statuses.map(lambda s: sum(n for k, n in s.items() if k != "ok")))
    return frame.groupby("method").agg(cells=("program", "size"), max_evaluations=("evaluations", "max"),
                                       over_budget=("over", "sum"), trace_mismatch=("mismatch", "sum"),
                                       outside_search_space=("outside", "sum"),
                                       no_valid_sequence=("invalid", "sum"), failed_evaluations=("failed", "sum"))
