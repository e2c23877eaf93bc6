"""The genetic algorithm over pass sequences (the ``ga`` method and the tactician's engine).

Generational GA with elitism, tournament selection, one-point crossover and replace / insert /
delete / swap mutation. Variation draws passes from a :class:`~ecco_lib.search.samplers.PassSampler`
(uniform for the plain GA; the intent-guided Eq. 4 sampler for ECCO), part of the first population
from a :class:`~ecco_lib.search.samplers.BigramSeeder`. Fitness is llvm-mca cycles (lower is
better; a failed evaluation costs +inf). One generation is one :meth:`Objective.evaluate` batch,
so a population is evaluated in parallel, and the Objective counts the budget.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from ecco_lib.config import settings_from
from ecco_lib.errors import EccoError
from ecco_lib.llvm.evaluate import Evaluator
from ecco_lib.llvm.passes import parse_sequence
from ecco_lib.search.objective import Objective, OptimizationResult, PassSequence
from ecco_lib.search.samplers import BigramSeeder, PassSampler, UniformPassSampler

#: Generations in a row that add no new evaluation before a budget-bound GA gives up.
STALL_GENERATIONS = 20


@dataclass(frozen=True)
class GAConfig:
    """Settings of one GA run. ``budget`` bounds the distinct sequences evaluated when the GA
    makes its own Objective (:meth:`GeneticSearch.run`); ``generations=None`` runs until the
    Objective's budget is spent (or :data:`STALL_GENERATIONS` generations add nothing new)."""

    population: int = 16
    generations: int | None = 8
    budget: int = 128
    min_length: int = 5
    max_length: int = 30
    elite: int = 2
    tournament: int = 3
    crossover_rate: float = 0.7
    mutation_rate: float = 0.5
    seeded_fraction: float = 0.5  # of the first population drawn from the seeder (rest from the sampler)

    def __post_init__(self):
        if self.population < 2 or not 1 <= self.min_length <= self.max_length or self.budget < 1 \
                or (self.generations is not None and self.generations < 1) or not 0 <= self.elite < self.population \
                or self.tournament < 1 or not 0 <= self.seeded_fraction <= 1:
            raise EccoError(f"inconsistent GA settings: {self}")


class GeneticSearch:
    """The ``ga`` method: deterministic for a given seed (and independent of the cache's state)."""

    name = "ga"
    description = ("generational genetic algorithm over pass sequences: tournament selection, one-point "
                   "crossover, replace/insert/delete/swap mutation (Cooper et al., LCTES 1999; the paper's GA)")

    def __init__(self, evaluator: Evaluator | None = None, config: GAConfig = GAConfig(), *,
                 sampler: PassSampler | None = None, seeder: BigramSeeder | None = None):
        self.evaluator = evaluator
        self.config = config
        self.sampler = sampler or UniformPassSampler()
        self.seeder = seeder

    def run(self, program, *, seed: int, seeds: Sequence[Sequence[str]] = ()) -> OptimizationResult:
        """Search ``program`` with an Objective of ``config.budget`` evaluations of its own."""
        return self.optimize(program, Objective(program, self.evaluator, self.config.budget), seed, seeds=seeds)

    def optimize(self, program, objective: Objective, seed: int, *,
                 seeds: Sequence[Sequence[str]] = ()) -> OptimizationResult:
        """Spend ``objective`` (at most ``config.generations`` generations); ``seeds`` are whole
        sequences placed first in the first population."""
        cfg = self.config
        rng = random.Random(f"{seed}:{program.uri}")
        cost = {}  # sequence -> cycles (+inf if failed), for every counted evaluation

        def evaluate(population: list[PassSequence]) -> int:
            before = objective.used
            for evaluation in objective.evaluate(population):
                if evaluation is not None:
                    cost[evaluation.sequence] = evaluation.cost
            return objective.used - before

        population = self._initial(rng, [parse_sequence(s) for s in seeds])
        history, stalled, generation = [], 0, 0
        while True:
            added = evaluate(population)
            scored = sorted((s for s in population if s in cost), key=lambda s: cost[s])
            finite = [cost[s] for s in scored if cost[s] != float("inf")]
            history.append({"generation": generation, "evaluations": objective.used,
                            "best_cycles": min(cost.values(), default=float("inf")),
                            "mean_cycles": sum(finite) / len(finite) if finite else float("inf")})
            stalled = 0 if added else stalled + 1
            generation += 1
            if objective.exhausted or not scored or generation == cfg.generations or stalled >= STALL_GENERATIONS:
                break
            population = self._next_generation(rng, scored, cost)
        return objective.result(self.name, seed, extra={"history": history, "generations": generation})

    def _random_length(self, rng: random.Random) -> int:
        return rng.randint(self.config.min_length, self.config.max_length)

    def _initial(self, rng: random.Random, seeds: list[PassSequence]) -> list[PassSequence]:
        cfg = self.config
        population = [s[: cfg.max_length] for s in seeds if s][: cfg.population]
        n_seeded = int(cfg.seeded_fraction * cfg.population) if self.seeder else 0
        while len(population) < cfg.population:
            if len(population) < len(seeds) + n_seeded:
                population.append(self.seeder.sample_sequence(rng, self._random_length(rng)))
            else:
                population.append(tuple(self.sampler.sample(rng) for _ in range(self._random_length(rng))))
        return population

    def _select(self, rng: random.Random, scored: list[PassSequence], cost: dict) -> PassSequence:
        contenders = rng.sample(scored, min(self.config.tournament, len(scored)))
        return min(contenders, key=lambda s: cost[s])

    def _next_generation(self, rng: random.Random, scored: list[PassSequence], cost: dict) -> list[PassSequence]:
        cfg = self.config
        children = list(scored[: cfg.elite])
        while len(children) < cfg.population:
            a = self._select(rng, scored, cost)
            child = a
            if rng.random() < cfg.crossover_rate:
                b = self._select(rng, scored, cost)
                child = (a[: rng.randint(1, len(a))] + b[rng.randint(0, len(b) - 1):])[: cfg.max_length]
            if rng.random() < cfg.mutation_rate or child in cost:
                child = self.mutate(rng, child)
            children.append(child)
        return children

    def mutate(self, rng: random.Random, seq: PassSequence) -> PassSequence:
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
