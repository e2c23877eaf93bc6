"""A gymnasium environment for LLVM phase ordering, shaped like CompilerGym's ``llvm-v0``.

An episode optimizes one benchmark: each action appends one pass of the registry
(``action i = REGISTRY[i]``) to the sequence, and the state is the benchmark's input IR optimized by
the whole sequence. The reward of a step is the change of llvm-mca cycles relative to ``-O3``,
``(C_prev - C_new) / C_O3``, so an episode's return is ``(C_0 - C_final) / C_O3`` with ``C_0`` the
unoptimized program's cycles. Observations (CompilerGym's names in brackets): ``autophase``
[``Autophase``] the 56 Autophase features, ``ir_instruction_count`` [``IrInstructionCount``] and
``cycles``. A failed evaluation (any status but ``ok``) ends the episode with reward 0.

    >>> import gymnasium, ecco_lib.env
    >>> env = gymnasium.make("ecco/PhaseOrdering-v0", benchmark="ecco://automotive/bitcount")
    >>> observation, info = env.reset()
    >>> observation, reward, terminated, truncated, info = env.step(env.unwrapped.action_names.index("mem2reg"))

(``gymnasium.make("ecco_lib.env:ecco/PhaseOrdering-v0", ...)`` imports this module by itself.)
"""

from __future__ import annotations

import os

import gymnasium
import numpy as np
from gymnasium import spaces

from ecco_lib.benchmarks import Program, resolve
from ecco_lib.errors import EccoError
from ecco_lib.features import AUTOPHASE_FEATURES, autophase_vector
from ecco_lib.llvm import REGISTRY, Evaluator, Measurement, MetricSettings, Pipeline, improvement_over_o3
from ecco_lib.llvm.steps import run_opt

ENV_ID = "ecco/PhaseOrdering-v0"
#: The benchmark of a bare ``PhaseOrderingEnv()``, as CompilerGym's default is cBench qsort.
DEFAULT_BENCHMARK = "ecco://automotive/qsort_records"
OBSERVATIONS = ("dict", "autophase", "ir_instruction_count", "cycles")


class InvalidActionError(EccoError):
    """An action that is not an index of the pass registry."""


class PhaseOrderingEnv(gymnasium.Env):
    """Phase ordering of one benchmark at a time; see the module docstring.

    ``benchmark``: a :class:`Program` or a path/URI naming exactly one program (default
    :data:`DEFAULT_BENCHMARK`). ``evaluator``: the :class:`Evaluator` that measures cycles (default:
    a new one with ``jobs=1``, ``metric`` and the default cache; closed by :meth:`close`).
    ``observation``: one of :data:`OBSERVATIONS` (``"dict"`` = all three). An episode is truncated
    after ``max_steps`` steps.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, benchmark: Program | str | os.PathLike | None = None, *, evaluator: Evaluator | None = None,
                 observation: str = "dict", max_steps: int = 50, metric: MetricSettings | None = None,
                 render_mode: str | None = None):
        if observation not in OBSERVATIONS:
            raise EccoError(f"unknown observation '{observation}' (known: {', '.join(OBSERVATIONS)})")
        if max_steps < 1:
            raise EccoError(f"max_steps must be at least 1, got {max_steps}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise EccoError(f"unknown render_mode '{render_mode}' (known: ansi)")
        if evaluator is not None and metric is not None and evaluator.metric != metric:
            raise EccoError("give either an evaluator or a metric: the evaluator's metric differs from `metric`")
        self._owns_evaluator = evaluator is None
        self.evaluator = evaluator or Evaluator(metric, jobs=1)
        self.observation_mode = observation
        self.max_steps = max_steps
        self.render_mode = render_mode
        #: ``action_names[i]`` is the canonical name of the pass that action ``i`` appends.
        self.action_names: tuple[str, ...] = tuple(p.name for p in REGISTRY)
        self.action_space = spaces.Discrete(len(REGISTRY))
        count_box = spaces.Box(0, np.iinfo(np.int64).max, shape=(1,), dtype=np.int64)
        all_spaces = {
            "autophase": spaces.Box(0, np.iinfo(np.int64).max, shape=(len(AUTOPHASE_FEATURES),), dtype=np.int64),
            "ir_instruction_count": count_box,
            "cycles": count_box,
        }
        self.observation_space = spaces.Dict(all_spaces) if observation == "dict" else all_spaces[observation]
        self.benchmark = self._resolve(benchmark if benchmark is not None else DEFAULT_BENCHMARK)
        self.sequence: list[str] = []
        self._cycles_initial: int | None = None
        self._cycles_o3: int | None = None
        self._cycles: int | None = None
        self._ir_hash: str | None = None
        self._observation: dict[str, np.ndarray] | None = None
        self._steps = 0
        self._done = True

    # -- gymnasium API ------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None,
              benchmark: Program | str | os.PathLike | None = None):
        """Start an episode with the empty sequence. ``options={"benchmark": ...}`` (or the
        CompilerGym-style keyword ``benchmark=``) switches to another benchmark first."""
        super().reset(seed=seed)
        chosen = benchmark if benchmark is not None else (options or {}).get("benchmark")
        if chosen is not None:
            self.benchmark = self._resolve(chosen)
        program = self.benchmark
        initial, o3 = self.evaluator.evaluate_many(
            [(program, Pipeline.of_passes([])), (program, Pipeline.of_level("O3"))], progress=False)
        for measurement in (initial, o3):
            if not measurement.ok:
                raise EccoError(f"benchmark {program.uri} cannot be evaluated under '{measurement.pipeline or 'no passes'}'"
                                f": {measurement.status}: {measurement.error}")
        self.sequence = []
        self._steps = 0
        self._done = False
        self._cycles_initial, self._cycles_o3 = initial.cycles, o3.cycles
        self._set_state(initial, program.ir)
        return self._observe(), self._info("ok")

    def step(self, action):
        """Append pass ``REGISTRY[action]``; returns (observation, reward, terminated, truncated, info)."""
        if self._done:
            raise EccoError("the episode has ended (or never started): call reset() first")
        index = self._action_index(action)
        attempted = [*self.sequence, self.action_names[index]]
        self._steps += 1
        truncated = self._steps >= self.max_steps
        pipeline = Pipeline.of_passes(attempted)
        measurement = self.evaluator.evaluate(self.benchmark, pipeline)
        status, error, ir = measurement.status, measurement.error, None
        if measurement.ok and measurement.ir_hash != self._ir_hash:  # the pass changed the module
            optimized = run_opt(self.benchmark.ir, pipeline.opt_text, self.evaluator.timeout_s)
            status, error, ir = optimized["status"], optimized.get("error"), optimized.get("ir")
        if status != "ok":
            self._done = True
            info = self._info(status, sequence=attempted)
            info["error"] = error
            return self._observe(), 0.0, True, truncated, info
        reward = (self._cycles - measurement.cycles) / self._cycles_o3
        self.sequence = attempted
        self._set_state(measurement, ir)
        self._done = truncated
        return self._observe(), reward, False, truncated, self._info("ok")

    def render(self) -> str | None:
        """A one-line summary of the current state (``render_mode="ansi"``; otherwise None)."""
        if self.render_mode != "ansi":
            return None
        i_o3 = improvement_over_o3(self._cycles, self._cycles_o3)
        score = f"{i_o3:+.2%}" if i_o3 is not None else "n/a"
        return (f"{self.benchmark.uri} step {self._steps}: cycles {self._cycles} (O3 {self._cycles_o3}, "
                f"I_O3 {score}) sequence [{','.join(self.sequence)}]")

    def close(self) -> None:
        if self._owns_evaluator:
            self.evaluator.close()
        super().close()

    # -- internals ------------------------------------------------------------------------------------
    def _resolve(self, benchmark: Program | str | os.PathLike) -> Program:
        if isinstance(benchmark, Program):
            return benchmark
        if not isinstance(benchmark, (str, os.PathLike)):
            raise EccoError(f"benchmark must be a Program, a path or a URI, not {type(benchmark).__name__}")
        programs = resolve(os.fspath(benchmark), cache=self.evaluator.cache)
        if len(programs) != 1:
            raise EccoError(f"benchmark '{os.fspath(benchmark)}' names {len(programs)} programs; name exactly one")
        return programs[0]

    def _action_index(self, action) -> int:
        if isinstance(action, np.ndarray) and action.shape == ():
            action = action.item()
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise InvalidActionError(f"action must be an integer index into the {len(REGISTRY)} passes, got {action!r}")
        if not 0 <= int(action) < len(REGISTRY):
            raise InvalidActionError(f"action {int(action)} is out of range: there are {len(REGISTRY)} passes (0..{len(REGISTRY) - 1})")
        return int(action)

    def _set_state(self, measurement: Measurement, ir: bytes | None) -> None:
        """Adopt a successful measurement; ``ir`` is None when the module did not change."""
        self._cycles = measurement.cycles
        autophase = autophase_vector(ir) if ir is not None else self._observation["autophase"]
        self._ir_hash = measurement.ir_hash
        self._observation = {
            "autophase": autophase,
            "ir_instruction_count": np.array([measurement.ir_instructions], dtype=np.int64),
            "cycles": np.array([measurement.cycles], dtype=np.int64),
        }

    def _observe(self):
        observation = {key: value.copy() for key, value in self._observation.items()}
        return observation if self.observation_mode == "dict" else observation[self.observation_mode]

    def _info(self, status: str, sequence: list[str] | None = None) -> dict:
        return {"benchmark": self.benchmark.uri, "sequence": list(self.sequence if sequence is None else sequence),
                "cycles": self._cycles, "cycles_O3": self._cycles_o3, "cycles_initial": self._cycles_initial,
                "i_o3": improvement_over_o3(self._cycles, self._cycles_o3), "status": status}


if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="ecco_lib.env:PhaseOrderingEnv")
