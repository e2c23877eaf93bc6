"""Strategist training and generation cost on this machine: SFT step, GRPO step, generation speed.

    python perf/train_step_time.py [--model smollm2-135m] [--program ecco://automotive/bitcount]
        [--sft-steps 3] [--sft-tokens 900] [--grpo-steps 2] [--grpo-generations 2 4]
        [--completion-tokens 128] [--gen-tokens 64] [--threads 1 2]

*SFT*: one real CoT sample (evidence measured on ``--program``, written by the offline teacher,
cut to ``--sft-tokens`` tokens), batch 1, LoRA r=8 on the attention projections, at each thread
count of ``--threads``; seconds per optimizer step, median over the steps after the first.
*GRPO*: from that SFT adapter, one prompt per step with G completions of up to
``--completion-tokens`` tokens each, the cycle reward measured by the evaluator (fresh cache), one
torch thread (as :func:`ecco_lib.train.grpo` runs); median of trl's ``step_time`` after the first.
*generate*: greedy decoding of exactly ``--gen-tokens`` new tokens at each thread count, after a
warm-up call. Every row records the 1-minute load average at its start: other jobs on the machine
inflate the times. Prints a table and writes ``results/perf/train_step_time.csv``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from transformers import TrainerCallback

from ecco_lib.benchmarks import resolve
from ecco_lib.config import output_root
from ecco_lib.dataset import EvidenceTeacher, build_samples
from ecco_lib.evidence import CorePassPruner, collect_evidence
from ecco_lib.experiments import write_table
from ecco_lib.llvm import EvaluationCache, Evaluator
from ecco_lib.search import SearchResult
from ecco_lib.strategist import load_model, strategist_messages
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
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--program", default="ecco://automotive/bitcount")
    parser.add_argument("--sft-steps", type=int, default=3)
    parser.add_argument("--sft-tokens", type=int, default=900, help="the sample is cut to this many tokens")
    parser.add_argument("--grpo-steps", type=int, default=2)
    parser.add_argument("--grpo-generations", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--completion-tokens", type=int, default=128)
    parser.add_argument("--gen-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rows = []
    with tempfile.TemporaryDirectory(prefix="ecco-perf-train-") as tmp, \
            Evaluator(cache=EvaluationCache(Path(tmp) / "cache")) as evaluator:
        tmp = Path(tmp)
        program = resolve(args.program, cache=evaluator.cache)[0]
        prune = CorePassPruner(evaluator).prune(program, SEARCHED)
        search = SearchResult(program=program.uri, best=SEARCHED, best_cycles=prune.cycles_original, cycles_O3=None,
                              evaluations=1, seed=args.seed)
        samples = build_samples([collect_evidence(program, prune, search, evaluator)],
                                EvidenceTeacher(seed=args.seed), "full")

        settings = SFTSettings(max_steps=args.sft_steps, gradient_accumulation_steps=1, max_length=args.sft_tokens,
                               seed=args.seed)
        previous = torch.get_num_threads()
        for threads in args.threads:
            torch.set_num_threads(threads)
            load = os.getloadavg()[0]
            trainer = build_sft_trainer(args.model, samples, settings, tmp / "sft")
            timer = StepTimer()
            trainer.add_callback(timer)
            trainer.train()
            tokens = len(trainer.train_dataset[0]["input_ids"])
            step = _later_median(timer.seconds)
            rows.append({"measurement": "SFT step", "threads": threads,
                         "detail": f"1 sample x {tokens} tokens, LoRA r={settings.lora_r}, {args.sft_steps} steps",
                         "seconds": step, "tokens_per_s": tokens / step, "load_avg_1min": load})
        torch.set_num_threads(previous)
        adapter = tmp / "sft" / "adapter"
        trainer.model.save_pretrained(adapter)

        for generations in args.grpo_generations:
            load = os.getloadavg()[0]
            settings = GRPOSettings(num_generations=generations, per_device_train_batch_size=generations,
                                    max_completion_length=args.completion_tokens, max_steps=args.grpo_steps,
                                    seed=args.seed)
            result = grpo(args.model, adapter, [program], evaluator, settings, tmp / f"grpo-{generations}")
            mean_length = result.log["completions/mean_length"].mean()
            step = _later_median(result.log["step_time"])
            rows.append({"measurement": "GRPO step", "threads": 1,
                         "detail": f"{generations} completions x <= {args.completion_tokens} tokens "
                                   f"(mean {mean_length:.0f}), beta {settings.beta}, {args.grpo_steps} steps",
                         "seconds": step, "tokens_per_s": generations * mean_length / step, "load_avg_1min": load})

    model, tokenizer = load_model(args.model)
    inputs = tokenizer.apply_chat_template(strategist_messages(program), add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    for threads in args.threads:
        torch.set_num_threads(threads)
        load = os.getloadavg()[0]
        with torch.inference_mode():
            model.generate(**inputs, do_sample=False, max_new_tokens=4, pad_token_id=tokenizer.pad_token_id)  # warm-up
            start = time.perf_counter()
            model.generate(**inputs, do_sample=False, max_new_tokens=args.gen_tokens, min_new_tokens=args.gen_tokens,
                           pad_token_id=tokenizer.pad_token_id)
            seconds = time.perf_counter() - start
        rows.append({"measurement": "generate", "threads": threads,
                     "detail": f"greedy, prompt {inputs['input_ids'].shape[1]} tokens, {args.gen_tokens} new tokens",
                     "seconds": seconds, "tokens_per_s": args.gen_tokens / seconds, "load_avg_1min": load})
    torch.set_num_threads(previous)

    table = pd.DataFrame(rows)
    table.insert(0, "model", args.model)
    write_table(table, output_root() / "results" / "perf" / "train_step_time.csv")
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(table.round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
