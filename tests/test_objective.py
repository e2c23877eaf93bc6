"""The budgeted Objective: every distinct sequence counts once, failed and cached ones included."""

from __future__ import annotations

import math

import pytest

from ecco_lib.errors import EccoError, UnknownPassError
from ecco_lib.llvm import Evaluator, Pipeline
from ecco_lib.search import Objective

SEQUENCES = [("sroa", "instcombine"), ("mem2reg", "gvn"), ("sroa", "licm"), ("inline", "sroa"), ("dce",)]


@pytest.mark.parametrize("budget", [0, -3, 2.5, "10", None, True])
def test_nonsense_budgets_are_one_clear_error(small_program, evaluator, budget):
    with pytest.raises(EccoError, match="budget must be a positive whole number"):
        Objective(small_program, evaluator, budget)


def test_distinct_sequences_count_once_and_the_budget_is_never_exceeded(small_program, evaluator):
    objective = Objective(small_program, evaluator, 3)
    assert objective.cycles_O3 == evaluator.evaluate(small_program, Pipeline.of_level("O3")).cycles
    assert (objective.used, objective.remaining, objective.exhausted) == (0, 3, False)  # -O3 is outside
    first = objective.evaluate([SEQUENCES[0], SEQUENCES[0], SEQUENCES[1]])
    assert first[0] is first[1] and [e.index for e in first] == [1, 1, 2] and objective.used == 2
    # another spelling of a counted sequence is the same sequence: free
    assert objective.evaluate(["-sroa -instcombine"])[0] is first[0] and objective.used == 2
    second = objective.evaluate(SEQUENCES[2:])
    assert second[0].index == 3 and second[1] is None and second[2] is None
    assert objective.exhausted and objective.remaining == 0 and objective.used == 3
    assert objective.evaluate([SEQUENCES[4]]) == [None]  # nothing fits any more
    assert objective.evaluate([SEQUENCES[1]])[0] is first[2]  # a counted one is still answered


def test_cache_hits_count_and_match_fresh_evaluations(small_program, evaluator):
    warm = Objective(small_program, evaluator, 5)
    warm.evaluate(SEQUENCES)
    again = Objective(small_program, evaluator, 5)
    rows = again.evaluate(SEQUENCES)
    assert all(e.cached for e in rows) and again.used == 5 and again.exhausted
    assert [e.cycles for e in rows] == [e.cycles for e in warm.evaluate(SEQUENCES)]


def test_failed_evaluations_count_and_cost_infinity(small_program, tmp_path):
    with Evaluator(cache=False, jobs=1, timeout_s=1e-4) as hopeless:
        o3 = Evaluator(cache=tmp_path, jobs=1).evaluate(small_program, Pipeline.of_level("O3"))
        objective = Objective(small_program, hopeless, 2, o3=o3)
        rows = objective.evaluate(SEQUENCES[:2])
    assert [e.status for e in rows] == ["timeout", "timeout"] and objective.exhausted
    assert all(math.isinf(e.cost) for e in rows) and objective.best is None
    result = objective.result("test", seed=0)
    assert not result.found and result.i_o3 is None and result.evaluations == 2
    assert result.status_counts() == {"timeout": 2}


def test_trace_records_every_evaluation_with_a_never_increasing_best(small_program, evaluator):
    objective = Objective(small_program, evaluator, 5)
    for sequence in SEQUENCES:
        objective.evaluate_one(sequence)
    trace = objective.trace
    assert [t["evaluation"] for t in trace] == [1, 2, 3, 4, 5]
    assert [t["sequence"] for t in trace] == [",".join(s) for s in SEQUENCES]
    best = [t["best_cycles"] for t in trace]
    assert best == [min(t["cycles"] for t in trace[: i + 1]) for i in range(5)]
    assert all(later >= earlier for earlier, later in zip([t["seconds"] for t in trace], [t["seconds"] for t in trace][1:]))
    result = objective.result("test", seed=1)
    assert result.best_cycles == min(best) and result.evaluations == 5 and result.budget == 5
    assert result.compile_seconds > 0 and result.seconds >= result.compile_seconds
    assert result.i_o3 == pytest.approx((result.cycles_O3 - result.best_cycles) / result.cycles_O3)


def test_unknown_passes_are_bad_input_not_a_counted_failure(small_program, evaluator):
    objective = Objective(small_program, evaluator, 3)
    with pytest.raises(UnknownPassError):
        objective.evaluate([("sroa", "no-such-pass")])
    assert objective.used == 0


def test_a_runtime_objective_minimizes_measured_microseconds(session_cache, tmp_path):
    from ecco_lib.benchmarks import resolve
    from ecco_lib.llvm import CheckSettings, Evaluator
    from ecco_lib.search import make_optimizer

    program = resolve("ecco://telecom/crc", cache=session_cache)[0]
    with Evaluator(cache=tmp_path / "cache", jobs=2, check=True, check_settings=CheckSettings(repeats=3)) as ev:
        objective = Objective(program, ev, 6, measure="runtime")
        cycles = Objective(program, ev, 6)
        assert objective.cycles_O3 == round(objective.o3.runtime_s * 1e6) and objective.cycles_O3 != cycles.cycles_O3
        optimizer, _ = make_optimizer("rio", {"rio": {"min_length": 2, "max_length": 6, "batch": 6}})
        result = optimizer.optimize(program, objective, seed=0)
        assert result.evaluations == 6 and result.found
        ok = [row for row in result.trace if row["status"] == "ok"]
        assert result.best_cycles == min(row["cycles"] for row in ok) and all(isinstance(r["cycles"], int) for r in ok)
        with pytest.raises(EccoError, match="unknown measure"):
            Objective(program, ev, 6, measure="energy")
    with Evaluator(cache=tmp_path / "cache", jobs=1, check=False) as unchecked:
        with pytest.raises(EccoError, match="needs a runnable program and checked builds"):
            Objective(program, unchecked, 6, measure="runtime")
