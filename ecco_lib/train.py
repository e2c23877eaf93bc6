"""Paper stage 4: train the strategist. SFT on the CoT dataset, then GRPO with a reward measured by
the compiler. Both train one LoRA adapter (peft) on a frozen base model, on the CPU, with trl.

Rewards of a GRPO completion (trl logs each as ``rewards/<name>/mean`` and ``.../std`` per step):

- ``format_reward`` in [0, 1]: 0.5 if the full response format parses, + 0.25 if its ``<sequence>``
  is a non-empty list of known passes, + 0.25 if its ``<intents>`` are well formed
  (:func:`ecco_lib.response.format_reward_parts`; :data:`FORMAT_WEIGHTS`).
- ``cycle_reward``: ``alpha * (C_O3 - C_gen) / C_O3`` (``alpha`` times I_O3 of the generated
  sequence, llvm-mca cycles, measured by the evaluator and cached); a completion that does not parse
  in the full format, or whose evaluation does not end ``ok``, gets ``invalid_penalty`` instead.

Every random choice is seeded by the settings' ``seed`` (transformers ``set_seed``, trainer seeds).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import pandas as pd

from ecco_lib.atomic import write_json
from ecco_lib.config import settings_from
from ecco_lib.errors import EccoError
from ecco_lib.experiments import write_table
from ecco_lib.response import format_reward_parts
from ecco_lib.scoring import score_answers
from ecco_lib.strategist import (ModelNotFoundError, canonical_adapter_config, file_sha256, load_model,
                                 strategist_messages, use_one_thread)

if TYPE_CHECKING:
    from ecco_lib.benchmarks.program import Program
    from ecco_lib.llvm.evaluate import Evaluator

#: Weight of each format check in ``format_reward`` (they sum to 1).
FORMAT_WEIGHTS = {"parses": 0.5, "valid_passes": 0.25, "intents_well_formed": 0.25}


@dataclass(frozen=True)
class SFTSettings:
    """Supervised fine-tuning of a LoRA adapter. ``max_length`` is in tokens (prompt + answer;
    longer samples are refused); ``max_steps`` counts optimizer steps; ``lora_top_layers`` = adapt
    only that many of the last transformer layers (None = all): backpropagation then stops below
    them, which on a CPU saves time in proportion."""

    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    lora_top_layers: int | None = None
    learning_rate: float = 2e-4
    max_steps: int = 100
    per_device_train_batch_size: int = 1
    gradient_accumulation_steps: int = 4
    max_length: int = 2048
    warmup_steps: int = 0
    seed: int = 0
    logging_steps: int = 1

    @classmethod
    def from_profile(cls, section: Mapping | None) -> "SFTSettings":
        return settings_from(cls, section)


@dataclass(frozen=True)
class GRPOSettings:
    """GRPO on the SFT adapter. Each optimizer step sees ``per_device_train_batch_size *
    gradient_accumulation_steps`` completions, ``num_generations`` per prompt; ``beta`` is the KL
    weight towards the SFT adapter (0 = no reference model); ``alpha`` weighs the cycle reward;
    ``invalid_penalty`` is the cycle reward of a malformed or failed completion;
    ``max_completion_length`` is in tokens."""

    num_generations: int = 4
    max_completion_length: int = 384
    temperature: float = 1.0
    top_p: float = 0.95
    beta: float = 0.04
    alpha: float = 1.0
    invalid_penalty: float = -1.0
    learning_rate: float = 1e-5
    max_steps: int = 50
    per_device_train_batch_size: int = 4
    gradient_accumulation_steps: int = 1
    seed: int = 0
    logging_steps: int = 1

    def __post_init__(self):
        if self.num_generations < 2:
            raise EccoError(f"GRPO needs num_generations >= 2 (got {self.num_generations}): advantages are "
                            f"relative to the group")
        if (self.per_device_train_batch_size * self.gradient_accumulation_steps) % self.num_generations:
            raise EccoError(f"per_device_train_batch_size x gradient_accumulation_steps "
                            f"({self.per_device_train_batch_size} x {self.gradient_accumulation_steps}) must be a "
                            f"multiple of num_generations ({self.num_generations})")

    @classmethod
    def from_profile(cls, section: Mapping | None) -> "GRPOSettings":
        return settings_from(cls, section)


@dataclass
class TrainResult:
    """What a training run leaves: the adapter directory (a peft LoRA adapter plus the tokenizer),
    the trainer's per-step log (``step``, ``loss``, ``learning_rate``, ... one row per logged step),
    the wall time of ``trainer.train()`` in seconds and per optimizer step, and for GRPO one row per
    sampled completion (``completions``)."""

    output_dir: Path
    adapter_dir: Path
    log: pd.DataFrame
    seconds: float
    seconds_per_step: float
    completions: pd.DataFrame | None = None
    reused: bool = False  # True: a finished run with the same inputs was loaded, nothing was trained


def _cuda() -> bool:
    """Train on the GPU when there is one (the full profile), else on the CPU."""
    import torch

    return torch.cuda.is_available()


def _log_frame(history: Sequence[Mapping]) -> pd.DataFrame:
    """The per-step entries of ``trainer.state.log_history`` (not the final run summary)."""
    rows = [dict(entry) for entry in history if "train_runtime" not in entry]
    frame = pd.DataFrame(rows)
    if "step" in frame:
        frame = frame[["step"] + [c for c in frame.columns if c != "step"]]
    return frame


def _text(completion) -> str:
    """The assistant text of a trl completion (conversational: a list of messages)."""
    return completion[-1]["content"] if isinstance(completion, list) else completion


# --------------------------------------------------------------------------------------------
# SFT
# --------------------------------------------------------------------------------------------

def sft_dataset(samples: Sequence[Mapping]):
    """trl's conversational prompt-completion format: ``prompt`` = [system, user], ``completion`` =
    [assistant], so the loss covers the answer only."""
    from datasets import Dataset

    if not samples:
        raise EccoError("no SFT samples: build the CoT dataset first")
    rows = []
    for sample in samples:
        messages = sample.get("messages")
        roles = [m.get("role") for m in messages] if isinstance(messages, list) else None
        if roles != ["system", "user", "assistant"]:
            raise EccoError(f"sample for {sample.get('program', '<unnamed>')} has message roles {roles}, "
                            f"need [system, user, assistant]")
        rows.append({"prompt": messages[:2], "completion": messages[2:]})
    return Dataset.from_list(rows)


def _check_lengths(samples: Sequence[Mapping], tokenizer, max_length: int) -> None:
    """trl would cut longer samples at the end, losing the answer's ``<sequence>``: refuse instead."""
    lengths = [len(tokenizer.apply_chat_template(s["messages"], tokenize=True, return_dict=True)["input_ids"])
               for s in samples]
    too_long = [n for n in lengths if n > max_length]
    if too_long:
        raise EccoError(f"{len(too_long)} of {len(samples)} SFT samples are longer than max_length={max_length} "
                        f"tokens (longest {max(too_long)}): raise the profile's training.sft.max_length")


def build_sft_trainer(base: str | os.PathLike, samples: Sequence[Mapping], settings: SFTSettings,
                      output_dir: str | os.PathLike, *, progress: bool = False):
    """A ready ``SFTTrainer``: the base model with a fresh LoRA adapter, the samples tokenized and
    labelled (prompt tokens -100), no checkpoints written."""
    from peft import LoraConfig
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    set_seed(settings.seed)
    model, tokenizer = load_model(base)
    _check_lengths(samples, tokenizer, settings.max_length)
    config = SFTConfig(output_dir=str(output_dir), use_cpu=not _cuda(), activation_checkpointing=False, report_to="none",
                       learning_rate=settings.learning_rate, max_steps=settings.max_steps,
                       per_device_train_batch_size=settings.per_device_train_batch_size,
                       gradient_accumulation_steps=settings.gradient_accumulation_steps,
                       max_length=settings.max_length, warmup_steps=settings.warmup_steps, seed=settings.seed,
                       data_seed=settings.seed, logging_steps=settings.logging_steps, save_strategy="no",
                       completion_only_loss=True, disable_tqdm=not progress)
    layers = model.config.num_hidden_layers
    top = settings.lora_top_layers
    if top is not None and not 1 <= top <= layers:
        raise EccoError(f"lora_top_layers={top}: the model has {layers} layers")
    lora = LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules=list(settings.target_modules), task_type="CAUSAL_LM",
                      layers_to_transform=list(range(layers - top, layers)) if top else None)
    return SFTTrainer(model=model, args=config, train_dataset=sft_dataset(samples), processing_class=tokenizer,
                      peft_config=lora)


def _finish(trainer, output_dir: Path, start: float) -> TrainResult:
    seconds = time.perf_counter() - start
    adapter_dir = output_dir / "adapter"
    trainer.model.save_pretrained(adapter_dir, selected_adapters=["default"])  # not GRPO's frozen "ref" copy
    trainer.processing_class.save_pretrained(adapter_dir)
    config_path = adapter_dir / "adapter_config.json"
    write_json(config_path, canonical_adapter_config(json.loads(config_path.read_text())))
    log = _log_frame(trainer.state.log_history)
    write_table(log, output_dir / "train_log.csv")
    return TrainResult(output_dir=output_dir, adapter_dir=adapter_dir, log=log, seconds=seconds,
                       seconds_per_step=seconds / max(1, trainer.state.global_step))


@dataclass(frozen=True)
class SFTJob:
    """One SFT run of RQ2: ``model`` (a model spec) trained on the dataset ``variant``; ``name`` is
    its key and the directory under the models path (``sft-<variant>``, or ``sft-<variant>@<model
    name>`` for an extra model size)."""

    name: str
    model: str
    variant: str


def sft_jobs(model: str, variants: Sequence[str], size_models: Sequence[str] = ()) -> list[SFTJob]:
    """The RQ2 training runs, all with one budget: ``model`` on every dataset variant, then every
    extra model of ``size_models`` on the first variant (the paper's model-size comparison)."""
    if not variants:
        raise EccoError("no dataset variants to train on")
    jobs = [SFTJob(f"sft-{v}", str(model), v) for v in variants]
    jobs += [SFTJob(f"sft-{variants[0]}@{Path(str(m)).name}", str(m), variants[0]) for m in size_models]
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise EccoError(f"SFT runs collide: {', '.join(sorted({n for n in names if names.count(n) > 1}))} "
                        f"(a variant or model listed twice)")
    return jobs


def sft(base: str | os.PathLike, samples: Sequence[Mapping], settings: SFTSettings,
        output_dir: str | os.PathLike, *, progress: bool = True, force: bool = False) -> TrainResult:
    """Fine-tune a LoRA adapter on CoT samples (``messages`` = [system, user, assistant]); writes
    ``output_dir/adapter`` and ``output_dir/train_log.csv``; ``progress`` shows a bar over the steps.
    A finished run with the same inputs (base weights, samples, settings, library versions) is
    reused unless ``force`` (:func:`reuse_or_train`)."""
    from ecco_lib.strategist import model_identity

    output_dir = Path(output_dir)
    inputs = {"stage": "sft", "base": model_identity(base), "samples": _digest(list(samples)),
              "settings": asdict(settings)}

    def train() -> TrainResult:
        trainer = build_sft_trainer(base, samples, settings, output_dir, progress=progress)
        start = time.perf_counter()
        trainer.train()
        return _finish(trainer, output_dir, start)

    return reuse_or_train(output_dir, inputs, train, force=force)


def _sft_job(base, samples, settings, output_dir, force, threads) -> TrainResult:
    """One :func:`sft` run in a worker process, on ``threads`` torch threads, without a step bar."""
    import torch

    torch.set_num_threads(threads)
    return sft(base, samples, settings, output_dir, progress=False, force=force)


def train_sft_jobs(jobs: Sequence[SFTJob], samples: Mapping[str, Sequence[Mapping]], settings: SFTSettings,
                   models_dir: str | os.PathLike, *, workers: int = 1, threads: int = 1, force: bool = False,
                   progress: bool = True) -> dict[str, TrainResult]:
    """Every job of :func:`sft_jobs` (``samples[job.name]`` its CoT samples, written to
    ``models_dir/<job.name>``): job name -> :class:`TrainResult`, in the order of ``jobs``.
    ``workers`` > 1 trains that many jobs at once, each in a spawned process on ``threads`` torch
    threads, the largest sample sets first (on 2 cores two 1-thread runs make 1.4x the steps per
    second of one 2-thread run: README, Performance); ``workers`` = 1 trains them one after the
    other in this process on ``threads`` threads. A job's result depends on its inputs and
    ``threads`` only, not on ``workers`` or the order (each run is seeded by ``settings.seed``)."""
    import torch
    from tqdm.auto import tqdm

    if workers < 1 or threads < 1:
        raise EccoError(f"SFT needs workers >= 1 and threads >= 1 (got {workers}, {threads})")
    missing = [j.name for j in jobs if j.name not in samples]
    if missing:
        raise EccoError(f"no SFT samples for {', '.join(missing)}")
    models_dir = Path(models_dir)
    if workers == 1 or len(jobs) == 1:
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return {j.name: sft(j.model, samples[j.name], settings, models_dir / j.name, progress=progress, force=force)
                    for j in jobs}
        finally:
            torch.set_num_threads(previous)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    largest_first = sorted(jobs, key=lambda j: -len(json.dumps(list(samples[j.name]))))
    results: dict[str, TrainResult] = {}
    context = multiprocessing.get_context("spawn")  # a forked torch runtime is not safe to use
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures = {pool.submit(_sft_job, j.model, list(samples[j.name]), settings, models_dir / j.name, force,
                               threads): j.name for j in largest_first}
        try:
            for future in tqdm(as_completed(futures), total=len(futures), desc=f"SFT runs ({workers} at once)",
                               disable=not progress):
                results[futures[future]] = future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)  # a failed or interrupted run: start no further job
            raise
    return {j.name: results[j.name] for j in jobs}


# --------------------------------------------------------------------------------------------
# Reuse of finished runs
# --------------------------------------------------------------------------------------------

#: Bump when what a training stage writes, or how, changes: finished runs are then retrained.
TRAINING_STAGE_VERSION = 1
STAGE_RECORD = "stage.json"


def _digest(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def stage_key(inputs: Mapping) -> str:
    """The digest a finished run is recognised by: its ``inputs`` plus what else changes the
    weights it writes (torch/transformers/trl/peft versions, torch threads, CUDA or CPU, and
    :data:`TRAINING_STAGE_VERSION`)."""
    import peft
    import torch
    import transformers
    import trl

    return _digest({"inputs": dict(inputs), "version": TRAINING_STAGE_VERSION, "torch": torch.__version__,
                    "transformers": transformers.__version__, "trl": trl.__version__, "peft": peft.__version__,
                    "threads": torch.get_num_threads(), "cuda": _cuda()})


def reuse_or_train(output_dir: str | os.PathLike, inputs: Mapping, train, force: bool = False) -> TrainResult:
    """``train()`` unless ``output_dir`` holds a finished run of the same :func:`stage_key`; then
    its adapter, log (and GRPO completions) are loaded and ``reused`` is True. The record
    (``stage.json``: key, inputs, timings) is removed before training and written last, so a run
    killed halfway is never taken for a finished one. ``force`` always trains."""
    output_dir = Path(output_dir)
    record_path, key = output_dir / STAGE_RECORD, stage_key(inputs)
    adapter_dir = output_dir / "adapter"
    if not force and record_path.is_file():
        try:
            record = json.loads(record_path.read_text())
        except (OSError, json.JSONDecodeError):
            record = {}
        if record.get("key") == key and (adapter_dir / "adapter_model.safetensors").is_file() \
                and record.get("adapter_sha256") == file_sha256(adapter_dir / "adapter_model.safetensors"):
            completions = output_dir / "completions.csv"
            return TrainResult(output_dir=output_dir, adapter_dir=adapter_dir,
                               log=pd.read_csv(output_dir / "train_log.csv"), seconds=record["seconds"],
                               seconds_per_step=record["seconds_per_step"], reused=True,
                               completions=pd.read_csv(completions) if completions.is_file() else None)
    record_path.unlink(missing_ok=True)
    result = train()
    write_json(record_path, {"key": key, "inputs": dict(inputs), "seconds": result.seconds,
                             "seconds_per_step": result.seconds_per_step,
                             "adapter_sha256": file_sha256(result.adapter_dir / "adapter_model.safetensors")})
    return result


# --------------------------------------------------------------------------------------------
# GRPO
# --------------------------------------------------------------------------------------------

def format_score(text: str) -> float:
    """The format reward of one answer text, in [0, 1] (:data:`FORMAT_WEIGHTS`)."""
    parts = format_reward_parts(text)
    return sum(weight for check, weight in FORMAT_WEIGHTS.items() if parts[check])


class CompilerReward:
    """The two GRPO reward functions over one set of training programs, and a record of every
    completion they scored (``records``: step = optimizer steps done when it was scored, program,
    text, parses, sequence, status, i_o3, format_reward, cycle_reward). trl passes the dataset
    column ``program`` (a URI) to them; each call scores its batch with
    :func:`ecco_lib.scoring.score_answers` (full format, one ``evaluate_many``)."""

    def __init__(self, programs: Sequence[Program], evaluator: Evaluator, settings: GRPOSettings):
        self.programs = {p.uri: p for p in programs}
        self.evaluator = evaluator
        self.settings = settings
        self.records: list[dict] = []

    def format_reward(self, completions, **_) -> list[float]:
        return [format_score(_text(c)) for c in completions]

    def cycle_reward(self, completions, program, trainer_state=None, **_) -> list[float]:
        texts = [_text(c) for c in completions]
        scores = score_answers([self.programs[uri] for uri in program], texts, self.evaluator, desc="GRPO rewards",
                               progress=False)
        step = trainer_state.global_step if trainer_state is not None else None
        rewards = []
        for uri, text, score in zip(program, texts, scores):
            scored = score.i_o3 is not None  # an ok answer whose program's -O3 reference also evaluated
            reward = self.settings.alpha * score.i_o3 if scored else self.settings.invalid_penalty
            rewards.append(reward)
            self.records.append({"step": step, "program": uri, "text": text, "parses": score.parses,
                                 "sequence": ",".join(score.sequence) if score.parses else None,
                                 "status": score.status, "i_o3": score.i_o3,
                                 "format_reward": format_score(text), "cycle_reward": reward})
        return rewards


def load_policy(base: str | os.PathLike, adapter: str | os.PathLike):
    """``(PeftModel, tokenizer)``: the base model with the SFT LoRA adapter loaded *trainable*
    (only the LoRA weights require gradients), so GRPO continues training the same weights."""
    from peft import PeftModel

    if not (Path(adapter) / "adapter_config.json").is_file():
        raise ModelNotFoundError(f"adapter directory {adapter} has no adapter_config.json (run SFT first)")
    model, tokenizer = load_model(base)
    return PeftModel.from_pretrained(model, adapter, is_trainable=True), tokenizer


def grpo(base: str | os.PathLike, adapter: str | os.PathLike, programs: Sequence[Program], evaluator: Evaluator,
         settings: GRPOSettings, output_dir: str | os.PathLike, *, progress: bool = True,
         force: bool = False) -> TrainResult:
    """Continue training the SFT LoRA adapter with GRPO on ``programs`` (prompt = the strategist's
    messages for each). Torch runs on one thread (compilers run beside it). Writes
    ``output_dir/adapter``, ``train_log.csv`` and ``completions.csv``; ``progress`` shows a bar over
    the steps. A finished run with the same inputs (base weights, SFT adapter, programs, metric,
    settings, library versions) is reused unless ``force`` (:func:`reuse_or_train`)."""
    from ecco_lib.strategist import model_identity

    if not programs:
        raise EccoError("no GRPO training programs")
    output_dir = Path(output_dir)
    inputs = {"stage": "grpo", "base": model_identity(base),
              "sft_adapter": file_sha256(Path(adapter) / "adapter_model.safetensors"),
              "programs": [(p.uri, p.ir_hash) for p in programs], "metric": evaluator.metric.as_record(),
              "settings": asdict(settings)}
    return reuse_or_train(output_dir, inputs, lambda: _train_grpo(base, adapter, programs, evaluator, settings,
                                                                  output_dir, progress), force=force)


def _train_grpo(base, adapter, programs, evaluator, settings: GRPOSettings, output_dir: Path,
                progress: bool) -> TrainResult:
    from datasets import Dataset
    from transformers import set_seed
    from trl import GRPOConfig, GRPOTrainer

    set_seed(settings.seed)
    with use_one_thread():
        model, tokenizer = load_policy(base, adapter)
        dataset = Dataset.from_list([{"prompt": strategist_messages(p), "program": p.uri} for p in programs])
        reward = CompilerReward(programs, evaluator, settings)
        config = GRPOConfig(output_dir=str(output_dir), use_cpu=not _cuda(), beta=settings.beta, report_to="none",
                            num_generations=settings.num_generations,
                            max_completion_length=settings.max_completion_length,
                            temperature=settings.temperature, top_p=settings.top_p,
                            learning_rate=settings.learning_rate, max_steps=settings.max_steps,
                            per_device_train_batch_size=settings.per_device_train_batch_size,
                            gradient_accumulation_steps=settings.gradient_accumulation_steps,
                            activation_checkpointing=False, seed=settings.seed, data_seed=settings.seed,
                            logging_steps=settings.logging_steps, save_strategy="no", disable_tqdm=not progress,
                            disable_dropout=True)  # policy and reference log-probs comparable
        trainer = GRPOTrainer(model=model, reward_funcs=[reward.format_reward, reward.cycle_reward], args=config,
                              train_dataset=dataset, processing_class=tokenizer)
        start = time.perf_counter()
        trainer.train()
    result = _finish(trainer, output_dir, start)
    result.completions = pd.DataFrame(reward.records, columns=["step", "program", "text", "parses", "sequence",
                                                               "status", "i_o3", "format_reward", "cycle_reward"])
    write_table(result.completions, output_dir / "completions.csv")
    return result


def _rewarded(completions: pd.DataFrame) -> pd.DataFrame:
    """The scored completions (a step recorded) with their total ``reward`` = format + cycle reward."""
    data = completions.dropna(subset=["step"]).astype({"format_reward": float, "cycle_reward": float})
    return data.assign(reward=data["format_reward"] + data["cycle_reward"])


def rewards_per_visit(completions: pd.DataFrame) -> pd.DataFrame:
    """GRPO's reward per *visit* of a program: one row per (program, step) of the per-completion
    record (:class:`CompilerReward` ``records``) with ``visit`` (1 = the first step that sampled the
    program), ``completions`` and the group means of ``format_reward``, ``cycle_reward`` and
    ``reward`` (their sum)."""
    data = _rewarded(completions)
    visits = (data.groupby(["program", "step"], sort=True)
              .agg(completions=("reward", "size"), format_reward=("format_reward", "mean"),
                   cycle_reward=("cycle_reward", "mean"), reward=("reward", "mean")).reset_index())
    visits.insert(2, "visit", visits.groupby("program").cumcount() + 1)
    return visits


def reward_trend(completions: pd.DataFrame) -> dict:
    """Whether GRPO's reward (``format_reward + cycle_reward`` of each sampled completion, as in
    :class:`CompilerReward` ``records``) rose over the run:

    - ``steps``; ``first_half_mean``, ``second_half_mean``: mean reward of the completions of the
      first and the second half of the steps; ``slope_per_step``: least-squares slope of the
      per-step mean reward;
    - ``programs_revisited``: programs sampled at two or more steps; ``paired_gain``: mean over them
      of (mean reward at the program's last visit - at its first visit); ``programs_improved``: how
      many of them rose. The paired numbers compare each program with itself, so which programs
      the steps happened to draw cannot move them (per-step means mix easy and hard programs)."""
    per_step = _rewarded(completions).groupby("step")["reward"].mean()
    if len(per_step) < 2:
        raise EccoError("need completions from at least two steps to see a trend")
    half = len(per_step) // 2
    by_program = rewards_per_visit(completions).groupby("program")["reward"]
    gains = (by_program.last() - by_program.first())[by_program.size() >= 2]
    return {"steps": len(per_step), "first_half_mean": float(per_step.iloc[:half].mean()),
            "second_half_mean": float(per_step.iloc[half:].mean()),
            "slope_per_step": float(np.polyfit(per_step.index.astype(float), per_step.to_numpy(float), 1)[0]),
            "programs_revisited": int(len(gains)), "paired_gain": float(gains.mean()) if len(gains) else math.nan,
            "programs_improved": int((gains > 0).sum())}
