"""The notebooks: paired py:percent sources in sync, and every notebook runs under papermill."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import pandas as pd
import pytest

from ecco_lib.reproduce import NOTEBOOK_DIR, NOTEBOOKS, run_notebooks

from conftest import REPO


def _sources(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_paired_files_are_in_sync(name):
    py = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
    ipynb = jupytext.read(NOTEBOOK_DIR / f"{name}.ipynb")
    assert _sources(py) == _sources(ipynb), f"run `make notebooks` to sync {name}"
    assert any("parameters" in c.metadata.get("tags", []) for c in ipynb.cells)


def test_notebooks_have_no_outputs_committed():
    for name in NOTEBOOKS:
        nb = jupytext.read(NOTEBOOK_DIR / f"{name}.ipynb")
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), name


@pytest.mark.slow
def test_reproduce_smoke_profile_runs_every_notebook(tmp_path, monkeypatch):
    committed = REPO / "results" / "o_levels.csv"
    before = committed.stat().st_mtime_ns if committed.exists() else None
    monkeypatch.setenv("ECCO_OUTPUT_ROOT", str(tmp_path))
    executed = run_notebooks("smoke", output_dir=tmp_path / "executed")
    assert [p.stem for p in executed] == list(NOTEBOOKS)
    table = pd.read_csv(tmp_path / "results" / "o_levels.csv")
    assert len(table) == 14 * 6 and set(table["status"]) == {"ok"}
    assert table["checked"].all() and set(table["cpu"]) == {"sapphirerapids"}
    assert (tmp_path / "figures" / "o_levels.png").stat().st_size > 20_000
    inference = pd.read_csv(tmp_path / "results" / "inference" / "results.csv")
    assert set(inference["method"]) == {"ecco", "ga", "rio", "ecco-no-ga", "ecco-uniform", "ecco-no-seeds"}
    assert (inference["evaluations"] <= inference["budget"]).all() and len(inference) == 6 * 7
    assert (tmp_path / "figures" / "inference_best_so_far.png").stat().st_size > 20_000
    rq1 = pd.read_csv(tmp_path / "results" / "rq1" / "results.csv")
    table1_methods = {"ecco", "ga", "rio", "tpe", "opentuner", "pdcat", "comptuner", "grace", "cfsat", "llm-direct"}
    assert set(rq1["method"]) == table1_methods and len(rq1) == len(table1_methods) * 2
    assert (rq1["evaluations"] <= rq1["budget"]).all() and set(rq1["split"]) == {"test"}
    table1 = pd.read_csv(tmp_path / "results" / "rq1" / "table1.csv")
    assert set(table1["method"]) == table1_methods and "average" in table1
    paired = pd.read_csv(tmp_path / "results" / "rq1" / "paired_ecco.csv")
    assert set(paired["baseline"]) == table1_methods - {"ecco"}
    models = sorted(p.stem.rsplit("-", 1)[0] for p in (tmp_path / "results" / "baselines").glob("*.json"))
    assert models == ["cfsat", "comptuner", "grace", "knn", "pdcat", "prior-top-n"]  # offline models (08: the policies)
    assert (tmp_path / "figures" / "rq1_best_so_far.png").stat().st_size > 20_000
    rq2 = pd.read_csv(tmp_path / "results" / "rq2" / "modes.csv")
    greedy = rq2[rq2["mode"] == "greedy"]
    assert {"base", "sft-full", "sft-no-evidence", "sft-no-reasoning", "grpo-full"} <= set(greedy["strategist"])
    searched = rq2[rq2["mode"] != "greedy"]
    chosen = (tmp_path / "results" / "models" / "strategist.json").read_text()
    assert set(searched["strategist"]) == {"base", json.loads(chosen)["candidate"]} and (searched["programs"] == 2).all()
    rq2_cells = pd.read_csv(tmp_path / "results" / "rq2" / "results.csv")  # only base ran anew; chosen = 06's cells
    assert set(rq2_cells["method"]) == {"ecco", "ecco-no-ga"} and len(rq2_cells) == 4
    assert (tmp_path / "figures" / "rq2_modes.png").stat().st_size > 10_000
    policies = pd.read_csv(tmp_path / "results" / "strategist" / "policy_table.csv")
    assert set(policies["policy"]) == {"rio", "prior-top-n", "knn"} and set(policies["n"]) == {4}
    assert set(policies["split"]) == {"test", "validation"}
    validation = pd.read_csv(tmp_path / "results" / "strategist" / "validation_policies.csv")
    assert set(validation["split"]) == {"validation"} and validation["program"].str.startswith("csmith://").all()
    policy_cells = pd.read_csv(tmp_path / "results" / "strategist" / "test_policies.csv")
    assert (policy_cells["budget"] == 4).all() and (policy_cells["evaluations"] <= 4).all()
    rq3 = pd.read_csv(tmp_path / "results" / "rq3" / "paired_ecco.csv")
    assert set(rq3["baseline"]) == {"ecco-no-ga", "llm-direct", "ga", "ecco-uniform", "ecco-no-seeds"}
    assert len(pd.read_csv(tmp_path / "results" / "inference" / "results.csv")) == 6 * 7  # nothing recomputed
    assert len(pd.read_csv(tmp_path / "results" / "rq1" / "results.csv")) == len(table1_methods) * 2
    assert (tmp_path / "results" / "rq3" / "found_by.csv").is_file()
    assert (tmp_path / "figures" / "rq3_best_so_far.png").stat().st_size > 20_000
    rates = pd.read_csv(tmp_path / "results" / "rq4" / "rates.csv").set_index("source")
    assert rates.loc["teacher (reference)", "supported_share"] == 1.0  # the check agrees with the teacher's own text
    assert rates.loc["teacher (reference)", "chance_share"] < 0.7 and rates.loc["teacher (reference)", "answers"] == 2
    speed = pd.read_csv(tmp_path / "results" / "rq5" / "speedups.csv")
    assert {"-O3", "-O3 (again)", "ecco", "ga"} <= set(speed["label"]) and speed["program"].nunique() == 2
    assert (pd.read_csv(tmp_path / "results" / "rq5" / "runs.csv").groupby(["program", "label"]).size() == 3).all()
    objectives = pd.read_csv(tmp_path / "results" / "rq5" / "objectives.csv")
    assert {"ecco (runtime)", "ga (runtime)", "ecco (cycles)", "ga (cycles)"} <= set(objectives["label"])
    assert (pd.read_csv(tmp_path / "results" / "rq5" / "runtime_search.csv")["evaluations"] <= 4).all()
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["rq1"]["methods"] == len(table1_methods) and summary["rq3"]["cells"] == 2
    times = pd.read_csv(tmp_path / "results" / "reproduce_times.csv")
    assert list(times["notebook"]) == list(NOTEBOOKS) and set(times["profile"]) == {"smoke"}
    assert (times["seconds"] > 0).all() and times["cache"].isin(["empty", "warm"]).all()
    assert (committed.stat().st_mtime_ns if committed.exists() else None) == before  # repo untouched


def test_reproduce_keeps_one_time_per_profile_notebook_and_cache_state(tmp_path):
    from ecco_lib.reproduce import record_time

    path = tmp_path / "times.csv"
    record_time(path, "default", "04_sft", "empty", 100.04)
    record_time(path, "default", "02_dataset_construction", "empty", 50)
    record_time(path, "default", "04_sft", "warm", 3)
    record_time(path, "default", "04_sft", "empty", 90)  # a rerun replaces its own row only
    table = pd.read_csv(path)
    assert table[["cache", "notebook", "seconds"]].values.tolist() == [
        ["empty", "02_dataset_construction", 50.0], ["empty", "04_sft", 90.0], ["warm", "04_sft", 3.0]]


def test_force_names_only_stages_that_reuse_finished_work():
    from ecco_lib.errors import EccoError
    from ecco_lib.reproduce import forced

    assert forced(list(NOTEBOOKS), ["04", "05"]) == {"04_sft", "05_grpo"}
    assert forced(["05_grpo"], ["04"]) == set()  # forced but not selected by --only
    assert forced(list(NOTEBOOKS), None) == set()
    with pytest.raises(EccoError, match="06_ga_collaboration: that notebook reuses nothing"):
        forced(list(NOTEBOOKS), ["06"])
    with pytest.raises(EccoError, match="no notebook matches 99"):
        forced(list(NOTEBOOKS), ["99"])
