"""The one place a search budget is counted: an :class:`Objective` over one program.

Every search method (ECCO, its ablations, every baseline) spends an Objective. Its unit is one
*distinct* pass sequence of the program: a sequence counts once, when it is first evaluated,
whether it compiles, fails or comes from the cache (a cache hit is still the method's choice);
asking again for a sequence already evaluated is free and returns the same answer. The -O3
reference is measured once, outside the budget. The trace holds one row per counted evaluation,
in the order the method asked for them, with the best cycles so far (never increasing).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ecco_lib.errors import EccoError
from ecco_lib.llvm.evaluate import Evaluator, Measurement
from ecco_lib.llvm.metric import improvement_over_o3
from ecco_lib.llvm.passes import parse_sequence
from ecco_lib.llvm.pipeline import Pipeline

PassSequence = tuple[str, ...]
#: What an Objective minimizes: llvm-mca cycles (the paper's metric), or the measured run time of
#: the checked build (median wall time of the profile's ``check.repeats`` runs, in microseconds).
MEASURES = ("cycles", "runtime")
#: Trace columns that are the same for every rerun with the same seed (timing and cache state aside).
TRACE_KEY = ("evaluation", "sequence", "status", "cycles", "best_cycles")


@dataclass(frozen=True)
class Evaluation:
    """One counted evaluation: ``index`` is its 1-based position in the trace (= budget used)."""

    index: int
    sequence: PassSequence
    status: str
    cycles: int | None
    cached: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def cost(self) -> float:
        """Cycles, or +inf for any failed status (what a minimizing search compares)."""
        return float(self.cycles) if self.ok else math.inf


@dataclass
class OptimizationResult:
    """What one method found on one program with one seed. ``best`` is the best ``ok`` sequence
    (fewest cycles, then shortest, then first found); ``best_cycles`` is +inf when none compiled.
    ``compile_seconds`` is wall time spent evaluating, ``method_seconds`` the rest of ``seconds``."""

    method: str
    program: str
    best: PassSequence
    best_cycles: float
    cycles_O3: int | None
    evaluations: int
    seed: int
    budget: int | None = None
    suite: str = ""
    trace: list[dict] = field(default_factory=list, repr=False)
    seconds: float = 0.0
    compile_seconds: float = 0.0
    method_seconds: float = 0.0
    extra: dict = field(default_factory=dict, repr=False)

    @property
    def found(self) -> bool:
        return math.isfinite(self.best_cycles)

    @property
    def i_o3(self) -> float | None:
        return improvement_over_o3(self.best_cycles if self.found else None, self.cycles_O3)

    @property
    def opt_pipeline(self) -> str:
        """The exact ``opt-19 -passes=`` text of the best sequence."""
        return Pipeline(passes=self.best).opt_text

    def ranked(self) -> list[tuple[PassSequence, float]]:
        """Every evaluated sequence with its cost, best first (ties: shorter, then earlier)."""
        rows = [(tuple(r["sequence"].split(",")) if r["sequence"] else (), r["cost"]) for r in self.trace]
        return sorted(rows, key=lambda item: (item[1], len(item[0])))

    def top(self, k: int) -> list[tuple[PassSequence, float]]:
        """The ``k`` best sequences that compiled."""
        return [(s, c) for s, c in self.ranked() if math.isfinite(c)][:k]

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.trace:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    def as_row(self) -> dict:
        return {"method": self.method, "program": self.program, "suite": self.suite, "seed": self.seed,
                "budget": self.budget, "evaluations": self.evaluations,
                "best_cycles": self.best_cycles if self.found else None, "cycles_O3": self.cycles_O3,
                "i_o3": self.i_o3, "sequence": ",".join(self.best), "length": len(self.best),
                "opt_pipeline": self.opt_pipeline if self.found else "", "seconds": self.seconds,
                "compile_seconds": self.compile_seconds, "method_seconds": self.method_seconds}


class Objective:
    """``budget`` distinct evaluations of ``program`` through ``evaluator``.

    ``o3``: the program's -O3 measurement if the caller already has it (else measured here, once,
    outside the budget). Sequences are canonicalized (:func:`~ecco_lib.llvm.passes.parse_sequence`)
    before they are counted, so two spellings of one sequence count once. ``measure``
    (:data:`MEASURES`): with ``runtime`` every "cycles" value (trace, best, -O3) is the measured
    run time in microseconds instead, and an ``ok`` row without a run time is status ``no-runtime``.
    """

    def __init__(self, program, evaluator: Evaluator, budget: int, *, o3: Measurement | None = None,
                 measure: str = "cycles"):
        if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
            raise EccoError(f"the evaluation budget must be a positive whole number (got {budget!r})")
        if measure not in MEASURES:
            raise EccoError(f"unknown measure '{measure}' (known: {', '.join(MEASURES)})")
        if measure == "runtime" and not (evaluator.check and program.runnable):
            raise EccoError(f"a runtime objective needs a runnable program and checked builds (check.enabled); "
                            f"{program.uri} is {'not runnable' if not program.runnable else 'not checked'}")
        self.measure = measure
        self.program = program
        self.evaluator = evaluator
        self.budget = budget
        self.o3 = o3 if o3 is not None else evaluator.evaluate(program, Pipeline.of_level("O3"))
        self._seen: dict[PassSequence, Evaluation] = {}
        self._best: Evaluation | None = None
        self._trace: list[dict] = []
        self.started = time.perf_counter()
        self.compile_seconds = 0.0

    # -- the budget -----------------------------------------------------------------------------
    @property
    def used(self) -> int:
        return len(self._seen)

    @property
    def remaining(self) -> int:
        return self.budget - len(self._seen)

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 0

    def _value(self, row: Measurement) -> tuple[str, int | None]:
        """(status, the measured value) of an evaluation under :attr:`measure`."""
        if not row.ok:
            return row.status, None
        if self.measure == "cycles":
            return row.status, row.cycles
        if row.runtime_s is None:
            return "no-runtime", None
        return row.status, round(row.runtime_s * 1e6)

    @property
    def cycles_O3(self) -> int | None:
        """The -O3 reference under :attr:`measure` (cycles, or microseconds of run time)."""
        return self._value(self.o3)[1]

    def seen(self, sequence: Sequence[str]) -> Evaluation | None:
        """The evaluation of ``sequence`` if it was already counted (free to ask)."""
        return self._seen.get(parse_sequence(sequence))

    # -- evaluating ---------------------------------------------------------------------------------
    def evaluate(self, sequences: Iterable[Sequence[str]]) -> list[Evaluation | None]:
        """Evaluate, in one parallel batch, the requested sequences not seen before, as far as the
        budget allows (in request order); return one entry per request: its :class:`Evaluation`,
        or None when it did not fit in the budget."""
        requested = [parse_sequence(s) for s in sequences]
        new = [s for s in dict.fromkeys(requested) if s not in self._seen][: max(self.remaining, 0)]
        if new:
            start = time.perf_counter()
            rows = self.evaluator.evaluate_many([(self.program, Pipeline(passes=s)) for s in new], progress=False)
            self.compile_seconds += time.perf_counter() - start
            elapsed = time.perf_counter() - self.started
            for sequence, row in zip(new, rows):
                self._record(sequence, row, elapsed)
        return [self._seen.get(s) for s in requested]

    def evaluate_one(self, sequence: Sequence[str]) -> Evaluation | None:
        return self.evaluate([sequence])[0]

    def _record(self, sequence: PassSequence, row: Measurement, elapsed: float) -> None:
        status, value = self._value(row)
        evaluation = Evaluation(len(self._seen) + 1, sequence, status, value, row.cached, row.error)
        self._seen[sequence] = evaluation
        if evaluation.ok and (self._best is None or (evaluation.cost, len(sequence)) < (self._best.cost, len(self._best.sequence))):
            self._best = evaluation
        self._trace.append({"evaluation": evaluation.index, "sequence": ",".join(sequence), "status": status,
                            "cycles": evaluation.cycles, "cost": evaluation.cost,
                            "best_cycles": self._best.cycles if self._best else None,
                            "cached": row.cached, "seconds": elapsed})

    # -- results ------------------------------------------------------------------------------------
    @property
    def best(self) -> Evaluation | None:
        """The best ``ok`` evaluation so far (fewest cycles, then shortest, then first)."""
        return self._best

    @property
    def trace(self) -> list[dict]:
        return [dict(row) for row in self._trace]

    def result(self, method: str, seed: int, extra: dict | None = None) -> OptimizationResult:
        """The :class:`OptimizationResult` of what was spent so far."""
        seconds = time.perf_counter() - self.started
        best = self._best
        return OptimizationResult(
            method=method, program=self.program.uri, suite=self.program.suite,
            best=best.sequence if best else (), best_cycles=best.cost if best else math.inf,
            cycles_O3=self.cycles_O3, evaluations=self.used, seed=seed, budget=self.budget, trace=self.trace,
            seconds=seconds, compile_seconds=self.compile_seconds,
            method_seconds=max(seconds - self.compile_seconds, 0.0), extra=dict(extra or {}))
