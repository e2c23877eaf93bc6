"""The training corpus: the embedded suite's train split plus filtered csmith programs.

A generated program is accepted when csmith succeeds, clang-19 compiles it, its unoptimized IR has
at most ``max_ir_instructions`` instructions, its -O0 build exits 0 within ``run_timeout_s``, its
-O3 evaluation is ``ok`` with the -O3 build printing what the -O0 build prints, and its IR differs
from every program accepted before it. The embedded test split never enters the corpus.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import zip_longest
from typing import Iterable, Sequence

from tqdm import tqdm

from ecco_lib.benchmarks import resolve
from ecco_lib.benchmarks.generated import CSMITH_OPTIONS, CsmithFailedError, find_csmith
from ecco_lib.benchmarks.generated import load as load_generated
from ecco_lib.benchmarks.program import Program
from ecco_lib.errors import BadProgramError, EccoError
from ecco_lib.llvm import steps
from ecco_lib.llvm.evaluate import Evaluator

#: Why a generated program was rejected, in the order the filters apply.
REJECT_REASONS = ("csmith-failed", "compile-failed", "too-large", "run-timeout", "run-failed", "o3-failed",
                  "duplicate")
#: Measured: unoptimized csmith programs span ~0.1-8 K instructions; ~90 % are below this.
DEFAULT_MAX_IR_INSTRUCTIONS = 5000
#: Measured: terminating csmith programs run in ~2 ms at -O0; the others never stop.
DEFAULT_RUN_TIMEOUT_S = 1.0
#: Attempts allowed per requested program before :func:`generate` gives up.
ATTEMPTS_PER_PROGRAM = 5
#: Candidates drawn per batch, relative to the programs still missing (measured acceptance ~75-80 %).
_OVERDRAW = 1.5


class CorpusError(EccoError):
    """Invalid corpus settings."""


@dataclass
class CorpusReport:
    """Outcome of :func:`generate`. ``attempts == len(programs) + sum(rejected.values())``;
    ``seconds`` is wall time; ``ir_instructions`` maps each accepted URI to its unoptimized size."""

    programs: list[Program]
    attempts: int
    rejected: dict[str, int]
    seconds: float
    ir_instructions: dict[str, int] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """Flat numbers for a datasheet: counts, acceptance rate, time, IR size range, settings."""
        sizes = list(self.ir_instructions.values())
        accepted = len(self.programs)
        return {
            "accepted": accepted,
            "attempts": self.attempts,
            "acceptance_rate": accepted / self.attempts if self.attempts else None,
            **{f"rejected_{reason}": self.rejected.get(reason, 0) for reason in REJECT_REASONS},
            "seconds": self.seconds,
            "seconds_per_accepted": self.seconds / accepted if accepted else None,
            "ir_instructions_min": min(sizes, default=None),
            "ir_instructions_median": statistics.median(sizes) if sizes else None,
            "ir_instructions_max": max(sizes, default=None),
            **self.settings,
        }


@dataclass
class _Candidate:
    """One drawn seed after screening: the program, or the reason it was rejected."""

    seed: int
    program: Program | None = None
    ir_instructions: int | None = None
    reason: str | None = None


def _screen(seed: int, evaluator: Evaluator, max_ir_instructions: int, run_timeout_s: float) -> _Candidate:
    """Every filter before the -O3 check: generate, compile, size, run at -O0."""
    candidate = _Candidate(seed)
    try:
        program = load_generated(seed, evaluator.cache)
    except CsmithFailedError:
        candidate.reason = "csmith-failed"
        return candidate
    except BadProgramError:
        candidate.reason = "compile-failed"
        return candidate
    unoptimized = steps.run_opt(program.ir, "", evaluator.timeout_s)
    if unoptimized["status"] != "ok" or unoptimized["ir_instructions"] is None:
        candidate.reason = "compile-failed"
        return candidate
    candidate.ir_instructions = unoptimized["ir_instructions"]
    if candidate.ir_instructions > max_ir_instructions:
        candidate.reason = "too-large"
        return candidate
    run = steps.run_executable(program.ir, "O0", 1, run_timeout_s, evaluator.timeout_s)
    if run["status"] == "timeout":
        candidate.reason = "run-timeout"
    elif run["status"] != "ok" or run["exit_code"] != 0:
        candidate.reason = "run-failed"
    else:
        candidate.program = program
    return candidate


def _checking(evaluator: Evaluator) -> Evaluator:
    """``evaluator`` if it checks optimized builds, else one with its settings that does."""
    if evaluator.check:
        return evaluator
    return Evaluator(evaluator.metric, jobs=evaluator.jobs, executor=evaluator.executor_kind,
                     ray_address=evaluator.ray_address,
                     cache=evaluator.cache if evaluator.cache is not None else False, check=True,
                     check_settings=evaluator.check_settings, timeout_s=evaluator.timeout_s,
                     seed=evaluator.seed)


def generate(count: int, seed: int | str, *, evaluator: Evaluator, max_ir_instructions: int = DEFAULT_MAX_IR_INSTRUCTIONS,
             run_timeout_s: float = DEFAULT_RUN_TIMEOUT_S, known: Sequence[Program] = (),
             known_hashes: Iterable[str] = (), progress: bool = True) -> CorpusReport:
    """Up to ``count`` accepted csmith programs, drawing seeds in [0, 2**31) from ``Random(seed)``
    and stopping after ``ATTEMPTS_PER_PROGRAM * count`` attempts. A candidate whose IR equals a
    program accepted before it, one of ``known`` (programs already in the corpus) or one of
    ``known_hashes`` (IR SHA-256s, e.g. of the training evidence) is a duplicate. ``seed`` may be
    any value :class:`random.Random` accepts (an int, or a string naming a separate stream).

    Candidates are screened in parallel batches (threads: the work is subprocesses) and their -O3
    checks go to the evaluator's pool as one batch; decisions are then taken in draw order, so the
    result is the same as trying one seed after the other (candidates drawn past the last needed
    one are not counted as attempts).
    """
    if count < 0 or max_ir_instructions < 1 or not run_timeout_s > 0:
        raise CorpusError(f"need count >= 0, max_ir_instructions >= 1 and run_timeout_s > 0 (got {count}, "
                          f"{max_ir_instructions}, {run_timeout_s})")
    csmith = find_csmith()
    start = time.perf_counter()
    rng = random.Random(seed)
    cap = ATTEMPTS_PER_PROGRAM * count
    accepted: list[Program] = []
    accepted_hashes = {p.ir_hash for p in known} | set(known_hashes)
    sizes: dict[str, int] = {}
    rejected: Counter[str] = Counter()
    drawn = attempts = 0
    checker = _checking(evaluator)
    bar = tqdm(total=count, desc="csmith corpus", unit="program", disable=not progress)
    try:
        with ThreadPoolExecutor(max_workers=evaluator.jobs) as threads:
            while len(accepted) < count and drawn < cap:
                batch_size = min(cap - drawn, max(evaluator.jobs, math.ceil(_OVERDRAW * (count - len(accepted)))))
                seeds = [rng.randrange(2**31) for _ in range(batch_size)]
                drawn += batch_size
                screen = partial(_screen, evaluator=evaluator, max_ir_instructions=max_ir_instructions,
                                 run_timeout_s=run_timeout_s)
                candidates = list(threads.map(screen, seeds))
                to_check = [c for c in candidates if c.program and c.program.ir_hash not in accepted_hashes]
                rows = checker.evaluate_many([(c.program, "O3") for c in to_check], progress=False)
                o3_ok = {c.seed: row.ok and row.checked for c, row in zip(to_check, rows)}
                for candidate in candidates:
                    if len(accepted) == count:
                        break
                    attempts += 1
                    reason = candidate.reason
                    if reason is None and candidate.program.ir_hash in accepted_hashes:
                        reason = "duplicate"
                    elif reason is None and not o3_ok[candidate.seed]:
                        reason = "o3-failed"
                    if reason is not None:
                        rejected[reason] += 1
                        continue
                    accepted.append(candidate.program)
                    accepted_hashes.add(candidate.program.ir_hash)
                    sizes[candidate.program.uri] = candidate.ir_instructions
                    bar.update(1)
                bar.set_postfix(attempts=attempts)
    finally:
        bar.close()
        if checker is not evaluator:
            checker.close()
    settings = {"count": count, "seed": seed, "max_ir_instructions": max_ir_instructions,
                "run_timeout_s": run_timeout_s, "csmith_version": csmith.version,
                "csmith_options": " ".join(CSMITH_OPTIONS)}
    return CorpusReport(accepted, attempts, {r: rejected[r] for r in REJECT_REASONS if rejected[r]},
                        time.perf_counter() - start, sizes, settings)


def training_programs(embedded_train: bool = True, generated: int = 0, seed: int = 0, *, evaluator: Evaluator,
                      max_ir_instructions: int = DEFAULT_MAX_IR_INSTRUCTIONS,
                      run_timeout_s: float = DEFAULT_RUN_TIMEOUT_S, limit: int | None = None,
                      progress: bool = True) -> tuple[list[Program], CorpusReport | None]:
    """The training corpus: the embedded train split (if ``embedded_train``; at most ``limit`` of
    its programs, taken round-robin over the suites) followed by ``generated`` csmith programs,
    without duplicate IR; the report is None when none are generated.

    Raises RuntimeError if a program of the embedded test split would enter the corpus.
    """
    if limit is not None and limit < 0:
        raise CorpusError(f"limit must be >= 0 (got {limit})")
    programs = resolve("ecco://", evaluator.cache, split="train") if embedded_train else []
    if limit is not None:
        by_suite = [[p for p in programs if p.suite == suite] for suite in sorted({p.suite for p in programs})]
        programs = [p for round_ in zip_longest(*by_suite) for p in round_ if p is not None][:limit]
    report = None
    if generated:
        report = generate(generated, seed, evaluator=evaluator, max_ir_instructions=max_ir_instructions,
                          run_timeout_s=run_timeout_s, known=programs, progress=progress)
        programs += report.programs
    unique: dict[str, Program] = {}
    for program in programs:
        unique.setdefault(program.ir_hash, program)  # the first occurrence wins
    test_hashes = {p.ir_hash for p in resolve("ecco://", evaluator.cache, split="test")}
    leaked = [p.uri for p in unique.values() if p.ir_hash in test_hashes or p.split == "test"]
    if leaked:
        raise RuntimeError(f"embedded test programs in the training corpus: {', '.join(leaked)}")
    return list(unique.values()), report


def validation_programs(count: int, seed: int, *, evaluator: Evaluator, training_hashes: Iterable[str] = (),
                        max_ir_instructions: int = DEFAULT_MAX_IR_INSTRUCTIONS,
                        run_timeout_s: float = DEFAULT_RUN_TIMEOUT_S, progress: bool = True) -> list[Program]:
    """``count`` csmith programs to choose settings on (split ``validation``): the same filters as
    the training corpus, drawn from a seed stream of their own (``"validation:<seed>"``), and never
    a training program (``training_hashes``: e.g. the evidence records' ``input_hash``) nor an
    embedded program of either split."""
    report = generate(count, f"validation:{seed}", evaluator=evaluator, max_ir_instructions=max_ir_instructions,
                      run_timeout_s=run_timeout_s, known=resolve("ecco://", evaluator.cache),
                      known_hashes=training_hashes, progress=progress)
    return [replace(p, split="validation") for p in report.programs]
