"""Faults found by running the main job on a fresh machine: the engine's own measuring must never
change or fail a candidate, LLVM crashes are recorded statuses, cache entries of an older
measuring procedure are never reused, and one failing program never stops the dataset stage."""

from __future__ import annotations

from ecco_lib.benchmarks import resolve
from ecco_lib.evidence import failure_table, process_programs
from ecco_lib.llvm import Evaluator, Pipeline, steps
from ecco_lib.llvm.pipeline import wrap_sequence
from ecco_lib.search import GAConfig, level_pipeline_passes

#: The sequence that stopped `make reproduce` after 45 minutes (notebook 02) on csmith://267114565.
CRASHER = "tailcallelim,gvn,instcombine,ipsccp,gvn-hoist,attributor"


def test_the_candidate_pipeline_is_run_exactly_and_counted_apart(small_program, tmp_path):
    pipeline = Pipeline.of_passes("sroa,instcombine,licm")
    with Evaluator(cache=tmp_path, jobs=1) as ev:
        row = ev.evaluate(small_program, pipeline)
    assert row.ok and row.opt_pipeline == pipeline.opt_text and "print<" not in row.opt_pipeline
    optimized = steps.run_opt(small_program.ir, pipeline.opt_text, 60)
    count, error = steps.count_instructions(optimized["ir"], 60, tmp_path)
    assert error is None and row.ir_instructions == count == optimized["ir_instructions"] > 0


def test_a_failing_instruction_count_never_fails_the_candidate(small_program, tmp_path, monkeypatch):
    monkeypatch.setattr(steps, "count_instructions", lambda ir, timeout, scratch: (None, "instruction count: boom"))
    with Evaluator(cache=False, jobs=1) as ev:
        row = ev.evaluate(small_program, Pipeline.of_passes("sroa,gvn"))
    assert row.ok and row.cycles and row.ir_instructions is None
    assert row.extra["measure_error"] == "instruction count: boom"


def test_the_sequence_that_stopped_the_main_job_is_a_recorded_status(session_cache):
    """LLVM 19's attributor corrupts this program's IR after gvn-hoist; opt then crashes in about a
    third of identical runs (address-space layout). Either way the engine records a status."""
    program = resolve("csmith://267114565", cache=session_cache)[0]
    with Evaluator(cache=False, jobs=2) as ev:
        rows = ev.evaluate_many([(program, Pipeline.of_passes(CRASHER))] * 4 +
                                [(program, Pipeline.of_passes(CRASHER.rsplit(",", 1)[0]))])
    for row in rows[:4]:
        assert row.status in ("ok", "opt-error")
        assert row.ok or "crashed (SIGSEGV)" in row.error
    assert rows[4].ok  # the prefix without attributor is deterministic and fine


def test_cache_entries_of_an_older_measuring_step_are_not_reused(small_program, tmp_path, monkeypatch):
    pipeline = Pipeline.of_passes("mem2reg,instcombine")
    with Evaluator(cache=tmp_path, jobs=1) as ev:
        assert not ev.evaluate(small_program, pipeline).cached
        assert ev.evaluate(small_program, pipeline).cached
    monkeypatch.setitem(steps.STEP_VERSIONS, "opt", steps.STEP_VERSIONS["opt"] + 1)
    with Evaluator(cache=tmp_path, jobs=1) as ev:
        assert not ev.evaluate(small_program, pipeline).cached


def test_loop_versioning_licm_never_runs_under_a_memoryssa_loop_manager(session_cache):
    sequence = [*level_pipeline_passes("O1"), "loop-versioning-licm"]
    assert "loop(loop-versioning-licm)" in wrap_sequence(sequence)
    programs = [resolve(uri, cache=session_cache)[0] for uri in ("ecco://linalg/gemv_trsv", "ecco://linalg/lu_getrf")]
    with Evaluator(cache=False, jobs=2) as ev:
        rows = ev.evaluate_many([(p, Pipeline.of_passes(sequence)) for p in programs])
    assert [r.status for r in rows] == ["ok", "ok"]  # under loop-mssa(...) both abort in opt-19


def test_a_program_that_cannot_be_searched_is_recorded_and_the_stage_goes_on(session_cache, small_program):
    programs = [resolve("ecco://automotive/bitcount", cache=session_cache)[0], small_program]
    config = GAConfig(population=4, generations=1, budget=4, min_length=2, max_length=4)
    with Evaluator(cache=False, jobs=2, timeout_s=1e-4) as hopeless:
        outcomes = process_programs(programs, hopeless, config, seed=0, sequences=1, threads=2)
    failures = failure_table(outcomes)
    assert len(outcomes) == 2 and not any(o.evidence for o in outcomes)
    assert set(failures["program"]) == {p.uri for p in programs} and set(failures["stage"]) == {"search"}
