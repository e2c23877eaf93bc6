"""Search over pass sequences at an equal, counted budget.

- :mod:`~ecco_lib.search.objective`: the budgeted :class:`Objective` (the one place evaluations
  are counted) and :class:`OptimizationResult`;
- :mod:`~ecco_lib.search.optimizer`: the :class:`Optimizer` protocol and the method registry;
- :mod:`~ecco_lib.search.samplers`: pass samplers and sequence seeders, one pass set for all;
- :mod:`~ecco_lib.search.ga` (``ga``), :mod:`~ecco_lib.search.random_search` (``rio``) and
  :mod:`~ecco_lib.search.tpe` (``tpe``, optuna); the other Table-1 baselines live in
  :mod:`ecco_lib.baselines` and register on first use of the registry.
"""

from ecco_lib.search.ga import GAConfig, GeneticSearch, config_from
from ecco_lib.search.intent import IntentGuidedSampler
from ecco_lib.search.objective import TRACE_KEY, Evaluation, Objective, OptimizationResult
from ecco_lib.search.optimizer import (Method, Optimizer, describe_methods, get_method, make_optimizer,
                                       method_names, register, settings_fingerprint)
from ecco_lib.search.random_search import RandomSearch, RandomSearchConfig
from ecco_lib.search.samplers import BigramSeeder, PassSampler, UniformPassSampler, level_pipeline_passes
from ecco_lib.search.tpe import TPEConfig, TPESearch

register(Method("ga", GAConfig, lambda cfg: GeneticSearch(config=cfg, seeder=BigramSeeder()),
                defaults={"generations": None}, budget_fields=("budget",),
                source="Cooper, Schielke, Subramanian, LCTES 1999"))
register(Method("rio", RandomSearchConfig, RandomSearch, source="Chen et al., ACM TACO 2012"))
register(Method("tpe", TPEConfig, TPESearch, source="Bergstra et al., NeurIPS 2011"))

__all__ = ["TRACE_KEY", "BigramSeeder", "Evaluation", "GAConfig", "GeneticSearch", "IntentGuidedSampler",
           "Method", "Objective",
           "OptimizationResult", "Optimizer", "PassSampler", "RandomSearch", "RandomSearchConfig", "TPEConfig", "TPESearch",
           "UniformPassSampler", "config_from", "describe_methods", "get_method", "level_pipeline_passes",
           "make_optimizer", "method_names", "register", "settings_fingerprint"]

from ecco_lib import tactician  # noqa: E402,F401  (registers ecco and its ablations; needs the modules above)
