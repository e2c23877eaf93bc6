"""RQ4: is a strategist's reasoning faithful to what the compiler does? Claims are parsed from an
answer's reasoning (:mod:`~ecco_lib.faithfulness.claims`, in the teachers' own vocabulary) and
checked against the evidence measured for the answer's own sequence on the program
(:mod:`~ecco_lib.faithfulness.check`), with a chance baseline."""

from ecco_lib.faithfulness.check import (VERDICTS, ClaimVerdict, chance_verdicts, measure_sequence, score_claims,
                                         verdict_rates)
from ecco_lib.faithfulness.claims import Claim, ParsedReasoning, parse_claims

__all__ = ["Claim", "ClaimVerdict", "ParsedReasoning", "VERDICTS", "chance_verdicts", "measure_sequence",
           "parse_claims", "score_claims", "verdict_rates"]
