"""The ``rio`` method: random iterative optimization, the sanity floor of every comparison."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ecco_lib.errors import EccoError
from ecco_lib.search.objective import Objective, OptimizationResult
from ecco_lib.search.samplers import UniformPassSampler

#: Draws per budget unit before a random search over a tiny space gives up finding new sequences.
_DRAWS_PER_EVALUATION = 50


@dataclass(frozen=True)
class RandomSearchConfig:
    """Uniform lengths in [``min_length``, ``max_length``], each pass uniform over the search space;
    ``batch`` sequences are evaluated in parallel at a time (it does not change the trace)."""

    min_length: int = 5
    max_length: int = 30
    batch: int = 16

    def __post_init__(self):
        if not 1 <= self.min_length <= self.max_length or self.batch < 1:
            raise EccoError(f"inconsistent random-search settings: {self}")


class RandomSearch:
    """Draws distinct uniform random sequences until the budget is spent; keeps the best."""

    name = "rio"
    description = ("random iterative optimization: distinct uniform random pass sequences, keep the best "
                   "(Chen et al., 'Deconstructing iterative optimization', TACO 2012; the paper's RIO)")

    def __init__(self, config: RandomSearchConfig = RandomSearchConfig()):
        self.config = config
        self.sampler = UniformPassSampler()

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        cfg = self.config
        rng = random.Random(f"rio:{seed}:{program.uri}")
        draws = 0
        while not objective.exhausted and draws < _DRAWS_PER_EVALUATION * objective.budget:
            batch: list[tuple[str, ...]] = []
            while len(batch) < min(cfg.batch, objective.remaining) and draws < _DRAWS_PER_EVALUATION * objective.budget:
                draws += 1
                sequence = tuple(self.sampler.sample(rng) for _ in range(rng.randint(cfg.min_length, cfg.max_length)))
                if sequence not in batch and objective.seen(sequence) is None:
                    batch.append(sequence)
            objective.evaluate(batch)
        return objective.result(self.name, seed, extra={"draws": draws})
