"""Searching pass sequences: a seeded, budgeted genetic algorithm over the registry's passes.

This is the tactician's engine. Variation draws passes from a :class:`PassSampler`; the uniform
sampler is the plain GA, and the intent-guided sampler of the paper (Eq. 4) plugs in as another
sampler without touching the algorithm. Initial populations are *synergy-aware*: besides caller
seeds, individuals are drawn from :class:`BigramSeeder`, a first-order Markov chain over passes
estimated from the orderings LLVM's own -O pipelines use (which pass tends to follow which), so
enabling passes come before the passes they enable.

Fitness is llvm-mca cycles (lower is better); a failed evaluation has infinite cost. One
generation is one ``Evaluator.evaluate_many`` batch, so a population is evaluated in parallel.
"""

from __future__ import annotations

import math
import random
import re
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from ecco_lib.config import settings_from
from ecco_lib.errors import UnknownPassError
from ecco_lib.llvm.evaluate import Evaluator
from ecco_lib.llvm.metric import improvement_over_o3
from ecco_lib.llvm.passes import SEARCH_PASSES, lookup
from ecco_lib.llvm.pipeline import Pipeline
from ecco_lib.llvm.toolchain import find_toolchain

Sequence_ = tuple[str, ...]


@dataclass(frozen=True)
class GAConfig:
    """Budgets and rates of one search. ``budget`` bounds the distinct sequences evaluated."""

    population: int = 16
    generations: int = 8
    budget: int = 128
    min_length: int = 5
    max_length: int = 30
    elite: int = 2
    tournament: int = 3
    crossover_rate: float = 0.7
    mutation_rate: float = 0.5
    seeded_fraction: float = 0.5  # of the first population drawn from the seeder (rest uniform)


class PassSampler(Protocol):
    """Where variation draws a pass from."""

    def sample(self, rng: random.Random) -> str: ...


class UniformPassSampler:
    """Every pass of the search space (:data:`~ecco_lib.llvm.passes.SEARCH_PASSES`) with equal probability."""

    def __init__(self, passes: Sequence[str] = SEARCH_PASSES):
        self.passes = tuple(passes)

    def sample(self, rng: random.Random) -> str:
        return rng.choice(self.passes)


def level_pipeline_passes(level: str) -> list[str]:
    """The registry passes of ``default<level>`` in the order opt-19 runs them (parameters and
    pass-manager adaptors dropped; passes without a registry counterpart skipped)."""
    tc = find_toolchain()
    empty = b"; empty module\n"
    text = subprocess.run([tc.opt, f"-passes=default<{level}>", "-print-pipeline-passes", "-disable-output", "-"],
                          input=empty, capture_output=True, check=True).stdout.decode()
    names = []
    for token in re.findall(r"([a-z][a-z0-9-]*)(<[^>]*>)?(?=[,()]|$)", text):
        try:
            names.append(lookup(token[0] + (token[1] if token[1] in ("<memssa>", "<post-inline>") else "")).name)
        except UnknownPassError:  # adaptors (function, cgscc, loop-mssa, ...) and passes outside the registry
            continue
    return names


class BigramSeeder:
    """Draws whole sequences from a Markov chain over registry passes: the first pass by its
    frequency in the -O pipelines, each next pass by P(next | previous) estimated from the
    pipelines' orderings plus extra weighted pairs (e.g. synergistic pairs found in evidence),
    with add-``smoothing`` so every pass of the search space stays reachable."""

    def __init__(self, levels: Sequence[str] = ("O1", "O2", "O3", "Os", "Oz"),
                 extra_pairs: dict[tuple[str, str], float] | None = None, smoothing: float = 0.01):
        self.allowed = SEARCH_PASSES
        counts: dict[str, Counter] = defaultdict(Counter)
        frequency: Counter = Counter()
        for level in levels:
            chain = [p for p in level_pipeline_passes(level) if p in self.allowed]
            frequency.update(chain)
            for a, b in zip(chain, chain[1:]):
                counts[a][b] += 1
        for (a, b), weight in (extra_pairs or {}).items():
            counts[lookup(a).name][lookup(b).name] += weight
        self.start_weights = [frequency[p] + smoothing for p in self.allowed]
        self.next_weights = {a: [counts[a][b] + smoothing for b in self.allowed] for a in self.allowed}

    def sample_sequence(self, rng: random.Random, length: int) -> Sequence_:
        seq = [rng.choices(self.allowed, self.start_weights)[0]]
        while len(seq) < length:
            seq.append(rng.choices(self.allowed, self.next_weights[seq[-1]])[0])
        return tuple(seq)


@dataclass
class SearchResult:
    """Outcome of one search on one program; ``history`` has one row per generation."""

    program: str
    best: Sequence_
    best_cycles: float
    cycles_O3: int | None
    evaluations: int
    seed: int
    ranked: list[tuple[Sequence_, float]] = field(default_factory=list)  # distinct, best first
    history: list[dict] = field(default_factory=list)

    @property
    def i_o3(self) -> float | None:
        return improvement_over_o3(self.best_cycles if math.isfinite(self.best_cycles) else None, self.cycles_O3)

    def top(self, k: int) -> list[tuple[Sequence_, float]]:
        return [(s, c) for s, c in self.ranked if math.isfinite(c)][:k]

    def as_row(self) -> dict:
        return {"program": self.program, "best_cycles": self.best_cycles, "cycles_O3": self.cycles_O3,
                "i_o3": self.i_o3, "evaluations": self.evaluations, "seed": self.seed,
                "sequence": ",".join(self.best), "length": len(self.best)}


class GeneticSearch:
    """Generational GA with elitism, tournament selection, one-point crossover and
    replace/insert/delete/swap mutation. Deterministic for a given ``seed`` and cache contents."""

    def __init__(self, evaluator: Evaluator, config: GAConfig = GAConfig(), *,
                 sampler: PassSampler | None = None, seeder: BigramSeeder | None = None):
        self.evaluator = evaluator
        self.config = config
        self.sampler = sampler or UniformPassSampler()
        self.seeder = seeder

    def run(self, program, *, seed: int, seeds: Sequence[Sequence[str]] = ()) -> SearchResult:
        cfg = self.config
        rng = random.Random(f"{seed}:{program.uri}")
        fitness: dict[Sequence_, float] = {}
        o3 = self.evaluator.evaluate(program, Pipeline.of_level("O3"))

        def evaluate(population: list[Sequence_]) -> None:
            new = [s for s in dict.fromkeys(population) if s not in fitness][: cfg.budget - len(fitness)]
            rows = self.evaluator.evaluate_many([(program, Pipeline(passes=s)) for s in new], progress=False)
            for seq, row in zip(new, rows):
                fitness[seq] = row.cycles if row.ok else math.inf

        population = self._initial(rng, [tuple(lookup(p).name for p in s) for s in seeds])
        history = []
        for generation in range(cfg.generations):
            evaluate(population)
            scored = sorted((s for s in population if s in fitness), key=lambda s: fitness[s])
            finite = [fitness[s] for s in scored if math.isfinite(fitness[s])]
            history.append({"generation": generation, "evaluations": len(fitness),
                            "best_cycles": min(fitness.values()),
                            "mean_cycles": sum(finite) / len(finite) if finite else math.inf})
            if len(fitness) >= cfg.budget or generation == cfg.generations - 1:
                break
            population = self._next_generation(rng, scored, fitness)
        ranked = sorted(fitness.items(), key=lambda item: (item[1], len(item[0])))
        best, best_cycles = ranked[0]
        return SearchResult(program=program.uri, best=best, best_cycles=best_cycles, cycles_O3=o3.cycles,
                            evaluations=len(fitness), seed=seed, ranked=ranked, history=history)

    def _random_length(self, rng: random.Random) -> int:
        return rng.randint(self.config.min_length, self.config.max_length)

    def _initial(self, rng: random.Random, seeds: list[Sequence_]) -> list[Sequence_]:
        cfg = self.config
        population = [s[: cfg.max_length] for s in seeds if s][: cfg.population]
        n_seeded = int(cfg.seeded_fraction * cfg.population) if self.seeder else 0
        while len(population) < cfg.population:
            if len(population) < len(seeds) + n_seeded:
                population.append(self.seeder.sample_sequence(rng, self._random_length(rng)))
            else:
                population.append(tuple(self.sampler.sample(rng) for _ in range(self._random_length(rng))))
        return population

    def _select(self, rng: random.Random, scored: list[Sequence_], fitness: dict) -> Sequence_:
        contenders = rng.sample(scored, min(self.config.tournament, len(scored)))
        return min(contenders, key=lambda s: fitness[s])

    def _next_generation(self, rng: random.Random, scored: list[Sequence_], fitness: dict) -> list[Sequence_]:
        cfg = self.config
        children = list(scored[: cfg.elite])
        while len(children) < cfg.population:
            a = self._select(rng, scored, fitness)
            child = a
            if rng.random() < cfg.crossover_rate:
                b = self._select(rng, scored, fitness)
                child = (a[: rng.randint(1, len(a))] + b[rng.randint(0, len(b) - 1):])[: cfg.max_length]
            if rng.random() < cfg.mutation_rate or child in fitness:
                child = self.mutate(rng, child)
            children.append(child)
        return children

    def mutate(self, rng: random.Random, seq: Sequence_) -> Sequence_:
        """One of: replace, insert, delete, swap (length kept within the configured bounds)."""
        cfg = self.config
        s = list(seq)
        ops = ["replace", "swap"]
        if len(s) < cfg.max_length:
            ops.append("insert")
        if len(s) > max(1, cfg.min_length):
            ops.append("delete")
        op = rng.choice(ops)
        i = rng.randrange(len(s))
        if op == "replace":
            s[i] = self.sampler.sample(rng)
        elif op == "insert":
            s.insert(rng.randint(0, len(s)), self.sampler.sample(rng))
        elif op == "delete":
            del s[i]
        elif len(s) > 1:
            j = rng.randrange(len(s))
            s[i], s[j] = s[j], s[i]
        return tuple(s)


def config_from(profile_section: dict) -> GAConfig:
    """A :class:`GAConfig` from a profile's ``search`` mapping (unknown keys or wrong types: one-line error)."""
    return settings_from(GAConfig, profile_section)
