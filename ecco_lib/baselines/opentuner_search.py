"""The ``opentuner`` method: the real OpenTuner 0.8.8 (Ansel et al., PACT 2014) over fixed-length
pass slots, driven through its programmatic API.

A configuration is ``slots`` ``EnumParameter`` choices, each a pass of the search space or
``none``; its sequence is the non-``none`` choices in slot order (the empty sequence included,
counted like any other). OpenTuner's default ensemble, the AUC bandit ``AUCBanditMetaTechniqueA``
(differential evolution, two greedy mutations, Nelder-Mead), proposes ``parallelism``
configurations per generation; their sequences are evaluated in one batch and reported as
``Result(time=cycles)``; a failed compilation is ``Result(state='ERROR', time=inf)``, never the
input's cycles. Several configurations decode to one sequence: a configuration whose sequence the
Objective has already seen is answered with the known value at no budget cost. The search runs in
an in-memory database (``sqlite://``) and writes no file or log.

OpenTuner has no seed option: its techniques draw from the global ``random`` and ``numpy.random``
generators, so a run seeds both from ``opentuner:{seed}:{program.uri}`` and restores them after.
Runs are serialized by a module lock (concurrent cells of ``run_methods(threads>1)`` would
otherwise interleave their draws and lose determinism).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import math
import random
import threading
import warnings
import zlib
from dataclasses import dataclass

import numpy as np

from ecco_lib.errors import EccoError
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.search.objective import Objective, OptimizationResult
from ecco_lib.search.optimizer import Method, register

NONE = "none"
TECHNIQUE = "AUCBanditMetaTechniqueA"  # OpenTuner's default root technique

_GLOBAL_RNG_LOCK = threading.Lock()  # OpenTuner draws from the process-wide random/numpy generators


@dataclass(frozen=True)
class OpenTunerConfig:
    """``slots`` = the longest sequence (each slot a pass or ``none``); ``parallelism`` =
    OpenTuner's ``--parallelism``: configurations requested per generation, evaluated in one
    parallel batch before any is reported (OpenTuner's own default is 4; 2 = the evaluator's jobs)."""

    slots: int = 30
    parallelism: int = 2

    def __post_init__(self):
        if self.slots < 1 or self.parallelism < 1:
            raise EccoError(f"inconsistent opentuner settings: {self}")


def _opentuner():
    """The OpenTuner modules this method uses (SQLAlchemy 2.x refused), imported without its side effects on the process:
    it replaces ``logging.Formatter`` at import (restored here), would write ``opentuner.log``
    into the working directory (its ``init_logging`` is disabled), logs progress (only its errors
    are kept) and warns about SQLAlchemy 2.0 and an unclosed ``/proc/cpuinfo`` (its own warnings
    are ignored)."""
    try:
        sqlalchemy = importlib.metadata.version("SQLAlchemy")
    except importlib.metadata.PackageNotFoundError:  # reported by the import below
        sqlalchemy = None
    if sqlalchemy is not None and int(sqlalchemy.split(".")[0]) >= 2:
        raise EccoError(f"the opentuner baseline needs SQLAlchemy<2 (found {sqlalchemy}): under 2.x OpenTuner 0.8.8's "
                        f"duplicate detection silently breaks; pip install 'SQLAlchemy==1.4.54'")
    warnings.filterwarnings("ignore", module=r"opentuner(\.|$)")
    formatter = logging.Formatter
    try:
        from opentuner import ConfigurationManipulator, EnumParameter, Result, default_argparser, tuningrunmain
        from opentuner.api import TuningRunManager
        from opentuner.measurement.interface import DefaultMeasurementInterface
    except ImportError as exc:
        raise EccoError(f"the opentuner baseline needs opentuner==0.8.8 and SQLAlchemy<2 "
                        f"(pip install opentuner==0.8.8 'SQLAlchemy==1.4.54'): {exc}") from None
    finally:
        logging.Formatter = formatter
    tuningrunmain.init_logging = lambda: None
    logging.getLogger("opentuner").setLevel(logging.ERROR)
    return ConfigurationManipulator, EnumParameter, Result, default_argparser, TuningRunManager, \
        DefaultMeasurementInterface


def _member_hash(member) -> int:
    """A hash of a differential-evolution population member that does not depend on its address:
    its configuration's database id (None, hence 0, until the configuration is flushed)."""
    return member.config.id or 0


@contextlib.contextmanager
def _reproducible_run(seed: int):
    """One OpenTuner run at a time, reproducible for ``seed``: the global ``random`` and
    ``numpy.random`` generators are seeded (and given back their state after), and differential
    evolution's ``list(set(population))``, which it shuffles, iterates in an order that does not
    depend on memory addresses (its members hash by identity otherwise)."""
    from opentuner.search.differentialevolution import PopulationMember

    with _GLOBAL_RNG_LOCK:
        saved = random.getstate(), np.random.get_state(), PopulationMember.__hash__
        random.seed(seed)
        np.random.seed(seed)
        PopulationMember.__hash__ = _member_hash
        try:
            yield
        finally:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            PopulationMember.__hash__ = saved[2]


class OpenTunerSearch:
    """Deterministic for a given seed: one OpenTuner tuning run in memory per (program, seed)."""

    name = "opentuner"
    description = ("OpenTuner 0.8.8's AUC-bandit ensemble (AUCBanditMetaTechniqueA) over fixed-length slots, "
                   "each a pass or none (Ansel et al., PACT 2014; the paper's OpenTuner)")

    def __init__(self, config: OpenTunerConfig = OpenTunerConfig()):
        self.config = config
        self.choices = (NONE, *SEARCH_PASSES)

    def _slot(self, i: int) -> str:
        return f"slot{i:02d}"

    def decode(self, data: dict) -> tuple[str, ...]:
        """The pass sequence of configuration ``data`` (its non-``none`` slots, in slot order)."""
        return tuple(p for p in (data[self._slot(i)] for i in range(self.config.slots)) if p != NONE)

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        (ConfigurationManipulator, EnumParameter, Result, default_argparser, TuningRunManager,
         DefaultMeasurementInterface) = _opentuner()
        args = default_argparser().parse_args([])
        args.database = "sqlite://"  # in memory: no opentuner.db/ folder
        args.no_dups = True
        args.quiet = True
        args.parallelism = self.config.parallelism
        args.technique = [TECHNIQUE]
        reported = empty_generations = 0
        with _reproducible_run(zlib.crc32(f"opentuner:{seed}:{program.uri}".encode())):
            manipulator = ConfigurationManipulator()
            for i in range(self.config.slots):
                manipulator.add_parameter(EnumParameter(self._slot(i), self.choices))
            interface = DefaultMeasurementInterface(args=args, manipulator=manipulator, project_name="ecco",
                                                    program_name=program.uri)
            manager = TuningRunManager(interface, args)
            try:
                idle = 0  # consecutive generations that added no evaluation (OpenTuner's bail threshold)
                while not objective.exhausted and idle <= args.bail_threshold:
                    requests = manager.get_desired_results()  # one generation, all claimed
                    empty_generations += not requests
                    used = objective.used
                    evaluations = objective.evaluate([self.decode(dr.configuration.data) for dr in requests])
                    for dr, evaluation in zip(requests, evaluations):
                        if evaluation is None:  # past the budget: the run ends here
                            break
                        reported += 1
                        manager.report_result(dr, Result(time=evaluation.cost) if evaluation.ok
                                              else Result(state="ERROR", time=math.inf))
                    idle = 0 if objective.used > used else idle + 1
                manager.search_driver.process_new_results()  # the last generation's (else done on the next)
                best = manager.get_best_result()  # before finish(), which detaches it
                best_cycles = best.time if best is not None else None
                if best is not None:
                    manager.finish()
            finally:
                manager.session.close()
                manager.engine.dispose()
        extra = {"configurations": reported, "reused_configurations": reported - objective.used,
                 "empty_generations": empty_generations, "opentuner_best_cycles": best_cycles}
        return objective.result(self.name, seed, extra=extra)


register(Method("opentuner", OpenTunerConfig, OpenTunerSearch, source="Ansel et al., PACT 2014"))
