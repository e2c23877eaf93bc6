"""The paper's metric, stated once: llvm-mca "Total Cycles" of the whole module after ``llc``.

Candidate: ``opt-19 -passes=<pipeline>``; lowering: ``llc-19 -O3 -mtriple=T -mcpu=C``; cycles:
``llvm-mca-19 -mtriple=T -mcpu=C`` (default 100 iterations) on the module's assembly.
Score: ``I_O3 = (C_O3 - C) / C_O3`` (positive = fewer cycles than -O3).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from ecco_lib.errors import EccoError

LLC_LEVELS = ("O0", "O1", "O2", "O3")


@dataclass(frozen=True)
class MetricSettings:
    """Everything that changes a cycle count. ``mca_iterations=None`` = llvm-mca's default (100)."""

    triple: str = "x86_64-unknown-linux-gnu"
    cpu: str = "sapphirerapids"
    llc_opt: str = "O3"
    mca_iterations: int | None = None

    def __post_init__(self):
        if self.llc_opt not in LLC_LEVELS:
            raise EccoError(f"metric llc_opt = {self.llc_opt!r} (known: {', '.join(LLC_LEVELS)})")
        if self.mca_iterations is not None and self.mca_iterations < 1:
            raise EccoError(f"metric mca_iterations = {self.mca_iterations} (must be >= 1, or null for 100)")
        if not self.triple.strip() or not self.cpu.strip() or self.cpu == "help":
            raise EccoError(f"metric triple {self.triple!r} and cpu {self.cpu!r} must name a target and a CPU")

    def llc_args(self) -> list[str]:
        return [f"-{self.llc_opt}", f"-mtriple={self.triple}", f"-mcpu={self.cpu}"]

    def mca_args(self) -> list[str]:
        args = [f"-mtriple={self.triple}", f"-mcpu={self.cpu}"]
        if self.mca_iterations is not None:
            args.append(f"-iterations={self.mca_iterations}")
        # Views that do not change "Total Cycles"; switching them off halves llvm-mca's time.
        return args + ["-instruction-info=false", "-resource-pressure=false"]

    def as_record(self) -> dict:
        """The columns every result row carries."""
        return {"triple": self.triple, "cpu": self.cpu, "llc_opt": self.llc_opt,
                "mca_iterations": self.mca_iterations if self.mca_iterations is not None else 100}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CheckSettings:
    """Differential testing of optimized builds: host build, ``repeats`` timed runs (median)."""

    repeats: int = 3
    timeout_s: float = 20.0

    def __post_init__(self):
        if self.repeats < 1 or not self.timeout_s > 0:
            raise EccoError(f"check repeats = {self.repeats} and timeout_s = {self.timeout_s} must be positive")


def improvement_over_o3(cycles: float | None, cycles_o3: float | None) -> float | None:
    """``(C_O3 - C) / C_O3``; None when either count is missing (a failed status is never a score)."""
    if cycles is None or not cycles_o3:
        return None
    return (cycles_o3 - cycles) / cycles_o3
