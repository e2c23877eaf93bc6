"""Training the strategist: SFT (prompt masked, adapter saved and reloadable) and GRPO (reward
components logged, compiler-measured cycle reward, malformed answers penalised), on a tiny model
and real evidence from the embedded suite."""

from __future__ import annotations

import json
import math
import shutil

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from ecco_lib.benchmarks import resolve
from ecco_lib.dataset import build_samples
from ecco_lib.errors import EccoError
from ecco_lib.evidence import CorePassPruner, collect_evidence
from ecco_lib.response import StrategistResponse
from ecco_lib.search import OptimizationResult
from ecco_lib.strategist import ModelNotFoundError, Strategist, build_tiny_model, file_sha256, load_model
from ecco_lib.teachers import EvidenceTeacher
from ecco_lib.train import (CompilerReward, GRPOSettings, SFTJob, SFTSettings, build_sft_trainer, format_score,
                            grpo, load_policy, reward_trend, rewards_per_visit, sft, sft_dataset, sft_jobs,
                            train_sft_jobs)

pytestmark = pytest.mark.xdist_group("train")

PROGRAMS = ("ecco://automotive/bitcount", "ecco://nas/ep")
SEARCHED = ("sroa", "instcombine", "simplifycfg", "licm", "gvn")
SFT_SETTINGS = SFTSettings(max_steps=2, gradient_accumulation_steps=1, learning_rate=1e-3)
GRPO_SETTINGS = GRPOSettings(max_steps=2, num_generations=2, per_device_train_batch_size=2,
                             max_completion_length=16, invalid_penalty=-0.75)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), seed=0)


@pytest.fixture(scope="session")
def programs(session_cache):
    return [resolve(uri, cache=session_cache)[0] for uri in PROGRAMS]


@pytest.fixture(scope="session")
def samples(programs, evaluator):
    """Real CoT samples: a searched-like sequence pruned by Algorithm 1, evidence measured, then
    written up by the offline teacher."""
    evidences = []
    for program in programs:
        prune = CorePassPruner(evaluator).prune(program, SEARCHED)
        search = OptimizationResult(method="ga", program=program.uri, best=SEARCHED,
                                    best_cycles=prune.cycles_original, cycles_O3=None,
                                    evaluations=1, seed=0)
        evidences.append(collect_evidence(program, prune, search, evaluator))
    return build_samples(evidences, EvidenceTeacher(seed=0), "full")


@pytest.fixture(scope="session")
def sft_result(tiny_dir, samples, tmp_path_factory):
    return sft(tiny_dir, samples, SFT_SETTINGS, tmp_path_factory.mktemp("sft"))


@pytest.mark.slow
def test_sft_loss_covers_the_answer_only(tiny_dir, samples, tmp_path):
    trainer = build_sft_trainer(tiny_dir, samples, SFT_SETTINGS, tmp_path)
    tokenizer = trainer.processing_class
    assert len(trainer.train_dataset) == len(samples)
    for sample, row in zip(samples, trainer.train_dataset):
        batch = trainer.data_collator([row])
        ids, labels = batch["input_ids"][0], batch["labels"][0]
        prompt_ids = tokenizer.apply_chat_template(sample["messages"][:2], add_generation_prompt=True,
                                                   tokenize=True, return_dict=True)["input_ids"]
        assert (labels[:len(prompt_ids)] == -100).all()
        assert (labels[len(prompt_ids):] != -100).all()
        assert tokenizer.decode(ids[labels != -100]) == sample["messages"][2]["content"] + "<|im_end|>\n"


@pytest.mark.slow
def test_sft_trains_a_reloadable_adapter(sft_result, tiny_dir, programs):
    log = sft_result.log
    assert list(log["step"]) == [1, 2]
    assert all(math.isfinite(x) and x > 0 for x in log["loss"]) and "learning_rate" in log
    assert sft_result.seconds > 0 and sft_result.seconds_per_step == pytest.approx(sft_result.seconds / 2)
    assert (sft_result.adapter_dir / "adapter_config.json").is_file()
    assert (sft_result.output_dir / "train_log.csv").is_file()
    base, _ = load_model(tiny_dir)
    tuned, _ = load_model(tiny_dir, adapter=sft_result.adapter_dir)
    name = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(base.state_dict()[name], tuned.state_dict()[name])
    assert torch.equal(base.state_dict()["model.layers.0.mlp.up_proj.weight"],
                       tuned.state_dict()["model.layers.0.mlp.up_proj.weight"])  # not a LoRA target
    strategist = Strategist.from_pretrained(tiny_dir, sft_result.adapter_dir, max_new_tokens=8)
    assert strategist.generate(programs[0]) == strategist.generate(programs[0])


def test_sft_rejects_bad_samples():
    with pytest.raises(EccoError, match="no SFT samples"):
        sft_dataset([])
    with pytest.raises(EccoError, match="ecco://x.*roles \\['user', 'assistant'\\]"):
        sft_dataset([{"program": "ecco://x", "messages": [{"role": "user", "content": "u"},
                                                          {"role": "assistant", "content": "a"}]}])


def test_cycle_reward_is_measured_by_the_compiler(programs, evaluator):
    reward = CompilerReward(programs, evaluator, GRPOSettings(alpha=2.0, invalid_penalty=-0.5))
    valid = StrategistResponse(reasoning="Promote, then fold.", intents={"memory-to-register": 0.6,
                                                                          "scalar-simplification": 0.4},
                               sequence=("mem2reg", "instcombine")).render()
    unknown_pass = valid.replace("instcombine", "no-such-pass")
    completions = [[{"role": "assistant", "content": text}] for text in (valid, "garbage", unknown_pass, valid)]
    uris = [programs[0].uri, programs[0].uri, programs[1].uri, programs[1].uri]
    rewards = reward.cycle_reward(completions, program=uris)
    measured = evaluator.with_o3(evaluator.evaluate_many([(p, "mem2reg,instcombine") for p in programs]),
                                 {p.uri: p for p in programs})
    assert rewards == pytest.approx([2.0 * measured[0].i_o3, -0.5, -0.5, 2.0 * measured[1].i_o3])
    assert [r["status"] for r in reward.records] == ["ok", "malformed", "malformed", "ok"]
    assert [r["sequence"] for r in reward.records] == ["mem2reg,instcombine", None, None, "mem2reg,instcombine"]
    assert [r["i_o3"] for r in reward.records] == [measured[0].i_o3, None, None, measured[1].i_o3]
    assert reward.format_reward(completions) == [1.0, 0.0, 0.25, 1.0]
    assert format_score("<sequence>\nsroa\n</sequence>") == 0.25


@pytest.mark.slow
def test_grpo_policy_trains_the_sft_lora_weights(sft_result, tiny_dir, tmp_path):
    policy, _ = load_policy(tiny_dir, sft_result.adapter_dir)
    trainable = {name for name, p in policy.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)
    saved = load_file(sft_result.adapter_dir / "adapter_model.safetensors")
    state = policy.state_dict()
    for key, value in saved.items():
        loaded = key.replace(".weight", ".default.weight")
        assert torch.equal(state[loaded], value), key
    with pytest.raises(ModelNotFoundError, match="run SFT first"):
        load_policy(tiny_dir, tmp_path)


@pytest.mark.slow
def test_grpo_continues_the_sft_adapter_and_logs_every_reward(sft_result, tiny_dir, programs, evaluator, tmp_path):
    result = grpo(tiny_dir, sft_result.adapter_dir, programs, evaluator, GRPO_SETTINGS, tmp_path)
    log = result.log
    assert list(log["step"]) == [1, 2]
    for column in ("rewards/format_reward/mean", "rewards/cycle_reward/mean", "reward", "loss", "kl"):
        assert log[column].notna().all(), column
    completions = result.completions
    assert len(completions) == 2 * GRPO_SETTINGS.per_device_train_batch_size
    assert set(completions["program"]) <= {p.uri for p in programs}
    assert set(completions["step"]) == {0, 1}
    # a tiny random model writes garbage: every completion takes the penalty path
    assert (completions["status"] == "malformed").all() and (completions["cycle_reward"] == -0.75).all()
    assert log["rewards/cycle_reward/mean"].tolist() == [-0.75, -0.75]
    assert (tmp_path / "completions.csv").is_file()
    # the GRPO adapter is the SFT adapter trained further, not a fresh one (whose LoRA B would start at 0);
    # with every reward equal the advantages are 0, so it barely moves
    before = load_file(sft_result.adapter_dir / "adapter_model.safetensors")
    after = load_file(result.adapter_dir / "adapter_model.safetensors")
    assert before.keys() == after.keys()
    b_keys = [k for k in before if "lora_B" in k]
    sft_size = max(before[k].abs().max().item() for k in b_keys)
    drift = max((after[k] - before[k]).abs().max().item() for k in b_keys)
    assert sft_size > 0 and drift < sft_size / 100
    assert not (result.adapter_dir / "ref").exists()  # trl's frozen reference copy is not saved
    Strategist.from_pretrained(tiny_dir, result.adapter_dir, max_new_tokens=4).generate(programs[0])


def test_settings_from_profile():
    settings = SFTSettings.from_profile({"lora_r": 16, "target_modules": ["q_proj", "v_proj"], "learning_rate": "1e-4"})
    assert settings.lora_r == 16 and settings.target_modules == ("q_proj", "v_proj") and settings.learning_rate == 1e-4
    assert GRPOSettings.from_profile(None) == GRPOSettings()
    with pytest.raises(EccoError, match="unknown SFTSettings key\\(s\\) lora_rank"):
        SFTSettings.from_profile({"lora_rank": 8})
    with pytest.raises(EccoError, match="GRPOSettings.max_steps = 2.5 is not of type int"):
        GRPOSettings.from_profile({"max_steps": 2.5})
    with pytest.raises(EccoError, match="target_modules = 'q_proj' is not of type tuple"):
        SFTSettings.from_profile({"target_modules": "q_proj"})
    with pytest.raises(EccoError, match="GRPOSettings.max_steps = 'many' is not of type int"):
        GRPOSettings.from_profile({"max_steps": "many"})
    with pytest.raises(EccoError, match="multiple of num_generations"):
        GRPOSettings.from_profile({"num_generations": 4, "per_device_train_batch_size": 6})
    with pytest.raises(EccoError, match="num_generations >= 2"):
        GRPOSettings(num_generations=1, per_device_train_batch_size=1)


def test_sft_settings_accept_an_optional_layer_count():
    assert SFTSettings.from_profile({"lora_top_layers": None}).lora_top_layers is None
    assert SFTSettings.from_profile({"lora_top_layers": 1}).lora_top_layers == 1
    with pytest.raises(EccoError, match="lora_top_layers = 'top' is not of type int"):
        SFTSettings.from_profile({"lora_top_layers": "top"})


@pytest.mark.slow
def test_lora_top_layers_adapts_only_the_last_layers(tiny_dir, samples, tmp_path):
    trainer = build_sft_trainer(tiny_dir, samples, SFTSettings(max_steps=1, lora_top_layers=1), tmp_path)
    adapted = {name.split(".layers.")[1].split(".")[0] for name, p in trainer.model.named_parameters()
               if p.requires_grad}
    assert adapted == {"1"}  # the tiny model has layers 0 and 1
    with pytest.raises(EccoError, match="lora_top_layers=3: the model has 2 layers"):
        build_sft_trainer(tiny_dir, samples, SFTSettings(max_steps=1, lora_top_layers=3), tmp_path)


def test_sft_jobs_cover_variants_then_model_sizes():
    jobs = sft_jobs("smollm2-135m", ["full", "no-evidence"], ["Qwen/Qwen2.5-3B-Instruct", "models/qwen-7b"])
    assert jobs == [SFTJob("sft-full", "smollm2-135m", "full"), SFTJob("sft-no-evidence", "smollm2-135m", "no-evidence"),
                    SFTJob("sft-full@Qwen2.5-3B-Instruct", "Qwen/Qwen2.5-3B-Instruct", "full"),
                    SFTJob("sft-full@qwen-7b", "models/qwen-7b", "full")]
    with pytest.raises(EccoError, match="collide: sft-full"):
        sft_jobs("m", ["full", "full"])
    with pytest.raises(EccoError, match="no dataset variants"):
        sft_jobs("m", [])


def test_reward_trend_compares_each_program_with_itself():
    rows = []
    # step 0 draws the easy program, steps 1-2 the hard one, step 3 the easy one again: per-step
    # means fall, yet both programs' own rewards rose
    for step, program, reward in [(0, "easy", 1.0), (1, "hard", -1.0), (2, "hard", -0.5), (3, "easy", 1.2)]:
        rows += [{"step": step, "program": program, "format_reward": 1.0, "cycle_reward": reward + d}
                 for d in (-0.1, 0.1)]
    visits = rewards_per_visit(pd.DataFrame(rows))
    assert visits[["program", "step", "visit", "completions"]].values.tolist() == [
        ["easy", 0, 1, 2], ["easy", 3, 2, 2], ["hard", 1, 1, 2], ["hard", 2, 2, 2]]
    assert visits["reward"].tolist() == pytest.approx([2.0, 2.2, 0.0, 0.5])
    trend = reward_trend(pd.DataFrame(rows))
    assert trend["steps"] == 4
    assert trend["first_half_mean"] == pytest.approx(1.0) and trend["second_half_mean"] == pytest.approx(1.35)
    assert trend["programs_revisited"] == 2 and trend["programs_improved"] == 2
    assert trend["paired_gain"] == pytest.approx((0.2 + 0.5) / 2)
    falling = pd.DataFrame(rows).assign(cycle_reward=lambda d: -d["step"].astype(float))
    assert reward_trend(falling)["slope_per_step"] == pytest.approx(-1.0)
    assert reward_trend(falling)["programs_improved"] == 0
    with pytest.raises(EccoError, match="at least two steps"):
        reward_trend(pd.DataFrame(rows[:2]))


def test_a_finished_sft_run_is_reused_and_any_changed_input_retrains(tiny_dir, samples, tmp_path):
    first = sft(tiny_dir, samples, SFT_SETTINGS, tmp_path / "run")
    weights = first.adapter_dir / "adapter_model.safetensors"
    stamp = weights.stat().st_mtime_ns
    again = sft(tiny_dir, samples, SFT_SETTINGS, tmp_path / "run")
    assert not first.reused and again.reused and weights.stat().st_mtime_ns == stamp
    assert again.seconds == first.seconds and again.log.equals(pd.read_csv(tmp_path / "run" / "train_log.csv"))
    changed = sft(tiny_dir, samples, SFTSettings(max_steps=3, learning_rate=1e-3), tmp_path / "run")
    assert not changed.reused and list(changed.log["step"])[-1] == 3
    forced = sft(tiny_dir, samples, SFTSettings(max_steps=3, learning_rate=1e-3), tmp_path / "run", force=True)
    assert not forced.reused
    fewer = sft(tiny_dir, samples[:1], SFTSettings(max_steps=3, learning_rate=1e-3), tmp_path / "run")
    assert not fewer.reused
    # the base model counts by content: a copy elsewhere, written later, is the same input
    moved = shutil.copytree(tiny_dir, tmp_path / "elsewhere", copy_function=shutil.copyfile)
    assert sft(moved, samples[:1], SFTSettings(max_steps=3, learning_rate=1e-3), tmp_path / "run").reused
    assert str(tiny_dir) not in (tmp_path / "run" / "stage.json").read_text()


def test_sft_jobs_trained_in_parallel_workers_equal_the_same_jobs_trained_one_by_one(tiny_dir, samples, tmp_path):
    jobs = [SFTJob("sft-a", str(tiny_dir), "full"), SFTJob("sft-b", str(tiny_dir), "full")]
    per_job = {"sft-a": samples, "sft-b": samples[:1]}
    apart = train_sft_jobs(jobs, per_job, SFT_SETTINGS, tmp_path / "parallel", workers=2, threads=1, progress=False)
    serial = train_sft_jobs(jobs, per_job, SFT_SETTINGS, tmp_path / "serial", workers=1, threads=1, progress=False)
    assert list(apart) == ["sft-a", "sft-b"] and not any(r.reused for r in apart.values())
    digests = {name: file_sha256(r.adapter_dir / "adapter_model.safetensors") for name, r in apart.items()}
    assert digests == {name: file_sha256(r.adapter_dir / "adapter_model.safetensors") for name, r in serial.items()}
    assert digests["sft-a"] != digests["sft-b"]  # other samples, other weights
    for name, r in apart.items():  # peft's target_modules set, saved in one order by every process
        config = (r.adapter_dir / "adapter_config.json").read_text()
        assert config == (serial[name].adapter_dir / "adapter_config.json").read_text()
        assert json.loads(config)["target_modules"] == sorted(SFT_SETTINGS.target_modules)
    assert all(r.log["loss"].equals(serial[name].log["loss"]) for name, r in apart.items())
    again = train_sft_jobs(jobs, per_job, SFT_SETTINGS, tmp_path / "parallel", workers=2, threads=1, progress=False)
    assert all(r.reused for r in again.values())  # the workers' stage records are the parent's
    with pytest.raises(EccoError, match="no SFT samples for sft-b"):
        train_sft_jobs(jobs, {"sft-a": samples}, SFT_SETTINGS, tmp_path / "x")
    with pytest.raises(EccoError, match="workers >= 1"):
        train_sft_jobs(jobs, per_job, SFT_SETTINGS, tmp_path / "x", workers=0)


def test_a_run_killed_before_its_record_is_written_is_retrained(tiny_dir, samples, tmp_path):
    from ecco_lib.train import STAGE_RECORD, reuse_or_train

    sft(tiny_dir, samples, SFT_SETTINGS, tmp_path / "run")
    record = tmp_path / "run" / STAGE_RECORD
    assert record.is_file()

    def killed():
        raise KeyboardInterrupt  # training stopped halfway

    with pytest.raises(KeyboardInterrupt):
        reuse_or_train(tmp_path / "run", {"other": "inputs"}, killed)
    assert not record.exists()  # the old record is gone before training starts
    assert not sft(tiny_dir, samples, SFT_SETTINGS, tmp_path / "run").reused


def test_a_finished_grpo_run_is_reused(sft_result, tiny_dir, programs, evaluator, tmp_path):
    first = grpo(tiny_dir, sft_result.adapter_dir, programs, evaluator, GRPO_SETTINGS, tmp_path)
    again = grpo(tiny_dir, sft_result.adapter_dir, programs, evaluator, GRPO_SETTINGS, tmp_path)
    assert not first.reused and again.reused and len(again.completions) == len(first.completions)
    assert not grpo(tiny_dir, sft_result.adapter_dir, programs[:1], evaluator, GRPO_SETTINGS, tmp_path).reused
