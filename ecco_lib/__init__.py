"""ECCO artifact: LLVM 19 phase ordering scored by llvm-mca cycles against ``opt -O3``.

Start with :func:`ecco_lib.benchmarks.resolve` (programs), :class:`ecco_lib.llvm.Evaluator`
(cycles of a pipeline) and :func:`ecco_lib.config.load_profile` (every setting of a run).
"""

__version__ = "0.1.0"
