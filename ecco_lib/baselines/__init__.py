"""The paper's Table-1 baselines beyond ``rio``, ``ga`` and ``tpe`` (``ecco_lib.search``), one
module per method, each registered as an Optimizer at import, and two retrieval policies of our
own (``prior-top-n``, ``knn``). Learned ones train offline on the train split's evidence
(:mod:`~ecco_lib.baselines.offline`)."""
from ecco_lib.baselines import opentuner_search  # noqa: E402,F401
from ecco_lib.baselines import pdcat  # noqa: E402,F401
from ecco_lib.baselines import comptuner  # noqa: E402,F401
from ecco_lib.baselines import grace  # noqa: E402,F401
from ecco_lib.baselines import cfsat  # noqa: E402,F401
from ecco_lib.baselines import llm_direct  # noqa: E402,F401
from ecco_lib.baselines import retrieval  # noqa: E402,F401
