"""RQ1 tables (ecco_lib.comparison) on hand-made result tables whose numbers are known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ecco_lib.comparison import (beside_paper, budget_audit, cost_table, method_intervals, paired_against, paper_table1,
                                 sample_efficiency, suite_columns, table1)
from ecco_lib.errors import EccoError

SUITES = {"linalg": ["a", "b"], "nas": ["c", "d", "e"]}
SCORES = {"ga": [0.10, 0.20, 0.30, 0.30, 0.60], "ecco": [0.20, 0.20, 0.30, 0.40, 0.80], "rio": [0.0, 0.1, 0.2, 0.2, None]}


def _results() -> pd.DataFrame:
    programs = [(s, f"ecco://{s}/{p}") for s, ps in SUITES.items() for p in ps]
    rows = []
    for method, values in SCORES.items():
        for (suite, program), value in zip(programs, values):
            rows.append({"method": method, "suite": suite, "program": program, "seed": 0, "i_o3": value,
                         "evaluations": 10, "seconds": 2.0, "method_seconds": 0.5,
                         "extra": json.dumps({"offline_evaluations": 7, "offline_seconds": 1.5} if method == "ecco" else {})})
    return pd.DataFrame(rows)


def test_table1_is_the_unweighted_mean_of_suite_means_in_the_papers_column_order():
    table = table1(_results())
    assert list(table.columns) == ["linalg (blas)", "nas (npb)", "average"]
    assert table.loc["ga", "linalg (blas)"] == pytest.approx(15.0)
    assert table.loc["ga", "nas (npb)"] == pytest.approx(40.0)
    assert table.loc["ga", "average"] == pytest.approx(27.5)
    assert table.loc["rio", "nas (npb)"] == pytest.approx(100 * 0.4 / 3)  # a failed search counts as 0
    assert list(table.index) == ["ecco", "ga", "rio"]


def test_method_intervals_contain_the_headline_and_follow_the_stratification():
    table = method_intervals(_results(), resamples=2000).set_index("method")
    assert table.loc["ga", "mean"] == pytest.approx(0.275)
    assert table.loc["ga", "ci_method"] == "stratified"
    for method in SCORES:
        assert table.loc[method, "ci_low"] <= table.loc[method, "mean"] <= table.loc[method, "ci_high"]
    # within-suite resampling: linalg's mean ranges over {0.1, 0.15, 0.2}, nas's over [0.3, 0.6]
    assert table.loc["ga", "ci_low"] >= (0.10 + 0.30) / 2 - 1e-12
    assert table.loc["ga", "ci_high"] <= (0.20 + 0.60) / 2 + 1e-12


def test_paired_against_counts_wins_of_the_method_over_each_baseline():
    table = paired_against(_results(), "ecco", seed=0).set_index("baseline")
    assert table.loc["ga", "wins"] == 3 and table.loc["ga", "ties"] == 2 and table.loc["ga", "losses"] == 0
    assert table.loc["ga", "mean_difference"] == pytest.approx(np.mean([0.05, (0.0 + 0.1 + 0.2) / 3]))
    assert table.loc["rio", "wins"] == 5
    with pytest.raises(EccoError, match="no results"):
        paired_against(_results(), "ecco", baselines=["tpe"])


def test_sample_efficiency_reads_the_curve_at_each_budget():
    curves = pd.DataFrame([{"method": "ga", "suite": s, "program": p, "seed": 0, "evaluation": e,
                            "i_o3": (None if e == 1 else e / 100)} for s, p in (("linalg", "x"), ("nas", "y"))
                           for e in range(1, 31)])
    table = sample_efficiency(curves, at=(1, 10, 30, 100))
    assert list(table.columns) == ["after 1", "after 10", "after 30"]
    assert table.loc["ga", "after 1"] == 0.0 and table.loc["ga", "after 30"] == pytest.approx(30.0)


def test_cost_table_and_the_papers_numbers():
    costs = cost_table(_results())
    assert costs.loc["ecco", "offline_evaluations"] == 7 and np.isnan(costs.loc["ga", "offline_evaluations"])
    assert costs.loc["ga", "method_ms_per_evaluation"] == pytest.approx(50.0)
    paper = paper_table1()
    assert paper.set_index("paper_name").loc["ECCO (Best-of-32)", "average"] == 24.44
    assert set(suite_columns().values()) == set(paper.columns[2:-1])
    side = beside_paper(table1(_results()))
    assert side.loc["ecco", "paper (LLVM 10, %)"] == 24.44 and side.loc["ecco", "rank ours"] == 1


def test_budget_audit_of_a_real_run_and_what_it_catches(small_program, evaluator, tmp_path):
    from ecco_lib.experiments import run_methods

    results, trace = run_methods([small_program], ["rio", "ga"], budget=6, seeds=[0, 1], evaluator=evaluator,
                                 results_path=tmp_path / "r.csv", trace_path=tmp_path / "t.csv", progress=False)
    audit = budget_audit(results, trace)
    assert audit["cells"].to_dict() == {"ga": 2, "rio": 2} and (audit["max_evaluations"] <= 6).all()
    assert (audit[["over_budget", "trace_mismatch", "outside_search_space", "no_valid_sequence"]] == 0).all().all()
    leaked = trace.assign(sequence=trace["sequence"].where(trace.index != 0, "sroa,insert-gcov-profiling"))
    assert budget_audit(results, leaked)["outside_search_space"].sum() == 1
    again, again_trace = run_methods([small_program], ["rio"], budget=6, seeds=[0], evaluator=evaluator,
                                     results_path=tmp_path / "r2.csv", trace_path=tmp_path / "t2.csv", progress=False)
    assert cost_table(again, again_trace).loc["rio", "cached_share"] == 1.0  # every evaluation was cached
    inflated = results.assign(evaluations=results["evaluations"].where(results["method"] != "rio", 7))
    assert budget_audit(inflated, trace).loc["rio", ["over_budget", "trace_mismatch"]].tolist() == [2, 2]
    assert budget_audit(results, trace.iloc[1:]).loc[trace.iloc[0]["method"], "trace_mismatch"] == 1
