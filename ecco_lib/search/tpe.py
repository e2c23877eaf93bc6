"""The ``tpe`` method: optuna's Tree-structured Parzen Estimator over fixed-length pass slots.

A sequence is ``slots`` categorical choices, each a pass of the search space or ``none``; the
sequence is the non-``none`` choices in slot order (BASELINES.md: Bergstra et al., NeurIPS 2011,
as the paper's TPE baseline). Each trial's value is the sequence's cycles (minimized); a failed
compilation is an optuna ``FAIL`` trial (TPE learns only from completed ones); a sequence the
Objective has already seen is told its known value at no budget cost.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass

from ecco_lib.errors import EccoError
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.search.objective import Objective, OptimizationResult

#: Trials asked per budget unit before a TPE that keeps proposing seen sequences gives up.
_TRIALS_PER_EVALUATION = 50
NONE = "none"


@dataclass(frozen=True)
class TPEConfig:
    """``slots`` = the longest sequence (each slot a pass or ``none``); ``startup_trials`` random
    trials before TPE models (optuna's default 10); ``batch`` trials are asked before any is told
    and evaluated in parallel (optuna's constant liar keeps them apart when ``batch > 1``)."""

    slots: int = 30
    startup_trials: int = 10
    batch: int = 2
    multivariate: bool = False  # optuna's default

    def __post_init__(self):
        if self.slots < 1 or self.startup_trials < 0 or self.batch < 1:
            raise EccoError(f"inconsistent tpe settings: {self}")


class TPESearch:
    """Deterministic for a given seed: one optuna study in memory per (program, seed)."""

    name = "tpe"
    description = ("Tree-structured Parzen Estimator (optuna's TPESampler) over fixed-length slots, each a "
                   "pass or none (Bergstra et al., NeurIPS 2011; the paper's TPE)")

    def __init__(self, config: TPEConfig = TPEConfig()):
        self.config = config
        self.choices = (NONE, *SEARCH_PASSES)

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        import optuna
        from optuna.trial import TrialState

        cfg = self.config
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=zlib.crc32(f"tpe:{seed}:{program.uri}".encode()),
                                                 n_startup_trials=cfg.startup_trials,
                                                 multivariate=cfg.multivariate, constant_liar=cfg.batch > 1)
        study = optuna.create_study(direction="minimize", sampler=sampler)
        asked = failed = 0
        while not objective.exhausted and asked < _TRIALS_PER_EVALUATION * objective.budget:
            trials = [study.ask() for _ in range(min(cfg.batch, objective.remaining))]
            asked += len(trials)
            sequences = [tuple(p for p in (t.suggest_categorical(f"slot{i:02d}", self.choices)
                                           for i in range(cfg.slots)) if p != NONE) for t in trials]
            for trial, evaluation in zip(trials, objective.evaluate(sequences)):
                if evaluation is not None and evaluation.ok:
                    study.tell(trial, evaluation.cost)
                else:  # a failed compilation, or past the budget
                    failed += evaluation is not None
                    study.tell(trial, state=TrialState.FAIL)
        return objective.result(self.name, seed, extra={"trials": asked, "failed_trials": failed})
