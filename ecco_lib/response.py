"""The strategist's response contract: the one format every strategist answer, teacher output and
dataset sample uses, its parser, its renderer and the format checks of the GRPO reward.

The format::

    <reasoning>
    The unoptimized program has 3 functions, 42 blocks and 512 instructions. ...
    First, mem2reg promotes allocas whose address never escapes into SSA registers, ...
    </reasoning>
    <intents>
    memory-to-register: 0.35
    scalar-simplification: 0.25
    loop-transformation: 0.40
    </intents>
    <sequence>
    mem2reg, instcombine, loop-rotate, licm
    </sequence>

- ``<reasoning>``: free text, several short paragraphs.
- ``<intents>``: one ``category: weight`` line per category of
  :data:`ecco_lib.llvm.passes.CATEGORIES`; weights are non-negative numbers with a positive
  sum, normalized to sum 1 when parsed (the tactician's Eq. 4 uses only their ratios); rendered
  with 2 decimals. *Well-formed* intents also sum to 1 +- :data:`INTENT_TOLERANCE` as written
  (:func:`format_reward_parts`, the GRPO format reward).
- ``<sequence>``: pass names of :data:`ecco_lib.llvm.passes.REGISTRY`, comma separated, in order.

Only whitespace may appear outside the three tags; each tag appears at most once. Variants of the
dataset (paper RQ2 ablations) require different parts: :data:`VARIANTS`. Nothing here runs LLVM.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from ecco_lib.errors import EccoError, UnknownPassError, one_line
from ecco_lib.llvm.passes import CATEGORIES, SEARCH_PASSES, parse_sequence

#: The parts of a response, in the order :meth:`StrategistResponse.render` writes them.
PARTS = ("reasoning", "intents", "sequence")

#: Dataset variant -> the parts its assistant text must contain.
VARIANTS: dict[str, tuple[str, ...]] = {
    "full": PARTS,                 # evidence-grounded reasoning, intents, sequence
    "brief": PARTS,                # the same, reasoning cut to the observation and the two most important passes (ours)
    "no-evidence": PARTS,          # reasoning written from static features only (paper: "w/o evidence")
    "no-reasoning": ("sequence",),  # the sequence alone (paper: "w/o CoT")
}

#: Well-formed intent weights sum to 1 within this tolerance as written.
INTENT_TOLERANCE = 0.02


class MalformedResponse(EccoError):
    """A response text that does not follow the one response format; the message says why."""


def variant_parts(variant: str) -> tuple[str, ...]:
    """The parts a dataset variant's answers must contain; :class:`EccoError` for an unknown variant."""
    if variant not in VARIANTS:
        raise EccoError(f"unknown dataset variant '{variant}' (known: {', '.join(VARIANTS)})")
    return VARIANTS[variant]


def _hundredths(weights: Mapping[str, float]) -> dict[str, int]:
    """Weights scaled to sum 1, as integer hundredths summing to exactly 100 (the largest absorbs
    the rounding error). Raises :class:`MalformedResponse` on unknown categories or bad weights."""
    if not weights:
        raise MalformedResponse("empty intents: give at least one 'category: weight' line")
    for category, weight in weights.items():
        if category not in CATEGORIES:
            raise MalformedResponse(f"unknown category '{category}' in intents (known: {', '.join(CATEGORIES)})")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
            raise MalformedResponse(f"weight '{weight}' of category '{category}' is not a number")
        if weight < 0:
            raise MalformedResponse(f"negative weight {weight} for category '{category}'")
    total = sum(weights.values())
    if total <= 0:
        raise MalformedResponse("intent weights are all zero")
    ordered = [c for c in CATEGORIES if c in weights]
    scaled = {c: weights[c] / total for c in ordered}
    cents = {c: round(100 * scaled[c]) for c in ordered}
    largest = max(ordered, key=lambda c: scaled[c])
    cents[largest] += 100 - sum(cents.values())
    return cents


def normalize_intents(weights: Mapping[str, float]) -> dict[str, float]:
    """Scale weights to sum 1, round to 2 decimals and fix the largest weight so the rounded
    weights sum to exactly 1.00. Keys come back in :data:`CATEGORIES` order."""
    return {c: n / 100 for c, n in _hundredths(weights).items()}


_TAGS = re.compile(r"<(/?)(reasoning|intents|sequence)>")


@dataclass(frozen=True)
class StrategistResponse:
    """One strategist answer. ``None`` / ``()`` means the part is absent.

    Invariants after construction: ``reasoning`` is stripped and non-empty; ``intents`` are
    normalised (:func:`normalize_intents`: 2 decimals, sum exactly 1.00, known categories);
    ``sequence`` holds canonical registry names. Hence ``parse_response(r.render()) == r``.
    """

    reasoning: str | None = None
    intents: dict[str, float] | None = None
    sequence: tuple[str, ...] = ()

    def __post_init__(self):
        if self.reasoning is not None:
            reasoning = self.reasoning.strip()
            if not reasoning:
                raise MalformedResponse("empty reasoning")
            tag = _TAGS.search(reasoning)
            if tag:
                raise MalformedResponse(f"reasoning contains the tag '{tag.group(0)}'")
            object.__setattr__(self, "reasoning", reasoning)
        if self.intents is not None:
            object.__setattr__(self, "intents", normalize_intents(self.intents))
        try:
            object.__setattr__(self, "sequence", parse_sequence(self.sequence))
        except UnknownPassError as e:
            raise MalformedResponse(f"sequence: {e}") from None

    def render(self) -> str:
        """The response text in the one format (absent parts omitted, weights with 2 decimals)."""
        parts = []
        if self.reasoning is not None:
            parts.append(f"<reasoning>\n{self.reasoning}\n</reasoning>")
        if self.intents is not None:
            lines = "\n".join(f"{c}: {w:.2f}" for c, w in self.intents.items())
            parts.append(f"<intents>\n{lines}\n</intents>")
        if self.sequence:
            parts.append(f"<sequence>\n{', '.join(self.sequence)}\n</sequence>")
        return "\n".join(parts)


def _split_parts(text: str) -> dict[str, str]:
    """The raw body of each tag present; raises on tag structure errors and stray text."""
    bodies: dict[str, str] = {}
    open_tag: str | None = None
    body_start = 0
    outside_end = 0
    for match in _TAGS.finditer(text):
        closing, name = match.group(1) == "/", match.group(2)
        if open_tag is None:
            if closing:
                raise MalformedResponse(f"closing tag </{name}> without an opening <{name}>")
            stray = text[outside_end:match.start()]
            if stray.strip():
                raise MalformedResponse(f"text outside the tags: '{one_line(stray)}'")
            if name in bodies:
                raise MalformedResponse(f"duplicated <{name}> tag")
            open_tag, body_start = name, match.end()
        elif closing and name == open_tag:
            bodies[name] = text[body_start:match.start()]
            open_tag, outside_end = None, match.end()
        else:
            raise MalformedResponse(f"unclosed <{open_tag}> tag (found {match.group(0)} inside it)")
    if open_tag is not None:
        raise MalformedResponse(f"unclosed <{open_tag}> tag")
    stray = text[outside_end:]
    if stray.strip():
        raise MalformedResponse(f"text outside the tags: '{one_line(stray)}'")
    return bodies


def _parse_intents(body: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for line in (l.strip() for l in body.splitlines()):
        if not line:
            continue
        category, colon, value = (s.strip() for s in line.rpartition(":"))
        if not colon:
            raise MalformedResponse(f"intents line '{one_line(line)}' is not 'category: weight'")
        if category not in CATEGORIES:
            raise MalformedResponse(f"unknown category '{category}' in intents (known: {', '.join(CATEGORIES)})")
        if category in weights:
            raise MalformedResponse(f"duplicated category '{category}' in intents")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not math.isfinite(weight):
            raise MalformedResponse(f"weight '{one_line(value, 20)}' of category '{category}' is not a number")
        if weight < 0:
            raise MalformedResponse(f"negative weight {value} for category '{category}'")
        weights[category] = weight
    if not weights:
        raise MalformedResponse("empty <intents>")
    if sum(weights.values()) <= 0:
        raise MalformedResponse("intent weights are all zero")
    return weights


def _parse_intents_summing_to_one(body: str) -> dict[str, float]:
    """:func:`_parse_intents`, and the weights as written must sum to 1 +- :data:`INTENT_TOLERANCE`."""
    weights = _parse_intents(body)
    total = sum(weights.values())
    if abs(total - 1) > INTENT_TOLERANCE:
        raise MalformedResponse(f"intent weights sum to {total:.3f}, not 1 (+-{INTENT_TOLERANCE})")
    return weights


def _parse_sequence(body: str) -> tuple[str, ...]:
    if not body.strip():
        raise MalformedResponse("empty <sequence>")
    try:
        return parse_sequence(body)
    except UnknownPassError as e:
        raise MalformedResponse(f"sequence: {e}") from None


def parse_response(text: str, *, require: Iterable[str] = PARTS) -> StrategistResponse:
    """Parse a response in the one format; raise :class:`MalformedResponse` with a one-line reason
    (tag structure, stray text, unknown category, bad/negative/all-zero weights, empty sequence,
    unknown pass, a required part missing). Intent weights are normalized to sum 1."""
    required = tuple(require)
    unknown = [p for p in required if p not in PARTS]
    if unknown:
        raise EccoError(f"unknown response part(s) {unknown} (known: {', '.join(PARTS)})")
    bodies = _split_parts(text)
    for part in required:
        if part not in bodies:
            raise MalformedResponse(f"missing <{part}> (required)")
    reasoning = None
    if "reasoning" in bodies:
        reasoning = bodies["reasoning"].strip()
        if not reasoning:
            raise MalformedResponse("empty <reasoning>")
    intents = _parse_intents(bodies["intents"]) if "intents" in bodies else None
    sequence = _parse_sequence(bodies["sequence"]) if "sequence" in bodies else ()
    return StrategistResponse(reasoning=reasoning, intents=intents, sequence=sequence)


#: Statuses of :func:`parse_for_search`.
SEARCH_PARSES = ("ok", "malformed", "outside-search-space")
_SEARCH_SPACE = frozenset(SEARCH_PASSES)


def parse_for_search(text: str, require: Iterable[str] = PARTS) -> tuple[StrategistResponse | None, dict]:
    """Parse an answer a search method may spend budget on: (the response, or None when it does
    not parse with the parts ``require`` names, and its ``parse``, ``reason``, ``sequence``
    fields). ``parse`` is one of
    :data:`SEARCH_PARSES`: ``ok``; ``malformed`` (the contract's reason); ``outside-search-space``
    (it parses, but its sequence names passes outside :data:`~ecco_lib.llvm.passes.SEARCH_PASSES`,
    which no method may evaluate; the response is still returned, its intents stay usable)."""
    try:
        response = parse_response(text, require=require)
    except MalformedResponse as exc:
        return None, {"parse": "malformed", "reason": str(exc), "sequence": None}
    sequence = ",".join(response.sequence)
    outside = [p for p in dict.fromkeys(response.sequence) if p not in _SEARCH_SPACE]
    if outside:
        return response, {"parse": "outside-search-space", "sequence": sequence,
                          "reason": f"passes outside the search space: {', '.join(outside)}"}
    return response, {"parse": "ok", "reason": None, "sequence": sequence}


def format_reward_parts(text: str) -> dict:
    """Format checks for the GRPO reward, never raising: ``parses`` (the full format holds),
    ``valid_passes`` (a non-empty sequence of known passes), ``intents_well_formed`` (the intents
    part is present, parses and its weights sum to 1 +- :data:`INTENT_TOLERANCE` as written) and
    ``reason`` (why it does not parse, else ``None``)."""
    try:
        bodies = _split_parts(text)
    except MalformedResponse as e:
        return {"parses": False, "valid_passes": False, "intents_well_formed": False, "reason": str(e)}

    def ok(parse, part) -> bool:
        if part not in bodies:
            return False
        try:
            parse(bodies[part])
        except MalformedResponse:
            return False
        return True

    reason = None
    try:
        parse_response(text)
    except MalformedResponse as e:
        reason = str(e)
    return {"parses": reason is None, "valid_passes": ok(_parse_sequence, "sequence"),
            "intents_well_formed": ok(_parse_intents_summing_to_one, "intents"), "reason": reason}

