"""The ``opentuner`` baseline (the real OpenTuner 0.8.8): exact budgets, identical traces for a seed
whatever the cache or the threads, no file in the working directory, failed compilations reported
as bad, and a clear line when its pinned dependencies are wrong."""

from __future__ import annotations

import importlib.metadata
import math
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ecco_lib.errors import EccoError
from ecco_lib.llvm import Evaluator
from ecco_lib.search import TRACE_KEY, Objective, make_optimizer

from conftest import FailingEvaluator

SETTINGS = {"opentuner": {"slots": 12}}
PROGRAMS = ("ecco://nas/is", "ecco://automotive/basicmath")
BUDGET = 16


def _search(program, evaluator, seed, budget=BUDGET, **settings):
    optimizer, _ = make_optimizer("opentuner", {"opentuner": {**SETTINGS["opentuner"], **settings}})
    return optimizer.optimize(program, Objective(program, evaluator, budget), seed)


def _key(result):
    return [tuple(row[c] for c in TRACE_KEY) for row in result.trace]


def _programs(embedded_programs):
    chosen = [p for p in embedded_programs if p.uri in PROGRAMS]
    assert len(chosen) == 2 and all(p.split == "test" for p in chosen)
    return chosen


@pytest.mark.slow
def test_budget_is_spent_exactly_and_traces_repeat_cold_warm_and_threaded(embedded_programs, tmp_path, monkeypatch):
    programs = _programs(embedded_programs)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    rng_states = random.getstate(), np.random.get_state()[1].copy()
    runs = {}
    for state in ("cold", "warm"):
        with Evaluator(cache=tmp_path / "cache", jobs=2) as ev:
            runs[state] = [_search(p, ev, seed=3) for p in programs]
    with Evaluator(cache=tmp_path / "cache", jobs=2) as ev, ThreadPoolExecutor(2) as pool:
        runs["threads"] = list(pool.map(lambda p: _search(p, ev, seed=3), programs))
    assert list(cwd.iterdir()) == []  # no opentuner.db/, opentuner.log or anything else
    assert random.getstate() == rng_states[0] and (np.random.get_state()[1] == rng_states[1]).all()
    for cold, warm, threaded in zip(*runs.values()):
        assert cold.evaluations == len(cold.trace) == BUDGET
        assert _key(cold) == _key(warm) == _key(threaded) and cold.best == warm.best
        assert not any(row["cached"] for row in cold.trace) and all(row["cached"] for row in warm.trace)
        assert cold.extra["opentuner_best_cycles"] == cold.best_cycles < math.inf
        assert cold.extra["configurations"] >= BUDGET
        assert 0 < cold.method_seconds < cold.seconds and cold.compile_seconds > 0
    assert _key(runs["cold"][0]) != _key(runs["cold"][1])


def test_another_seed_searches_differently_one_configuration_at_a_time(small_program, evaluator):
    first, again, second = (_search(small_program, evaluator, seed, budget=10, parallelism=1) for seed in (0, 0, 1))
    assert first.evaluations == second.evaluations == 10
    assert _key(first) == _key(again) != _key(second)


def test_failed_compilations_are_reported_as_bad_and_never_win(small_program, evaluator):
    failing = FailingEvaluator(evaluator, lambda passes: {"gvn", "licm", "sroa", "instcombine", "simplifycfg"} & set(passes))
    result = _search(small_program, failing, seed=2)
    statuses = result.status_counts()
    assert result.evaluations == BUDGET and failing.failed == statuses["opt-error"] > 0 and statuses["ok"] > 0
    assert all(row["cycles"] is None for row in result.trace if row["status"] != "ok")
    assert result.extra["opentuner_best_cycles"] == result.best_cycles < math.inf  # OpenTuner's best compiled


def test_a_search_where_everything_fails_ends_with_no_best(small_program, evaluator):
    failing = FailingEvaluator(evaluator, lambda passes: True)
    result = _search(small_program, failing, seed=0, budget=12)
    assert result.evaluations == 12 and result.status_counts() == {"opt-error": 12}
    assert not result.found and result.extra["opentuner_best_cycles"] == math.inf


def test_sqlalchemy_2_is_refused_when_the_method_runs(small_program, evaluator, monkeypatch):
    real_version = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "2.0.36" if name == "SQLAlchemy" else real_version(name))
    optimizer, _ = make_optimizer("opentuner", SETTINGS)
    with pytest.raises(EccoError, match=r"needs SQLAlchemy<2 \(found 2\.0\.36\).*duplicate detection"):
        optimizer.optimize(small_program, Objective(small_program, evaluator, 4), 0)


def test_a_missing_opentuner_is_one_clear_line(small_program, evaluator, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "opentuner", None)
    optimizer, _ = make_optimizer("opentuner", SETTINGS)
    with pytest.raises(EccoError, match="needs opentuner==0.8.8") as error:
        optimizer.optimize(small_program, Objective(small_program, evaluator, 4), 0)
    assert "\n" not in str(error.value)


def test_settings_are_validated():
    with pytest.raises(EccoError, match="opentuner settings"):
        make_optimizer("opentuner", {"opentuner": {"parallelism": 0}})
