"""Evaluate (program, pipeline) pairs under the metric, in parallel, with a two-level cache.

One evaluation is ``opt`` (input IR -> optimized IR), then ``llc`` + ``llvm-mca`` + ``llvm-mc``
(optimized IR -> cycles, ``.text`` size), and optionally a differential run of the optimized build
against the unoptimized build. The second stage is keyed by the optimized IR's hash, so pipelines
that produce byte-identical IR share one backend run, within a batch and across runs.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Iterable, Sequence

from tqdm import tqdm

from ecco_lib.errors import EccoError
from ecco_lib.llvm import steps
from ecco_lib.llvm.cache import EvaluationCache
from ecco_lib.llvm.executor import make_executor
from ecco_lib.llvm.metric import CheckSettings, MetricSettings, improvement_over_o3
from ecco_lib.llvm.pipeline import O_LEVELS, Pipeline
from ecco_lib.llvm.toolchain import check_target, find_toolchain

if TYPE_CHECKING:  # the engine needs only Program's attributes; no import cycle with benchmarks
    from ecco_lib.benchmarks.program import Program

#: Every outcome of an evaluation. Only ``ok`` rows carry cycles.
STATUSES = ("ok", "invalid-pipeline", "opt-error", "llc-error", "mca-error", "timeout",
            "miscompile", "link-error", "nondeterministic")
_NOT_CACHED = {"timeout"}


@dataclass
class Measurement:
    """One row of results. ``seconds`` is this call's wall time (near zero when ``cached``)."""

    program: str
    suite: str
    pipeline: str
    status: str
    cycles: int | None = None
    opt_pipeline: str = ""  # the exact ``opt-19 -passes=`` text that was run
    cycles_O3: int | None = None
    i_o3: float | None = None
    ir_instructions: int | None = None
    text_size: int | None = None
    runtime_s: float | None = None
    seconds: float = 0.0
    cached: bool = False
    error: str | None = None
    input_hash: str = ""
    ir_hash: str | None = None
    llvm_version: str = ""
    triple: str = ""
    cpu: str = ""
    llc_opt: str = ""
    mca_iterations: int = 100
    checked: bool = False
    seed: int | None = None
    extra: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        row = asdict(self)
        row.update(row.pop("extra"))
        return row


class Evaluator:
    """Evaluates pipelines with caching and parallelism.

    ``jobs``: worker processes (default: cores); ``executor``: ``"local"`` or ``"ray"``;
    ``cache``: an :class:`EvaluationCache`, a directory, or ``False`` for none; ``check``: also
    build and run optimized programs (runnable ones) and compare with the unoptimized build.
    ``timeout_s`` bounds each tool invocation.
    """

    def __init__(self, metric: MetricSettings | None = None, *, jobs: int | None = None,
                 executor: str = "local", ray_address: str | None = None,
                 cache: EvaluationCache | str | os.PathLike | bool | None = None,
                 check: bool = False, check_settings: CheckSettings | None = None,
                 timeout_s: float = 300.0, seed: int | None = None, progress: bool = False):
        self.metric = metric or MetricSettings()
        self.toolchain = find_toolchain()
        check_target(self.metric.triple, self.metric.cpu)
        if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1):
            raise EccoError(f"jobs = {jobs!r}: the number of worker processes must be a positive integer")
        if not timeout_s > 0:
            raise EccoError(f"timeout_s = {timeout_s}: the tool time limit must be positive (seconds)")
        self.jobs = jobs or os.cpu_count() or 1
        self.executor_kind = executor
        self.ray_address = ray_address
        self._executor = None
        self._executor_lock = threading.Lock()  # several threads may drive one Evaluator
        if cache is False:
            self.cache = None
        elif isinstance(cache, EvaluationCache):
            self.cache = cache
        else:
            self.cache = EvaluationCache(cache)
        self.check = check
        self.check_settings = check_settings or CheckSettings()
        self.timeout_s = timeout_s
        self.seed = seed
        self.progress = progress
        self._metric_key = self.metric.fingerprint()

    # -- public API -------------------------------------------------------------------------
    def evaluate(self, program: Program, pipeline: Pipeline | str) -> Measurement:
        return self.evaluate_many([(program, pipeline)])[0]

    def evaluate_many(self, pairs: Iterable[tuple[Program, Pipeline | str]], *, desc: str = "evaluating",
                      progress: bool | None = None) -> list[Measurement]:
        """Evaluate every pair; results are in input order. Never raises for a failed compile.
        ``progress`` overrides the evaluator's setting for this batch's progress bar."""
        pairs = [(prog, _as_pipeline(pipe)) for prog, pipe in pairs]
        return _Batch(self, pairs, desc, self.progress if progress is None else progress).run()

    def with_o3(self, measurements: Sequence[Measurement], programs: dict[str, Program]) -> list[Measurement]:
        """Fill ``cycles_O3`` and ``i_o3`` of each row from the program's -O3 measurement."""
        needed = {m.program: programs[m.program] for m in measurements}
        o3 = self.evaluate_many([(p, Pipeline.of_level("O3")) for p in needed.values()], desc="-O3 reference")
        reference = {m.program: m for m in o3}
        for m in measurements:
            ref = reference[m.program]
            m.cycles_O3 = ref.cycles
            m.i_o3 = improvement_over_o3(m.cycles, ref.cycles) if m.ok else None
        return list(measurements)

    def close(self) -> None:
        with self._executor_lock:
            if self._executor is not None:
                self._executor.shutdown()
                self._executor = None

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------
    def executor(self, work_items: int):
        if work_items <= 1 or (self.jobs == 1 and self.executor_kind == "local"):
            return make_executor("inline")
        with self._executor_lock:
            if self._executor is None:
                self._executor = make_executor(self.executor_kind, jobs=self.jobs, address=self.ray_address)
        return self._executor

    def _base_row(self, program: Program, pipeline: Pipeline) -> Measurement:
        return Measurement(program=program.uri, suite=program.suite, pipeline=pipeline.label, status="ok",
                           opt_pipeline=pipeline.opt_text,
                           input_hash=program.ir_hash, llvm_version=self.toolchain.version,
                           seed=self.seed, **self.metric.as_record())


def _as_pipeline(pipe: Pipeline | str) -> Pipeline:
    """A Pipeline, an -O level name (``"O3"``) or a pass-sequence string."""
    if isinstance(pipe, Pipeline):
        return pipe
    return Pipeline.of_level(pipe) if pipe.strip().lstrip("-") in O_LEVELS else Pipeline.of_passes(pipe)


class _Batch:
    """Schedules the steps of one ``evaluate_many`` call: opt jobs, then one backend (and run)
    job per distinct optimized IR, cache lookups before and cache writes after every step."""

    def __init__(self, ev: Evaluator, pairs: list[tuple[Program, Pipeline]], desc: str, progress: bool):
        self.ev, self.pairs, self.desc, self.progress = ev, pairs, desc, progress
        self.cache = ev.cache
        self.version = ev.toolchain.version
        self.tools = ev.toolchain.fingerprint
        self.results: list[Measurement | None] = [None] * len(pairs)
        self.start = [0.0] * len(pairs)
        self.pending: dict[Future, tuple] = {}
        self.opt_waiters: dict[str, list[int]] = {}      # opt key -> pair indices
        self.opt_done: dict[str, dict] = {}
        self.backend_waiters: dict[str, list[int]] = {}  # ir hash -> pair indices
        self.backend_done: dict[str, dict] = {}
        self.run_waiters: dict[str, list[int]] = {}      # run key -> pair indices
        self.run_done: dict[str, dict] = {}
        self.reference_key: dict[int, str] = {}

    # keys ------------------------------------------------------------------------------------
    # Each key carries its step's measuring version (steps.STEP_VERSIONS): changing how a step
    # measures makes its old entries unreachable instead of silently reused.
    def opt_key(self, program: Program, pipeline: Pipeline) -> str:
        return f"v{steps.STEP_VERSIONS['opt']}|{program.ir_hash}|{pipeline.opt_text}|{self.tools}"

    def backend_key(self, ir_hash: str) -> str:
        return f"v{steps.STEP_VERSIONS['backend']}|{ir_hash}|{self.ev._metric_key}|{self.tools}"

    def run_key(self, ir_hash: str, llc_opt: str) -> str:
        return f"v{steps.STEP_VERSIONS['runs']}|{ir_hash}|host-{llc_opt}|{self.tools}"

    # scheduling -----------------------------------------------------------------------------------
    def run(self) -> list[Measurement]:
        n = len(self.pairs)
        self.executor = self.ev.executor(n)
        self.bar = tqdm(total=n, desc=self.desc, disable=not self.progress or n < 2, leave=False)
        for i, (program, pipeline) in enumerate(self.pairs):
            self.start[i] = time.perf_counter()
            if self.ev.check and program.runnable:
                self.reference_key[i] = self.request_run(i, program.ir_hash, program.ir, "O0")
            key = self.opt_key(program, pipeline)
            if key in self.opt_waiters:
                self.opt_waiters[key].append(i)
                if key in self.opt_done:
                    self.after_opt(key, self.opt_done[key], [i])
                continue
            self.opt_waiters[key] = [i]
            cached = self.cache.get("opt", key) if self.cache else None
            if cached is not None and self.complete_in_cache(cached, program):
                cached["cached"] = True
                self.opt_done[key] = cached
                self.after_opt(key, cached, [i])
            else:
                self.submit(("opt", key), steps.run_opt, program.ir, pipeline.opt_text, self.ev.timeout_s)
        while self.pending:
            done, _ = wait(list(self.pending), return_when=FIRST_COMPLETED)
            for future in done:
                tag = self.pending.pop(future)
                self.on_done(tag, future.result())
        self.bar.close()
        return [r for r in self.results if r is not None]

    def submit(self, tag: tuple, fn, *args) -> None:
        self.pending[self.executor.submit(fn, *args)] = tag

    def complete_in_cache(self, opt: dict, program: Program) -> bool:
        """Whether every later step of a cached opt result is cached too (else opt reruns for its IR)."""
        if opt["status"] != "ok":
            return True
        if self.cache.get("backend", self.backend_key(opt["ir_hash"])) is None:
            return False
        return not (self.ev.check and program.runnable) or \
            self.cache.get("runs", self.run_key(opt["ir_hash"], "O3")) is not None

    def request_run(self, i: int, ir_hash: str, ir: bytes, llc_opt: str) -> str:
        key = self.run_key(ir_hash, llc_opt)
        if key in self.run_waiters:
            self.run_waiters[key].append(i)
            return key
        self.run_waiters[key] = [i]
        cached = self.cache.get("runs", key) if self.cache else None
        if cached is not None:
            self.run_done[key] = cached
        else:
            cs = self.ev.check_settings
            self.submit(("run", key), steps.run_executable, ir, llc_opt, cs.repeats, cs.timeout_s, self.ev.timeout_s)
        return key

    def on_done(self, tag: tuple, result: dict) -> None:
        kind, key = tag
        if kind == "opt":
            ir = result.pop("ir", None)
            if result.get("llvm_version", self.version) != self.version:
                raise RuntimeError(f"worker runs LLVM {result['llvm_version']}, driver {self.version}")
            if self.cache and result["status"] not in _NOT_CACHED:
                self.cache.put("opt", key, result)
            self.opt_done[key] = result
            self.after_opt(key, result, self.opt_waiters[key], ir)
        elif kind == "backend":
            if self.cache and result["status"] not in _NOT_CACHED:
                self.cache.put("backend", self.backend_key(key), result)
            self.backend_done[key] = result
            self.try_finish(self.backend_waiters[key])
        else:
            if self.cache and result["status"] not in _NOT_CACHED:
                self.cache.put("runs", key, result)
            self.run_done[key] = result
            self.try_finish(self.run_waiters[key])

    def after_opt(self, key: str, opt: dict, indices: list[int], ir: bytes | None = None) -> None:
        if opt["status"] != "ok":
            self.try_finish(indices)
            return
        ir_hash = opt["ir_hash"]
        for i in indices:
            if self.ev.check and self.pairs[i][0].runnable:
                self.request_run(i, ir_hash, ir, "O3")
        if ir_hash in self.backend_waiters:
            self.backend_waiters[ir_hash].extend(indices)
        else:
            self.backend_waiters[ir_hash] = list(indices)
            cached = self.cache.get("backend", self.backend_key(ir_hash)) if self.cache else None
            if cached is not None:
                cached["cached"] = True
                self.backend_done[ir_hash] = cached
            else:
                self.submit(("backend", ir_hash), steps.run_backend, ir, self.ev.metric, self.ev.timeout_s)
        self.try_finish(indices)

    def try_finish(self, indices: list[int]) -> None:
        for i in indices:
            if self.results[i] is None:
                row = self.assemble(i)
                if row is not None:
                    self.results[i] = row
                    self.bar.update(1)

    def assemble(self, i: int) -> Measurement | None:
        """The row for pair ``i`` once every step it needs has finished, else None."""
        program, pipeline = self.pairs[i]
        opt = self.opt_done.get(self.opt_key(program, pipeline))
        if opt is None:
            return None
        row = self.ev._base_row(program, pipeline)
        cached = opt.get("cached", False)
        if opt["status"] != "ok":
            row.status, row.error = opt["status"], opt["error"]
        else:
            row.ir_hash, row.ir_instructions = opt["ir_hash"], opt["ir_instructions"]
            if opt.get("measure_error"):
                row.extra["measure_error"] = opt["measure_error"]
            backend = self.backend_done.get(opt["ir_hash"])
            if backend is None:
                return None
            cached = cached and backend.get("cached", False)
            if backend["status"] != "ok":
                row.status, row.error = backend["status"], backend["error"]
            else:
                row.cycles, row.text_size = backend["cycles"], backend["text_size"]
            if self.ev.check and program.runnable:
                verdict = self.check_verdict(i, opt["ir_hash"])
                if verdict is None:
                    return None
                status, error, runtime = verdict
                row.checked = status != "unchecked"
                row.runtime_s = runtime
                if status == "unchecked":
                    row.error = error
                elif status != "ok" and row.status == "ok":
                    row.status, row.error, row.cycles, row.text_size = status, error, None, None
        row.cached = cached
        row.seconds = time.perf_counter() - self.start[i]
        return row

    def check_verdict(self, i: int, ir_hash: str) -> tuple[str, str | None, float | None] | None:
        reference = self.run_done.get(self.reference_key[i])
        candidate = self.run_done.get(self.run_key(ir_hash, "O3"))
        if reference is None or candidate is None:
            return None
        if reference["status"] != "ok":
            return "unchecked", f"no check: the -O0 reference build failed: {reference['error']}", None
        if candidate["status"] == "unchecked":
            return "unchecked", f"no check: {candidate['error']}", None
        if candidate["status"] != "ok":
            return candidate["status"], candidate["error"], None
        if candidate["output_digest"] != reference["output_digest"]:
            return ("miscompile", f"output differs from the -O0 build (exit {candidate['exit_code']} "
                                  f"vs {reference['exit_code']})", candidate["runtime_s"])
        return "ok", None, candidate["runtime_s"]
