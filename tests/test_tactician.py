"""ECCO's collaborative inference: Best-of-N answers through the Objective, intents into Eq. 4, the
GA seeded by the answers; the ablations; `ecco optimize --method ecco` with a real (tiny) model.

The scripted strategist below stands in for what an LLM writes (fixed answer texts); everything
after the text — parsing, evaluation, the GA — is the real code on real LLVM."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ecco_lib.errors import EccoError
from ecco_lib.response import StrategistResponse
from ecco_lib.search import Objective, make_optimizer
from ecco_lib.strategist import Sample
from ecco_lib.tactician import EccoConfig, select_intents

from conftest import REPO, run_cli

GOOD = StrategistResponse(reasoning="Loops dominate; promote memory first.",
                          intents={"memory-to-register": 0.6, "loop-transformation": 0.4},
                          sequence=("sroa", "instcombine", "licm")).render()
OTHER = StrategistResponse(reasoning="Straight-line code; simplify it.",
                           intents={"scalar-simplification": 1.0}, sequence=("mem2reg", "gvn")).render()
ANSWERS = [GOOD, "not an answer", OTHER, GOOD, "<sequence>\nno-such-pass\n</sequence>"]
SMALL = {"ecco": {"n": len(ANSWERS), "seeds_k": 2, "eps": 0.2}, "ga": {"population": 4, "min_length": 3, "max_length": 8}}


class ScriptedStrategist:
    """Returns the same fixed answer texts for every program (and counts the calls)."""

    def __init__(self, texts):
        self.texts, self.calls = texts, 0

    def sample(self, programs, *, n, **_):
        self.calls += 1
        return [[Sample(t, len(t.split()), False) for t in self.texts[:n]] for _ in programs]


def _ecco(name="ecco", texts=ANSWERS, **overrides):
    optimizer, _ = make_optimizer(name, {**SMALL, "ecco": {**SMALL["ecco"], **overrides}})
    optimizer._strategist = ScriptedStrategist(texts)
    return optimizer


def test_answers_cost_budget_seed_the_ga_and_steer_its_mutation(small_program, evaluator):
    optimizer = _ecco()
    objective = Objective(small_program, evaluator, 12)
    result = optimizer.optimize(small_program, objective, seed=0)
    assert result.evaluations == 12 and result.method == "ecco"
    answers = result.extra["answers"]
    assert [a["parse"] for a in answers] == ["ok", "malformed", "ok", "ok", "malformed"]
    # the two distinct valid sequences were the first two evaluations of the trace
    assert [t["sequence"] for t in result.trace[:2]] == ["sroa,instcombine,licm", "mem2reg,gvn"]
    assert result.extra["parsed"] == 3 and result.extra["valid_evaluated"] == 3
    best_answer = min((a for a in answers if a.get("cycles")), key=lambda a: (a["cycles"], len(a["sequence"].split(","))))
    assert result.extra["intent_rule"] == "best" and result.extra["intents"] == pytest.approx(best_answer["intents"])
    assert result.extra["sampler"]["case"] == "eq4" and result.extra["reasoning"]
    assert result.extra["found_by"] in ("llm", "ga")
    assert result.best_cycles <= best_answer["cycles"]


def test_same_seed_same_search_and_a_small_budget_is_never_exceeded(small_program, evaluator):
    a = _ecco().optimize(small_program, Objective(small_program, evaluator, 10), seed=3)
    b = _ecco().optimize(small_program, Objective(small_program, evaluator, 10), seed=3)
    assert [t["sequence"] for t in a.trace] == [t["sequence"] for t in b.trace]
    tiny = _ecco().optimize(small_program, Objective(small_program, evaluator, 1), seed=0)
    assert tiny.evaluations == 1 and [x.get("status") for x in tiny.extra["answers"] if x["parse"] == "ok"] == \
        ["ok", "over-budget", "ok"]


def test_ablations_spend_the_budget_as_documented(small_program, evaluator):
    alone = _ecco("ecco-no-ga").optimize(small_program, Objective(small_program, evaluator, 12), seed=0)
    assert alone.evaluations == 2 and "history" not in alone.extra and alone.extra["found_by"] == "llm"
    no_seeds = _ecco("ecco-no-seeds").optimize(small_program, Objective(small_program, evaluator, 12), seed=0)
    assert no_seeds.extra["valid_evaluated"] == 0 and no_seeds.extra["intent_rule"] == "mean"
    assert no_seeds.evaluations == 12 and no_seeds.extra["sampler"]["case"] == "eq4"
    uniform = _ecco("ecco-uniform").optimize(small_program, Objective(small_program, evaluator, 12), seed=0)
    assert uniform.extra["sampler"] == {"case": "uniform"}
    assert [t["sequence"] for t in uniform.trace[:2]] == ["sroa,instcombine,licm", "mem2reg,gvn"]


def test_only_malformed_answers_leave_the_search_to_the_prior(small_program, evaluator):
    result = _ecco(texts=["garbage"] * 5).optimize(small_program, Objective(small_program, evaluator, 8), seed=0)
    assert result.extra["parsed"] == 0 and result.extra["intents"] is None
    assert result.extra["sampler"]["case"] == "no-intents" and result.extra["found_by"] == "ga"
    assert result.evaluations == 8


def test_an_answer_outside_the_search_space_is_a_parse_status_and_is_never_evaluated(small_program, evaluator):
    from ecco_lib.llvm.passes import PASS_NAMES, SEARCH_PASSES

    runtime_only = sorted(set(PASS_NAMES) - set(SEARCH_PASSES))[0]
    outside = StrategistResponse(reasoning="Profile first.", intents={"scalar-simplification": 1.0},
                                 sequence=("sroa", runtime_only)).render()
    result = _ecco(texts=[outside, GOOD], intent_rule="mean").optimize(small_program,
                                                                       Objective(small_program, evaluator, 6), seed=0)
    first, second = result.extra["answers"]
    assert first["parse"] == "outside-search-space" and runtime_only in first["reason"] and "status" not in first
    assert second["parse"] == "ok" and second["status"] == "ok"
    assert result.extra["parsed"] == 2 and result.extra["searchable"] == 1 and result.extra["valid_evaluated"] == 1
    assert all(runtime_only not in t["sequence"].split(",") for t in result.trace)
    # its intents still count: the mean over both parsed answers
    assert result.extra["intents"]["scalar-simplification"] == pytest.approx(0.5)


def test_a_no_reasoning_strategists_sequence_only_answers_are_used(small_program, evaluator, tmp_path):
    from ecco_lib.response import PARTS
    from ecco_lib.tactician import adapter_parts

    run = tmp_path / "results" / "models" / "sft-no-reasoning" / "adapter"
    run.mkdir(parents=True)
    assert adapter_parts(run) == ("sequence",) and adapter_parts(run.parent) == ("sequence",)
    assert adapter_parts(tmp_path / "sft-full" / "adapter") == PARTS and adapter_parts(None) == PARTS
    assert adapter_parts(tmp_path / "my-adapter") == PARTS
    assert adapter_parts(REPO / "ecco_lib" / "models" / "strategist-default") == PARTS  # PROVENANCE: sft-brief
    bare = "<sequence>\nsroa, instcombine\n</sequence>"
    full = _ecco("ecco-no-ga", texts=[bare, GOOD]).optimize(small_program, Objective(small_program, evaluator, 4), seed=0)
    assert [a["parse"] for a in full.extra["answers"]] == ["malformed", "ok"]  # the whole format needs reasoning
    optimizer = _ecco("ecco-no-ga", texts=[bare, GOOD])
    optimizer.adapter_path = run
    lean = optimizer.optimize(small_program, Objective(small_program, evaluator, 4), seed=0)
    assert [a["parse"] for a in lean.extra["answers"]] == ["ok", "ok"] and lean.evaluations == 2
    assert lean.extra["answers"][0]["intents"] is None and lean.extra["intents"] == pytest.approx(
        full.extra["answers"][1]["intents"])


def test_intent_rules():
    answers = [{"intents": {"a": 1.0}, "cycles": 50, "sequence": "x"}, {"intents": {"b": 1.0}, "cycles": 40,
                                                                         "sequence": "y,z"},
               {"intents": {"a": 0.5, "b": 0.5}}, {"parse": "malformed"}]
    assert select_intents(answers, "best") == ({"b": 1.0}, "best")
    assert select_intents(answers, "mean")[0] == pytest.approx({"a": 0.5, "b": 0.5})
    assert select_intents([{"intents": {"a": 1.0}}], "best") == ({"a": 1.0}, "mean")  # nothing evaluated
    assert select_intents([], "best") == (None, "mean")
    with pytest.raises(EccoError):
        select_intents(answers, "median")


def test_settings_are_validated():
    with pytest.raises(EccoError, match="temperature"):
        EccoConfig(temperature=0)
    with pytest.raises(EccoError, match="intent_rule"):
        EccoConfig(intent_rule="vote")
    with pytest.raises(EccoError, match="budget is set once"):
        make_optimizer("ecco-no-ga", {"ecco": {"budget": 3}})


@pytest.fixture(scope="module")
def tiny_strategist(tmp_path_factory):
    """A tiny random model and an (untrained) LoRA adapter on it, saved as a user's files would be."""
    from peft import LoraConfig, get_peft_model

    from ecco_lib.strategist import build_tiny_model, load_model

    root = tmp_path_factory.mktemp("tiny-strategist")
    model_dir = build_tiny_model(root / "model")
    model, _ = load_model(model_dir)
    get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"])).save_pretrained(root / "adapter")
    return model_dir, root / "adapter"


def test_cli_ecco_on_a_c_file_with_a_real_model(tiny_strategist, small_c, tmp_path):
    model_dir, adapter = tiny_strategist
    args = ("optimize", str(small_c), "--method", "ecco", "--budget", "6", "--seed", "1", "--profile", "smoke",
            "--model", str(model_dir), "--adapter", str(adapter), "--json")
    env = {"ECCO_CACHE_DIR": str(tmp_path / "cache"), "ECCO_OUTPUT_ROOT": str(REPO)}
    first, second = run_cli(*args, env=env), run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["method"] == "ecco" and a["evaluations"] <= 6 and {"intents", "reasoning"} <= set(a)
    assert a["parsed"] == 0  # the tiny random model writes noise: a parse status, never a crash
    # the rerun reads the answers from the sample cache and reports what generating them took then
    assert a["sampled_seconds"] > 0 and b["sampled_seconds"] == a["sampled_seconds"]
    timing = ("seconds", "compile_seconds", "method_seconds", "generation_seconds")
    assert {k: v for k, v in a.items() if k not in timing} == {k: v for k, v in b.items() if k not in timing}
    human = run_cli(*args[:-1], env=env)
    assert human.returncode == 0 and "strategist:" in human.stdout and "reproduce: opt-19" in human.stdout


def test_cli_ecco_without_a_strategist_says_how_to_get_one(small_c, tmp_path, monkeypatch):
    import ecco_lib.tactician as tactician

    monkeypatch.setattr(tactician, "SHIPPED_ADAPTER", tmp_path / "none")
    monkeypatch.setenv("ECCO_OUTPUT_ROOT", str(tmp_path))
    with pytest.raises(EccoError, match="no trained strategist"):
        tactician.resolve_adapter(None)
    proc = run_cli("optimize", str(small_c), "--method", "ga", "--adapter", str(tmp_path), "--profile", "smoke")
    assert proc.returncode == 2 and "--model/--adapter" in proc.stderr


def test_the_adapter_is_chosen_on_given_programs_written_down_and_loaded(tiny_strategist, small_program, evaluator,
                                                                         tmp_path, monkeypatch):
    import shutil

    import ecco_lib.tactician as tactician
    from ecco_lib.config import load_profile

    model_dir, adapter = tiny_strategist
    monkeypatch.setenv("ECCO_OUTPUT_ROOT", str(tmp_path))
    settings = {m: dict(s) for m, s in load_profile("smoke")["search"]["methods"].items()}
    settings["ecco"].update(model=str(model_dir), n=2, max_new_tokens=8,
                            prior=str(REPO / "results" / "dataset" / "efficacy_prior.json"))
    paths = dict(results_path=tmp_path / "cells.csv", trace_path=tmp_path / "trace.csv", progress=False)
    with pytest.raises(EccoError, match="no trained strategist"):
        tactician.choose_adapter([small_program], evaluator, settings=settings, seeds=[0], **paths)
    shutil.copytree(adapter, tmp_path / tactician.CANDIDATE_ADAPTERS["sft-full"])
    choice = tactician.choose_adapter([small_program], evaluator, settings=settings, seeds=[0], **paths)
    assert choice.set_index("candidate")["trained"].to_dict() == {"sft-full": True, "grpo-full": False,
                                                                   "sft-brief": False}
    assert choice.set_index("candidate")["chosen"].to_dict() == {"sft-full": True, "grpo-full": False,
                                                                  "sft-brief": False}
    row = choice.set_index("candidate").loc["sft-full"]
    assert row["cells"] == 1 and row["new_tokens"] > 0 and row["best_of_n_i_o3"] == 0.0  # the random model: noise
    cells = pd.read_csv(tmp_path / "cells.csv")
    assert list(cells["method"]) == ["ecco-no-ga"] and cells["budget"].tolist() == [2]  # a budget of N answers
    written = json.loads((tmp_path / tactician.ADAPTER_CHOICE).read_text())
    assert written["candidate"] == "sft-full" and written["programs"] == [small_program.uri]
    shutil.copytree(adapter, tmp_path / tactician.CANDIDATE_ADAPTERS["sft-brief"])  # a second one: paired, no better
    fresh = dict(paths, results_path=tmp_path / "both.csv", trace_path=tmp_path / "both_trace.csv")  # none read back
    both = tactician.choose_adapter([small_program], evaluator, settings=settings, seeds=[0], **fresh).set_index("candidate")
    assert both["trained"].sum() == 2 and both["chosen"].sum() == 1 and both["minus_choice"].notna().sum() == 1
    assert both.loc[both["new_tokens"].idxmin(), "chosen"]  # the same noise from both: the cheaper answers win
    shutil.rmtree(tmp_path / tactician.CANDIDATE_ADAPTERS["sft-brief"])
    tactician.choose_adapter([small_program], evaluator, settings=settings, seeds=[0], **paths)
    assert tactician.resolve_adapter(None) == tmp_path / tactician.CANDIDATE_ADAPTERS["sft-full"]
    assert tactician.resolve_adapter(str(adapter)) == adapter  # an explicit adapter wins
    shipped = tactician.ship_trained_adapter("smoke", target=tmp_path / "shipped")  # `make ship-adapter`
    assert shipped["stage"] == "sft-full" and (tmp_path / "shipped" / "adapter_model.safetensors").is_file()
    shutil.rmtree(tmp_path / tactician.CANDIDATE_ADAPTERS["sft-full"])
    with pytest.raises(EccoError, match="rerun notebook 06"):
        tactician.resolve_adapter(None)
    (tmp_path / tactician.ADAPTER_CHOICE).unlink()
    with pytest.raises(EccoError, match="SHIP_RUN"):
        tactician.ship_trained_adapter("smoke", target=tmp_path / "shipped")


def test_the_cheapest_adapter_wins_unless_a_costlier_one_is_better_beyond_its_interval():
    from ecco_lib.tactician import pick_adapter

    frame = pd.DataFrame([{"candidate": "dear", "trained": True, "new_tokens": 300.0},
                          {"candidate": "cheap", "trained": True, "new_tokens": 100.0},
                          {"candidate": "mid", "trained": True, "new_tokens": 200.0},
                          {"candidate": "absent", "trained": False, "new_tokens": float("nan")}])
    base = [0.10, 0.30, 0.20, 0.50, 0.40, 0.25]
    noise = [0.01, -0.02, 0.015, -0.01, 0.02, -0.015]

    def cells(**offsets):
        return pd.DataFrame([{"method": m, "program": f"p{i}", "suite": f"s{i % 2}", "seed": 0, "i_o3": b + off(i)}
                             for m, off in offsets.items() for i, b in enumerate(base)])

    better = cells(cheap=lambda i: 0.0, mid=lambda i: noise[i], dear=lambda i: 0.1 + noise[i])
    assert frame.loc[pick_adapter(frame, better), "candidate"] == "dear"
    assert frame.loc[0, "minus_choice"] == pytest.approx(10.0, abs=1.0) and frame.loc[0, "ci_low"] > 0
    assert frame.loc[2, "ci_low"] < 0 < frame.loc[2, "ci_high"]  # mid: no better than cheap
    as_good = cells(cheap=lambda i: 0.0, mid=lambda i: noise[i], dear=lambda i: noise[i])
    assert frame.loc[pick_adapter(frame, as_good), "candidate"] == "cheap"
    nothing = better.assign(i_o3=[None] * len(better))  # no candidate found anything valid (as run_methods returns it)
    assert frame.loc[pick_adapter(frame, nothing), "candidate"] == "cheap"
    with pytest.raises(EccoError, match="no trained strategist"):
        pick_adapter(frame.assign(trained=False), better)


def test_ship_adapter_copies_what_loading_needs_with_provenance(tiny_strategist, tmp_path):
    import hashlib

    from ecco_lib.strategist import Strategist
    from ecco_lib.tactician import ship_adapter

    model_dir, adapter = tiny_strategist
    target = tmp_path / "shipped"
    provenance = ship_adapter(adapter, "tiny", "smoke", "untrained", target)
    assert sorted(p.name for p in target.iterdir()) == ["PROVENANCE.json", "adapter_config.json",
                                                         "adapter_model.safetensors"]
    assert json.loads((target / "adapter_config.json").read_text())["base_model_name_or_path"] == "tiny"
    for name, entry in provenance["files"].items():
        assert entry["sha256"] == hashlib.sha256((target / name).read_bytes()).hexdigest()
    assert json.loads((target / "PROVENANCE.json").read_text()) == provenance
    original = Strategist.from_pretrained(model_dir, adapter).model.state_dict()
    shipped = Strategist.from_pretrained(model_dir, target).model.state_dict()
    assert all((original[k] == shipped[k]).all() for k in original)
    with pytest.raises(EccoError, match="not a trained adapter"):
        ship_adapter(tmp_path, "tiny", "smoke", "untrained", tmp_path / "other")


def test_the_shipped_adapter_is_small_intact_and_names_no_path_of_this_machine():
    import hashlib

    from ecco_lib.config import load_profile
    from ecco_lib.tactician import ADAPTER_FILES, SHIPPED_ADAPTER, SHIPPED_LIMIT

    provenance = json.loads((SHIPPED_ADAPTER / "PROVENANCE.json").read_text())
    assert sum((SHIPPED_ADAPTER / f).stat().st_size for f in ADAPTER_FILES) <= SHIPPED_LIMIT
    for name in ADAPTER_FILES:
        assert provenance["files"][name]["sha256"] == hashlib.sha256((SHIPPED_ADAPTER / name).read_bytes()).hexdigest()
    config = json.loads((SHIPPED_ADAPTER / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == provenance["base_model"] == \
        load_profile("default")["search"]["methods"]["ecco"]["model"]
    assert provenance["profile"] == "default"
    assert config["target_modules"] == sorted(config["target_modules"])  # one byte-stable file per adapter


@pytest.mark.slow
def test_a_fresh_clone_runs_ecco_with_the_shipped_adapter(small_c, tmp_path):
    """No trained adapter under the output root: `ecco optimize --method ecco` loads the shipped one."""
    import yaml

    profile = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    profile["search"]["methods"]["ecco"].update(n=2, seeds_k=1)
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(profile))
    (tmp_path / "results" / "dataset").mkdir(parents=True)
    (tmp_path / "results" / "dataset" / "efficacy_prior.json").write_bytes(
        (REPO / "results" / "dataset" / "efficacy_prior.json").read_bytes())
    env = {"ECCO_CACHE_DIR": str(tmp_path / "cache"), "ECCO_OUTPUT_ROOT": str(tmp_path)}
    proc = run_cli("optimize", str(small_c), "--method", "ecco", "--budget", "8", "--profile", str(tmp_path / "p.yaml"),
                   "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert row["method"] == "ecco" and row["evaluations"] <= 8 and row["status"] == "ok"
    assert row["parsed"] >= 1  # the trained strategist answers in the contract's format


@pytest.mark.parametrize("module", ["ecco_lib.tactician", "ecco_lib.search"])
def test_either_module_imported_first_registers_every_ecco_method(module):
    import subprocess
    import sys

    code = f"import {module}; from ecco_lib.search import method_names; print(','.join(method_names()))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert {"ga", "ecco", "ecco-no-ga", "ecco-uniform", "ecco-no-seeds"} <= set(proc.stdout.strip().split(","))
