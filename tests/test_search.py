"""The GA that finds strong sequences: determinism, budgets, variation, synergy-aware seeding."""

from __future__ import annotations

import random

import pytest

from ecco_lib.llvm import Evaluator, Pipeline
from ecco_lib.llvm.passes import NEEDS_RUNTIME, PASS_NAMES
from ecco_lib.search import BigramSeeder, GAConfig, GeneticSearch, UniformPassSampler, level_pipeline_passes

SMALL = GAConfig(population=6, generations=3, budget=14, min_length=3, max_length=10)


@pytest.fixture(scope="module")
def seeder():
    return BigramSeeder()


def test_level_pipelines_map_to_registry_passes_in_llvm_order():
    o3 = level_pipeline_passes("O3")
    assert set(o3) <= set(PASS_NAMES) and len(o3) > 60
    for earlier, later in (("sroa", "loop-vectorize"), ("loop-rotate", "loop-vectorize"), ("inline", "slp-vectorizer")):
        assert o3.index(earlier) < o3.index(later)
    assert "early-cse-memssa" in o3 and "loop-unswitch" not in level_pipeline_passes("O1")


def test_bigram_seeder_prefers_llvm_orderings_and_never_draws_runtime_passes(seeder):
    rng = random.Random(0)
    draws = [seeder.sample_sequence(rng, 12) for _ in range(300)]
    flat = [p for s in draws for p in s]
    assert not set(flat) & NEEDS_RUNTIME and all(len(s) == 12 for s in draws)
    after_rotate = [b for s in draws for a, b in zip(s, s[1:]) if a == "loop-rotate"]
    # licm follows loop-rotate in the -O pipelines: far above the uniform rate of 1/113
    assert after_rotate.count("licm") / len(after_rotate) > 0.2


def test_extra_pairs_shift_the_chain(seeder):
    boosted = BigramSeeder(extra_pairs={("mem2reg", "loop-unroll"): 500.0})
    rng = random.Random(1)
    draws = [boosted.sample_sequence(rng, 20) for _ in range(200)]
    follow = [b for s in draws for a, b in zip(s, s[1:]) if a == "mem2reg"]
    assert follow.count("loop-unroll") / len(follow) > 0.5


def test_mutation_keeps_lengths_in_bounds():
    search = GeneticSearch(evaluator=None, config=SMALL, sampler=UniformPassSampler())
    rng = random.Random(3)
    seq = tuple(rng.choice(PASS_NAMES) for _ in range(5))
    for _ in range(2000):
        seq = search.mutate(rng, seq)
        assert SMALL.min_length <= len(seq) <= SMALL.max_length or len(seq) == SMALL.min_length - 1


def test_search_is_deterministic_within_budget_and_reports_true_cycles(embedded_programs, tmp_path, seeder):
    program = embedded_programs[0]
    results = []
    for run in range(2):
        with Evaluator(cache=tmp_path / f"c{run}", jobs=2) as ev:
            results.append(GeneticSearch(ev, SMALL, seeder=seeder).run(program, seed=5))
            best_row = ev.evaluate(program, Pipeline(passes=results[-1].best))
    a, b = results
    assert a.best == b.best and a.extra["history"] == b.extra["history"] and a.evaluations == b.evaluations
    assert a.evaluations <= SMALL.budget
    assert best_row.cycles == a.best_cycles
    assert a.cycles_O3 and a.i_o3 == pytest.approx((a.cycles_O3 - a.best_cycles) / a.cycles_O3)
    history = [h["best_cycles"] for h in a.extra["history"]]
    assert history == sorted(history, reverse=True)


def test_seeds_are_evaluated_and_can_only_help(embedded_programs, evaluator):
    program = embedded_programs[1]
    seed_sequence = tuple(level_pipeline_passes("Oz")[:10])
    seeded = GeneticSearch(evaluator, SMALL).run(program, seed=0, seeds=[seed_sequence])
    seed_cycles = evaluator.evaluate(program, Pipeline(passes=seed_sequence)).cycles
    assert seed_sequence in dict(seeded.ranked()) and seeded.best_cycles <= seed_cycles
