"""The notebooks: paired py:percent sources in sync, and every notebook runs under papermill."""

from __future__ import annotations

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
    models = sorted(p.name.split("-")[0] for p in (tmp_path / "results" / "baselines").glob("*.json"))
    assert models == ["cfsat", "comptuner", "grace", "pdcat"]  # the learned baselines' offline models
    assert (tmp_path / "figures" / "rq1_best_so_far.png").stat().st_size > 20_000
    assert (committed.stat().st_mtime_ns if committed.exists() else None) == before  # repo untouched
