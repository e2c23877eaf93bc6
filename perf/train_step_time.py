"""Strategist training and generation cost on this machine: SFT step, GRPO step, generation speed.

    python perf/train_step_time.py [--profile default] [--program ecco://automotive/bitcount]
        [--sft-steps 4] [--grpo-steps 2] [--grpo-generations 2 4] [--completion-tokens 128]
        [--gen-tokens 256] [--batch 1 7] [--threads 1 2]

*SFT*: one real CoT sample (evidence measured on ``--program``, written by the profile's offline
teacher), batch 1, the profile's LoRA settings (``training.sft``), once adapting every layer and
once only the top half, at each thread count of ``--threads``; seconds per optimizer step, median
over the steps after the first.
*GRPO*: from that SFT adapter, one prompt per step with G completions of up to
``--completion-tokens`` tokens each, the cycle reward measured by the evaluator (fresh cache), one
torch thread (as :func:`ecco_lib.train.grpo` runs); median of trl's ``step_time`` after the first.
*generate*: :meth:`Strategist.greedy` on the first ``--batch`` embedded test programs (one per
suite) with up to ``--gen-tokens`` new tokens, at each batch size and thread count, after a warm-up
call; tokens/s counts the tokens actually generated (up to each answer's end). Every row records the 1-minute load average at its start: other jobs on the machine
inflate the times. Prints a table and writes ``results/perf/train_step_time.csv``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch
from transformers import AutoConfig, TrainerCallback

from ecco_lib.benchmarks import cap_per_suite, resolve
from ecco_lib.config import load_profile, output_root
from ecco_lib.dataset import build_samples
from ecco_lib.evidence import CorePassPruner, collect_evidence
from ecco_lib.experiments import write_table
from ecco_lib.llvm import EvaluationCache, Evaluator
from ecco_lib.search import OptimizationResult
from ecco_lib.strategist import Strategist, resolve_model
from ecco_lib.teachers import make_teacher
from ecco_lib.train import GRPOSettings, SFTSettings, build_sft_trainer, grpo

#: The sequence pruned into the SFT sample's core sequence (Algorithm 1), as if a search had found it.
SEARCHED = ("sroa", "instcombine", "simplifycfg", "loop-rotate", "licm", "gvn", "indvars", "loop-unroll", "dse",
            "adce")


class StepTimer(TrainerCallback):
    """Wall time of every optimizer step, in seconds."""

    def __init__(self):
        self.seconds: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.seconds.append(time.perf_counter() - self._start)


def _later_median(values) -> float:
    """Median without the first value (warm-up), unless there is only one."""
    values = list(values)
    return statistics.median(values[1:] if len(values) > 1 else values)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default", help="model, teacher and LoRA settings come from it")
    parser.add_argument("--program", default="ecco://automotive/bitcount")
    parser.add_argument("--sft-steps", type=int, default=4)
    parser.add_argument("--grpo-steps", type=int, default=2)
    parser.add_argument("--grpo-generations", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--completion-tokens", type=int, default=128)
    parser.add_argument("--gen-tokens", type=int, default=256)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 7])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    cfg = load_profile(args.profile)
    model_spec, seed = cfg["training"]["model"], cfg.seed

    rows = []
    with tempfile.TemporaryDirectory(prefix="ecco-perf-train-") as tmp, \
            Evaluator(cache=EvaluationCache(Path(tmp) / "cache")) as evaluator:
        tmp = Path(tmp)
        program = resolve(args.program, cache=evaluator.cache)[0]
        prune = CorePassPruner(evaluator).prune(program, SEARCHED)
        search = OptimizationResult(method="ga", program=program.uri, best=SEARCHED,
                                    best_cycles=prune.cycles_original, cycles_O3=None,
                                    evaluations=1, seed=seed)
        samples = build_samples([collect_evidence(program, prune, search, evaluator)],
                                make_teacher(cfg["dataset"]["teacher"], seed), "full")

        profile_sft = SFTSettings.from_profile(cfg["training"]["sft"])
        layers = AutoConfig.from_pretrained(resolve_model(model_spec), local_files_only=True).num_hidden_layers
        previous = torch.get_num_threads()
        for top in (None, layers // 2):
            settings = replace(profile_sft, max_steps=args.sft_steps, gradient_accumulation_steps=1,
                               per_device_train_batch_size=1, lora_top_layers=top)
            for threads in args.threads:
                torch.set_num_threads(threads)
                load = os.getloadavg()[0]
                trainer = build_sft_trainer(model_spec, samples, settings, tmp / "sft")
                timer = StepTimer()
                trainer.add_callback(timer)
                trainer.train()
                tokens = len(trainer.train_dataset[0]["input_ids"])
                step = _later_median(timer.seconds)
                rows.append({"measurement": "SFT step", "threads": threads,
                             "detail": f"1 sample x {tokens} tokens, LoRA r={settings.lora_r} on "
                                       f"{'all' if top is None else f'the top {top} of'} {layers} layers, "
                                       f"{args.sft_steps} steps",
                             "seconds": step, "tokens_per_s": tokens / step, "load_avg_1min": load})
        torch.set_num_threads(previous)
        adapter = tmp / "sft" / "adapter"
        trainer.model.save_pretrained(adapter)

        for generations in args.grpo_generations:
            load = os.getloadavg()[0]
            settings = GRPOSettings(num_generations=generations, per_device_train_batch_size=generations,
                                    max_completion_length=args.completion_tokens, max_steps=args.grpo_steps,
                                    seed=seed)
            result = grpo(model_spec, adapter, [program], evaluator, settings, tmp / f"grpo-{generations}")
            mean_length = result.log["completions/mean_length"].mean()
            step = _later_median(result.log["step_time"])
            rows.append({"measurement": "GRPO step", "threads": 1,
                         "detail": f"{generations} completions x <= {args.completion_tokens} tokens "
                                   f"(mean {mean_length:.0f}), beta {settings.beta}, {args.grpo_steps} steps",
                         "seconds": step, "tokens_per_s": generations * mean_length / step, "load_avg_1min": load})

        held_out = cap_per_suite(resolve("ecco://", split="test", cache=evaluator.cache), 1)
    strategist = Strategist.from_pretrained(model_spec, max_new_tokens=args.gen_tokens)
    for threads in args.threads:
        torch.set_num_threads(threads)
        for batch in args.batch:
            programs = held_out[:batch]
            load = os.getloadavg()[0]
            strategist.greedy(programs[:1], batch_size=1)  # warm-up
            start = time.perf_counter()
            _, lengths = strategist.greedy(programs, batch_size=batch)
            seconds = time.perf_counter() - start
            rows.append({"measurement": "generate", "threads": threads,
                         "detail": f"greedy, batch {batch}, <= {args.gen_tokens} new tokens "
                                   f"(mean {statistics.mean(lengths):.0f})",
                         "seconds": seconds, "tokens_per_s": sum(lengths) / seconds, "load_avg_1min": load})
    torch.set_num_threads(previous)

    table = pd.DataFrame(rows)
    table.insert(0, "model", model_spec)
    write_table(table, output_root() / "results" / "perf" / "train_step_time.csv")
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(table.round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
