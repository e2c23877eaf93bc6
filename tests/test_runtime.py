"""RQ5's timing on real builds: interleaved rounds, every build run the same number of times, a
failed build recorded rather than fatal, -O0 measured slower than -O3, nothing but runnable
programs timed."""

from __future__ import annotations

import pandas as pd
import pytest

from ecco_lib.benchmarks import resolve
from ecco_lib.errors import EccoError
from ecco_lib.runtime import O3, O3_AGAIN, best_sequences, runtime_summary, speedups, time_sequences

pytestmark = pytest.mark.xdist_group("timing")  # runs are timed: keep them off the other worker's core


def test_builds_are_timed_interleaved_and_O0_is_slower(session_cache):
    program = resolve("ecco://telecom/crc", cache=session_cache)[0]
    runs, builds = time_sequences(program, {"none": (), "sroa": ("sroa", "instcombine")}, rounds=7, seed=1)
    assert list(builds["label"]) == [O3, O3_AGAIN, "none", "sroa"] and set(builds["status"]) == {"ok"}
    assert runs.groupby("label").size().to_dict() == {O3: 7, O3_AGAIN: 7, "none": 7, "sroa": 7}
    first_round = runs[runs["round"] == 0]["label"].tolist()
    assert sorted(first_round) == sorted([O3, O3_AGAIN, "none", "sroa"])  # each build once per round
    assert runs["cpu_seconds"].notna().all() and (runs["cpu_seconds"] >= 0).all()
    table = speedups(runs, resamples=500).set_index("label")
    assert table.loc[O3, "speedup"] == 1.0 and table.loc["none", "median_s"] > table.loc[O3, "median_s"]
    assert table.loc["none", "speedup"] < 1 and table.loc["none", "ci_low"] <= table.loc["none", "speedup"]


def test_builds_that_cannot_run_are_recorded_and_bad_requests_refused(session_cache):
    program = resolve("ecco://telecom/crc", cache=session_cache)[0]
    runs, builds = time_sequences(program, {"sroa": ("sroa",)}, rounds=3, timeout_s=1e-6)  # nothing can finish
    assert len(builds) == 3 and "ok" not in set(builds["status"]) and runs.empty
    with pytest.raises(EccoError, match="no -O3 runs"):
        speedups(runs)
    with pytest.raises(EccoError, match="at least 3"):
        time_sequences(program, {}, rounds=2)
    library = type(program)(uri="x://lib", suite="x", name="lib", ir=program.ir, runnable=False)
    with pytest.raises(EccoError, match="no main"):
        time_sequences(library, {}, rounds=3)


def test_summary_counts_improvements_that_run_slower():
    table = pd.DataFrame([
        {"label": O3, "program": "p", "speedup": 1.0, "verdict": "same", "i_o3": float("nan")},
        {"label": "m", "program": "p", "speedup": 0.8, "verdict": "slower", "i_o3": 0.3},
        {"label": "m", "program": "q", "speedup": 1.2, "verdict": "faster", "i_o3": 0.1},
        {"label": "m", "program": "r", "speedup": 1.0, "verdict": "same", "i_o3": -0.1},
    ])
    row = runtime_summary(table).set_index("method").loc["m"]
    assert (row["programs"], row["faster"], row["same"], row["slower"]) == (3, 1, 1, 1)
    assert (row["improvements"], row["improvements_slower"]) == (2, 1) and row["spearman_i_o3_speedup"] < 0
    results = pd.DataFrame([{"method": "ga", "program": "p", "seed": 0, "sequence": "sroa,gvn"},
                            {"method": "llm-direct", "program": "p", "seed": 0, "sequence": float("nan")}])
    assert best_sequences(results, "p") == {"ga": ("sroa", "gvn")}
