"""Search methods on the Objective: equal budgets, identical traces whatever the cache, the
experiment runner's resume after kill -9, and `ecco optimize` / `ecco methods` as a user runs them."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from ecco_lib.errors import EccoError
from ecco_lib.experiments import (TIMING_COLUMNS, cell_fingerprint, paired_differences, run_methods, settings_sweep,
                                  sweep_summary)
from ecco_lib.llvm import Evaluator, MetricSettings
from ecco_lib.llvm.steps import by_hand_cycles
from ecco_lib.search import TRACE_KEY, Objective, describe_methods, make_optimizer, method_names

from conftest import REPO, run_cli

SHORT = {"ga": {"population": 6, "min_length": 3, "max_length": 8},
         "rio": {"min_length": 3, "max_length": 8, "batch": 8}, "tpe": {"slots": 8, "startup_trials": 4}}


def _one_per_suite(programs):
    return list({p.suite: p for p in programs if p.split == "test"}.values())


def _search(method, program, evaluator, budget, seed):
    optimizer, _ = make_optimizer(method, SHORT)
    return optimizer.optimize(program, Objective(program, evaluator, budget), seed)


def _key(trace):
    return [tuple(row[c] for c in TRACE_KEY) for row in trace]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ga", "rio", "tpe"])
def test_methods_spend_the_budget_exactly_and_trace_identically_whatever_the_cache(method, embedded_programs, tmp_path):
    programs = _one_per_suite(embedded_programs)
    assert len(programs) == 7
    budget = 10
    runs = {}
    for state, cache in (("cold", tmp_path / "cache"), ("warm", tmp_path / "cache"), ("none", False)):
        with Evaluator(cache=cache, jobs=2) as ev:
            runs[state] = [_search(method, p, ev, budget, seed=3) for p in programs]
    for results in runs.values():
        for result in results:
            assert result.evaluations == budget == len(result.trace)  # both fill the budget exactly
            best = [row["best_cycles"] for row in result.trace if row["best_cycles"] is not None]
            assert best == sorted(best, reverse=True)
            assert result.best_cycles == min(row["cycles"] for row in result.trace if row["status"] == "ok")
    for cold, warm, none in zip(runs["cold"], runs["warm"], runs["none"]):
        assert _key(cold.trace) == _key(warm.trace) == _key(none.trace)
        assert cold.best == warm.best == none.best
    assert all(row["cached"] for r in runs["warm"] for row in r.trace)
    assert not any(row["cached"] for r in runs["none"] for row in r.trace)


def test_seeds_change_the_search_and_the_registry_lists_both(small_program, evaluator):
    a = _search("rio", small_program, evaluator, 6, seed=0)
    b = _search("rio", small_program, evaluator, 6, seed=1)
    assert _key(a.trace) != _key(b.trace)
    assert {"ga", "rio"} <= set(method_names())
    rows = {r["method"]: r for r in describe_methods()}
    assert "Chen" in rows["rio"]["description"] and "budget" not in rows["ga"]["settings"]


def test_method_settings_are_validated(small_program, evaluator):
    with pytest.raises(EccoError, match="unknown method"):
        make_optimizer("tpe-typo")
    with pytest.raises(EccoError, match="budget is set once"):
        make_optimizer("ga", {"ga": {"budget": 5}})
    with pytest.raises(EccoError, match="unknown GAConfig key"):
        make_optimizer("ga", {"ga": {"populaton": 5}})
    with pytest.raises(EccoError, match="inconsistent"):
        make_optimizer("rio", {"rio": {"min_length": 9, "max_length": 3}})


_RUNNER = textwrap.dedent("""
    import sys
    from ecco_lib.benchmarks import resolve
    from ecco_lib.experiments import run_methods
    from ecco_lib.llvm import Evaluator
    out, cache = sys.argv[1], sys.argv[2]
    programs = resolve("ecco://automotive")[:2] + resolve("ecco://telecom")[:1]
    settings = {"ga": {"population": 4, "min_length": 3, "max_length": 6},
                "rio": {"min_length": 3, "max_length": 6, "batch": 4}}
    with Evaluator(cache=cache, jobs=2) as ev:
        run_methods(programs, ["rio", "ga"], budget=6, seeds=[0, 1], evaluator=ev, settings=settings,
                    results_path=out + "/results.csv", trace_path=out + "/trace.csv", progress=False)
""")


def _run_runner(out, cache, **popen):
    return subprocess.Popen([sys.executable, "-c", _RUNNER, str(out), str(cache)], cwd=REPO, **popen)


def _comparable(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=[c for c in TIMING_COLUMNS if c in table]).reset_index(drop=True)


@pytest.mark.slow
def test_run_methods_resumes_after_kill_9_and_equals_an_uninterrupted_run(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    whole.mkdir(), killed.mkdir()
    assert _run_runner(whole, tmp_path / "cache-whole").wait(600) == 0
    expected = pd.read_csv(whole / "results.csv")
    assert len(expected) == 2 * 3 * 2 and (expected["evaluations"] == 6).all()

    proc = _run_runner(killed, tmp_path / "cache-killed", start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        if (killed / "results.csv").exists() and len(pd.read_csv(killed / "results.csv")) >= 3:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = pd.read_csv(killed / "results.csv")
    assert 3 <= len(before) < len(expected), "the run finished before it could be killed"

    assert _run_runner(killed, tmp_path / "cache-killed").wait(600) == 0
    after = pd.read_csv(killed / "results.csv")
    # finished cells were not recomputed: their rows, timings included, are unchanged
    kept = after.merge(before, how="inner")
    assert len(kept) == len(before)
    assert _comparable(after).equals(_comparable(expected))
    trace_after, trace_whole = pd.read_csv(killed / "trace.csv"), pd.read_csv(whole / "trace.csv")
    key = ["method", "program", "seed", *TRACE_KEY]
    assert trace_after[key].equals(trace_whole[key]) and len(trace_whole) == 12 * 6


def test_run_methods_refuses_an_unwritable_target_before_any_work(small_program, evaluator, tmp_path):
    with pytest.raises(EccoError, match="not a regular file|directory"):
        run_methods([small_program], ["rio"], budget=2, seeds=[0], evaluator=evaluator,
                    results_path=tmp_path, trace_path=tmp_path / "t.csv", progress=False)


def test_a_cell_reruns_when_the_training_evidence_it_learned_from_changes(small_program, evaluator, tmp_path,
                                                                           monkeypatch):
    import shutil

    from conftest import EVIDENCE

    monkeypatch.setenv("ECCO_OUTPUT_ROOT", str(tmp_path))  # offline models land here
    files = sorted(EVIDENCE.glob("*/*.json"))[:24]
    for name, chosen in (("a", files), ("b", files[:-4])):
        for f in chosen:
            (tmp_path / name / f.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(f, tmp_path / name / f.parent.name / f.name)
    paths = {"results_path": tmp_path / "r.csv", "trace_path": tmp_path / "t.csv"}
    runs = []
    for evidence in ("a", "a", "b"):
        settings = {"pdcat": {"evidence": str(tmp_path / evidence), "min_length": 3, "max_length": 8}}
        runs.append(run_methods([small_program], ["pdcat"], budget=4, seeds=[0], evaluator=evaluator, settings=settings,
                                progress=False, **paths)[0])
    digests = [json.loads(r["settings"].iloc[0])["inputs"]["evidence"] for r in runs]
    assert digests[0] == digests[1] != digests[2]
    assert len(pd.read_csv(tmp_path / "r.csv")) == 2  # the same evidence reused its cell; new evidence, a new cell


def test_ecco_cells_depend_on_the_prior_and_the_adapter_weights(tmp_path):
    from ecco_lib.tactician import SHIPPED_ADAPTER

    from conftest import REPO

    prior = REPO / "results" / "dataset" / "efficacy_prior.json"
    (tmp_path / "prior.json").write_bytes(prior.read_bytes() + b" ")
    copied_adapter = tmp_path / "adapter"
    copied_adapter.mkdir()
    for f in ("adapter_config.json", "adapter_model.safetensors"):
        (copied_adapter / f).write_bytes((SHIPPED_ADAPTER / f).read_bytes())
    fingerprints = []
    for section in ({"adapter": str(SHIPPED_ADAPTER), "prior": str(prior)},
                    {"adapter": str(copied_adapter), "prior": str(prior)},  # the same weights elsewhere
                    {"adapter": str(SHIPPED_ADAPTER), "prior": str(tmp_path / "prior.json")}):
        optimizer, settings = make_optimizer("ecco", {"ecco": section})
        fingerprints.append(json.loads(cell_fingerprint(optimizer, settings))["inputs"])
    assert fingerprints[0] == fingerprints[1] and fingerprints[0]["strategist"].startswith("adapter=sha256:")
    assert fingerprints[2]["prior"] != fingerprints[0]["prior"] and "/" not in json.dumps(fingerprints[0])


def test_settings_sweep_labels_variants_resumes_and_refuses_the_test_split(embedded_programs, evaluator, tmp_path):
    train = list({p.suite: p for p in embedded_programs if p.split == "train"}.values())[:2]
    kwargs = dict(budget=8, seeds=[0], evaluator=evaluator, settings=SHORT, baselines=["rio"],
                  results_path=tmp_path / "r.csv", trace_path=tmp_path / "t.csv", progress=False)
    variants = [{}, {"mutation_rate": 0.9}]
    results, trace = settings_sweep(train, "ga", variants, **kwargs)
    assert sorted(results["method"].unique()) == ["ga", "ga mutation_rate=0.9", "rio"]
    assert len(results) == 3 * len(train) and (results["evaluations"] == 8).all()
    assert set(trace["method"]) == set(results["method"]) and len(trace) == 3 * len(train) * 8
    variant = results[results["method"] == "ga mutation_rate=0.9"]
    assert variant["settings"].map(json.loads).map(lambda s: s["mutation_rate"]).eq(0.9).all()
    assert variant["settings"].nunique() == 1 and variant["settings"].iloc[0] != results.loc[
        results["method"] == "ga", "settings"].iloc[0]
    # a rerun computes nothing: every cell is read back from the files, identical
    mtime = (tmp_path / "r.csv").stat().st_mtime_ns
    again, _ = settings_sweep(train, "ga", variants, **kwargs)
    assert (tmp_path / "r.csv").stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(_comparable(again), _comparable(results), check_dtype=False)

    summary = sweep_summary(results, baseline="ga").set_index("method")
    ok = results[results["status"] == "ok"]
    suite_means = ok.groupby(["method", "suite"])["i_o3"].mean().groupby("method").mean()
    assert summary["mean_i_o3"].to_dict() == pytest.approx(suite_means.to_dict())
    overall = paired_differences(results, baseline="ga").query("suite == 'average'").set_index("method")
    assert summary.loc["rio", "mean_difference"] == pytest.approx(overall.loc["rio", "mean_difference"])
    assert pd.isna(summary.loc["ga", "mean_difference"])  # the baseline against itself is not a row

    tested = [p for p in embedded_programs if p.split == "test"][:1]
    with pytest.raises(EccoError, match="train split"):
        settings_sweep(tested, "ga", variants, **kwargs)
    with pytest.raises(EccoError, match="unknown GAConfig key"):
        settings_sweep(train, "ga", [{"mutation_rat": 0.9}], **kwargs)


def test_optimize_json_matches_a_hand_run_and_repeats_exactly(small_ll, tmp_path):
    env = {"ECCO_CACHE_DIR": str(tmp_path / "cache")}
    args = ("optimize", str(small_ll), "--method", "rio", "--budget", "20", "--seed", "0", "--json", "--profile", "smoke")
    first, second = run_cli(*args, env=env), run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["evaluations"] <= 20 and a["method"] == "rio" and a["budget"] == 20 and a["status"] == "ok"
    assert a["cycles"] == by_hand_cycles(small_ll.read_bytes(), a["opt_pipeline"], MetricSettings())
    timing = ("seconds", "compile_seconds", "method_seconds")
    assert {k: v for k, v in a.items() if k not in timing} == {k: v for k, v in b.items() if k not in timing}


TABLE1_BASELINES = ("tpe", "opentuner", "pdcat", "comptuner", "grace", "cfsat", "llm-direct")


@pytest.mark.slow
@pytest.mark.parametrize("method", TABLE1_BASELINES)
def test_every_table1_baseline_optimizes_an_unseen_ll_file_within_the_budget(method, small_ll, tmp_path):
    """`ecco optimize FILE.ll --method M --budget 20 --json` (smoke settings; learned methods train
    on the repository's train-split evidence into a temporary output root): at most 20 distinct
    evaluations, and the reported cycles are those of a hand run of its opt pipeline."""
    root = tmp_path / "out"
    (root / "results" / "dataset").mkdir(parents=True)
    (root / "results" / "dataset" / "evidence").symlink_to(REPO / "results" / "dataset" / "evidence")
    env = {"ECCO_CACHE_DIR": str(tmp_path / "cache"), "ECCO_OUTPUT_ROOT": str(root)}
    proc = run_cli("optimize", str(small_ll), "--method", method, "--budget", "20", "--seed", "1", "--json",
                   "--profile", "smoke", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["method"] == method and record["budget"] == 20 and record["evaluations"] <= 20
    if method == "llm-direct":  # the smoke profile's tiny random model writes noise: nothing valid to evaluate
        assert record["evaluations"] == 0 and record["status"] != "ok"
        return
    assert record["evaluations"] == 20 and record["status"] == "ok"
    assert record["cycles"] == by_hand_cycles(small_ll.read_bytes(), record["opt_pipeline"], MetricSettings())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out"]  # nothing written to the working directory


def test_optimize_human_output_and_emitted_ir(small_c, tmp_path):
    out = tmp_path / "best.ll"
    proc = run_cli("optimize", str(small_c), "--method", "ga", "--budget", "8", "--profile", "smoke",
                   "--emit-ir", str(out), env={"ECCO_CACHE_DIR": str(tmp_path / "cache")}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for text in ("best sequence", "vs -O3", "I_O3 =", "evaluations 8 of 8", "reproduce: opt-19 -passes="):
        assert text in proc.stdout
    assert out.read_text().startswith("; ModuleID") and "define" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.ll", "cache"]


@pytest.mark.parametrize("args, message", [
    (("--budget", "0"), "budget must be a positive"),
    (("--method", "nope"), "unknown method"),
    (("--emit-ir", "/dev/null"), "not a regular file"),
])
def test_optimize_bad_input_is_one_line_and_exit_2(small_c, args, message, tmp_path):
    proc = run_cli("optimize", str(small_c), "--profile", "smoke", *args, env={"ECCO_CACHE_DIR": str(tmp_path)})
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_optimize_emit_ir_needs_one_program(tmp_path):
    proc = run_cli("optimize", "ecco://linalg", "--profile", "smoke", "--budget", "2", "--emit-ir", str(tmp_path / "x.ll"),
                   env={"ECCO_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 2 and "give one program" in proc.stderr


def test_methods_command_lists_every_method():
    proc = run_cli("methods", "--json")
    assert proc.returncode == 0
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {r["method"] for r in rows} >= {"ga", "rio", "ecco", *TABLE1_BASELINES}
    assert all(r["description"] and r["source"] for r in rows)
    offline = {r["method"]: r["learns_offline"] for r in rows}
    assert offline["ecco"] and offline["ecco-no-ga"] and not offline["ga"] and not offline["tpe"]
    assert offline["pdcat"] and offline["grace"] and offline["cfsat"] and not offline["opentuner"]
    assert {r["method"]: r["settings"] for r in rows}["tpe"]["slots"] == 30  # the default profile's setting


@dataclasses.dataclass(frozen=True)
class _NoSettings:
    pass


class _GivesUp:
    """A method that spends nothing (like Best-of-N when no answer is valid)."""

    name, description = "gives-up", "evaluates nothing (test double of an LLM without a valid answer)"

    def optimize(self, program, objective, seed):
        return objective.result(self.name, seed)


def test_a_cell_without_any_evaluation_is_written_and_resumed(small_program, evaluator, tmp_path):
    from ecco_lib.search.optimizer import Method, register

    if "gives-up" not in method_names():
        register(Method("gives-up", _NoSettings, lambda cfg: _GivesUp()))
    kwargs = dict(budget=4, seeds=[0], evaluator=evaluator, settings=SHORT, results_path=tmp_path / "r.csv",
                  trace_path=tmp_path / "t.csv", progress=False)
    results, trace = run_methods([small_program], ["gives-up"], **kwargs)
    assert list(results["evaluations"]) == [0] and trace.empty and "sequence" in trace
    results, trace = run_methods([small_program], ["gives-up", "rio"], **kwargs)
    assert list(results["method"]) == ["gives-up", "rio"] and set(trace["method"]) == {"rio"} and len(trace) == 4
