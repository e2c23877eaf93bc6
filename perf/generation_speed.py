"""Strategist generation cost against the compiler: N sampled answers per program (tokens/s,
seconds) beside 100 compiler evaluations of the same program (issue 11's target: the answers take
less wall time than the evaluations).

    python perf/generation_speed.py [--profile default] [--n 8] [--threads 2] [--per-suite 1] [--budget 100]
                                    [--engine transformers|llama-cpp] [--dtype float32|bfloat16]
                                    [--gguf-type f16|f32|q8_0|q4_0 ...] [--together K] [--adapter RUN]

The strategist is ``ecco``'s (``search.methods.ecco``: model, adapter, temperature, top-p,
max_new_tokens, batch size; ``--adapter RUN`` a run under ``results/models/`` instead), sampled without any cache; the evaluations are ``rio`` at
``--budget`` on a fresh cache (every one compiled) with the profile's workers, after the
generation (never beside it). ``--dtype bfloat16`` casts the loaded (adapter-merged) weights to
bfloat16 before generating, a measurement only: the pipeline generates in float32.
``--engine llama-cpp`` exports the same merged
weights to GGUF as ``--gguf-type`` and samples the N answers with llama.cpp, batched over one
shared prompt (``ecco_lib/llama_cpp_engine.py``; ``--together K`` decodes K programs' answers in one
batch and charges each program an equal share of its wall time); it first checks the export: each program's first
16 greedy tokens from llama.cpp must equal transformers' at f32 (reported for other types).
One row per program; the medians are printed and everything is written to
``results/perf/generation_speed.csv`` (transformers, float32), ``generation_speed_<dtype>.csv``
or ``generation_speed_llama-cpp-<type>[-together<K>].csv`` (``-<RUN>`` before ``.csv`` with ``--adapter``). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from ecco_lib.benchmarks import cap_per_suite, resolve_all
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import write_table
from ecco_lib.response import parse_for_search
from ecco_lib.search import Objective, make_optimizer
from ecco_lib.strategist import Strategist, use_threads
from ecco_lib.tactician import adapter_parts, adapter_run, resolve_adapter


CHECK_TOKENS = 16  # greedy tokens compared between llama.cpp and transformers per program


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--n", type=int, default=None, help="answers per program (default: the profile's ecco n)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the profile's)")
    parser.add_argument("--per-suite", type=int, default=1)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--engine", choices=("transformers", "llama-cpp"), default="transformers")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                        help="transformers: weights' dtype during generation (default: float32, as the transformers engine generates)")
    parser.add_argument("--gguf-type", default="f16", help="llama-cpp: tensor type of the export (f32, f16, q8_0, ...)")
    parser.add_argument("--together", type=int, default=1,
                        help="llama-cpp: programs whose answers are decoded in one batch (default 1)")
    parser.add_argument("--adapter", default=None, metavar="RUN", help="a run under results/models/ (default: ecco's)")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    cfg = profile["search"]["methods"]["ecco"]
    n, threads = args.n or cfg["n"], args.threads or cfg["torch_threads"]
    adapter = resolve_adapter(args.adapter or cfg["adapter"])
    run = adapter_run(adapter) if adapter else None
    strategist = Strategist.from_pretrained(cfg["model"], adapter, max_new_tokens=cfg["max_new_tokens"])
    parts = adapter_parts(adapter)

    rows = []
    with tempfile.TemporaryDirectory(prefix="ecco-perf-") as tmp, \
            profile.evaluator(cache=tmp, check=False, progress=False) as ev:
        programs = cap_per_suite(resolve_all(["ecco://"], cache=ev.cache, split="test"), args.per_suite)
        if args.engine == "llama-cpp":
            generate, setting = llama_cpp_generator(strategist, programs, Path(tmp), args.gguf_type, n, threads, cfg,
                                                    args.together)
        else:
            strategist.model.to(getattr(torch, args.dtype))
            generate, setting = transformers_generator(strategist, n, threads, cfg), args.dtype
        rio, _ = make_optimizer("rio", profile["search"]["methods"])
        for program in programs:
            generation, tokens, texts = generate(program)
            start = time.perf_counter()
            result = rio.optimize(program, Objective(program, ev, args.budget), seed=0)
            compiling = time.perf_counter() - start
            valid = sum(parse_for_search(text, parts)[1]["parse"] == "ok" for text in texts)
            rows.append({"program": program.uri, "engine": args.engine, "weights": setting, "answers": n,
                         "programs_per_batch": args.together if args.engine == "llama-cpp" else 1,
                         "valid_answers": valid, "new_tokens": tokens, "threads": threads,
                         "generation_s": generation, "tokens_per_s": tokens / generation,
                         "evaluations": result.evaluations, "evaluations_s": compiling,
                         "ratio": generation / compiling, "adapter": str(run),
                         "load_1min": os.getloadavg()[0]})
            print(f"{program.uri}: {n} answers ({valid} valid) {generation:.1f} s ({tokens / generation:.0f} "
                  f"tokens/s), {result.evaluations} evaluations {compiling:.1f} s", flush=True)
    table = pd.DataFrame(rows)
    name = ("generation_speed.csv" if args.engine == "transformers" and args.dtype == "float32" else
            f"generation_speed_{args.dtype}.csv" if args.engine == "transformers" else
            f"generation_speed_llama-cpp-{args.gguf_type}.csv" if args.together == 1 else
            f"generation_speed_llama-cpp-{args.gguf_type}-together{args.together}.csv")
    if args.adapter:
        name = name.replace(".csv", f"-{args.adapter}.csv")
    write_table(table, output_root() / "results" / "perf" / name)
    print(f"\nmedian over {len(table)} programs ({args.engine}, {setting}): {n} answers "
          f"{table['generation_s'].median():.1f} s, {args.budget} evaluations {table['evaluations_s'].median():.1f} s, "
          f"ratio {table['ratio'].median():.2f} (target < 1), {table['tokens_per_s'].median():.0f} tokens/s, "
          f"{table['valid_answers'].sum()}/{n * len(table)} answers valid")
    return 0


def transformers_generator(strategist, n, threads, cfg):
    """The pipeline's own sampling (``Strategist.sample``, one program per call, no cache)."""
    def generate(program):
        with use_threads(threads):
            start = time.perf_counter()
            samples = strategist.sample([program], n=n, temperature=cfg["temperature"], top_p=cfg["top_p"],
                                        seed=0, batch_size=cfg["batch_size"])[0]
            seconds = time.perf_counter() - start
        return seconds, sum(s.new_tokens for s in samples), [s.text for s in samples]
    return generate


def llama_cpp_generator(strategist, programs, directory, gguf_type, n, threads, cfg, together):
    """Export the merged strategist to GGUF, check its greedy tokens against transformers', and
    return a sampler over the same prompt token ids the pipeline uses, ``together`` programs' N
    answers decoded in one batch (each program is charged an equal share of its batch's time)."""
    from ecco_lib.llama_cpp_engine import BatchedSampler, export_gguf, require_llama_cpp

    require_llama_cpp()

    path = export_gguf(strategist.model, directory / f"strategist-{gguf_type}.gguf", gguf_type, threads=threads)
    tokenizer = strategist.tokenizer

    def prompt_ids(program):
        return tokenizer(strategist._prompts([program]), add_special_tokens=False)["input_ids"][0]

    sampler = BatchedSampler(path, n=n, max_new_tokens=cfg["max_new_tokens"], threads=threads, prompts=together)
    agree = 0
    for program in programs:
        ids = prompt_ids(program)
        with use_threads(threads), torch.inference_mode():
            reference = strategist.model.generate(torch.tensor([ids]), max_new_tokens=CHECK_TOKENS, do_sample=False,
                                                  pad_token_id=tokenizer.pad_token_id)[0, len(ids):].tolist()
        agree += sampler.greedy([ids], CHECK_TOKENS)[0] == reference
    print(f"export check: first {CHECK_TOKENS} greedy tokens equal transformers' on {agree}/{len(programs)} programs "
          f"({gguf_type})", flush=True)
    if gguf_type == "f32" and agree < len(programs):
        raise SystemExit("the f32 GGUF export does not reproduce transformers' greedy tokens: the export is wrong")

    done = {}  # program uri -> (seconds, tokens, texts); a batch's wall time is shared by its programs

    def generate(program):
        if program.uri not in done:
            at = next(i for i, p in enumerate(programs) if p.uri == program.uri)
            chunk = programs[at:at + together]
            out = sampler.sample([prompt_ids(p) for p in chunk], temperature=cfg["temperature"], top_p=cfg["top_p"],
                                 seed=0)
            for p, answers in zip(chunk, out["tokens"]):
                done[p.uri] = (out["seconds"] / len(chunk), sum(map(len, answers)),
                               tokenizer.batch_decode(answers, skip_special_tokens=True))
        return done[program.uri]
    return generate, gguf_type


if __name__ == "__main__":
    sys.exit(main())
