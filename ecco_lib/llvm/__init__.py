"""LLVM 19 toolchain, the pass registry, pipelines and the evaluation engine."""

from ecco_lib.llvm.cache import EvaluationCache
from ecco_lib.llvm.evaluate import STATUSES, Evaluator, Measurement
from ecco_lib.llvm.metric import CheckSettings, MetricSettings, improvement_over_o3
from ecco_lib.llvm.passes import CATEGORIES, DROPPED, REGISTRY, Pass, lookup, parse_sequence
from ecco_lib.llvm.pipeline import O_LEVELS, Pipeline, wrap_sequence
from ecco_lib.llvm.toolchain import Toolchain, find_toolchain

__all__ = ["CATEGORIES", "DROPPED", "O_LEVELS", "REGISTRY", "STATUSES", "CheckSettings", "EvaluationCache",
           "Evaluator", "Measurement", "MetricSettings", "Pass", "Pipeline", "Toolchain", "evaluate_pipeline",
           "find_toolchain", "improvement_over_o3", "lookup", "parse_sequence", "wrap_sequence"]


def evaluate_pipeline(program, pipeline, **evaluator_kwargs) -> Measurement:
    """Evaluate one program under one pipeline (``Pipeline`` or a pass-sequence string)."""
    with Evaluator(**evaluator_kwargs) as ev:
        return ev.evaluate(program, pipeline)
