"""Claims as data: a strategist answer's reasoning turned into checkable statements about the
passes of its own sequence, in the vocabulary the teachers render from (:data:`ecco_lib.teachers.EFFECTS`,
:data:`~ecco_lib.teachers.TERSE_IMPORTANCE`, :data:`~ecco_lib.teachers.IMPORTANCE`,
:data:`~ecco_lib.teachers.SYNERGY`), so a claim a teacher can write is a claim this parser reads.

Kinds of claim about the pass at ``position`` of the sequence:

- ``effect``: a count changes in a direction (``value`` = ``"source:key:+1"`` or ``-1``, e.g.
  ``structural:loads:-1`` for "eliminate most of the loads"), or ``none`` (no claimed count changes);
- ``importance``: its importance level (``value`` = ``key``, ``essential``, ``important``,
  ``supporting``, ``enabler`` or ``enabler-essential``);
- ``enables``: it makes the next pass effective (``value`` = that pass's name).

Both answer layouts are read: the concise one (one line per pass: ``N. pass: effects;
importance; enables next.``) and the prose one (one paragraph per pass between an observation
paragraph and an intents paragraph). Every unit (line or sentence) no claim came from is kept in
``unmapped``, so the share of reasoning the parser could not read is reported, not dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from ecco_lib.teachers import EFFECTS, IMPORTANCE, NO_EFFECT, QUANTITIES, SYNERGY, TERSE_IMPORTANCE, TERSE_NO_EFFECT

KINDS = ("effect", "importance", "enables")


@dataclass(frozen=True)
class Claim:
    """One checkable statement: ``kind`` (:data:`KINDS`) about the pass ``pass_name`` at
    ``position`` of the answer's sequence (-1: a pass the sequence does not hold), ``value`` (see
    the module doc) and the ``text`` it was read from."""

    kind: str
    position: int
    pass_name: str
    value: str
    text: str


@dataclass
class ParsedReasoning:
    """The claims of one reasoning, how many units (lines or sentences) it has, and the units no
    claim was read from."""

    claims: list[Claim] = field(default_factory=list)
    units: int = 0
    unmapped: list[str] = field(default_factory=list)

    @property
    def unmapped_share(self) -> float:
        return len(self.unmapped) / self.units if self.units else 0.0


_Q = "(?:" + "|".join(re.escape(q) for q in QUANTITIES) + ")"
#: (compiled phrase, claim value) for every effect of the vocabulary.
_EFFECT_PATTERNS = [(re.compile(re.escape(phrase).replace(re.escape("{q}"), _Q)), f"{source}:{key}:{direction:+d}")
                    for source, key, direction, phrase in EFFECTS]
_TERSE_LEVELS = {text: level for level, text in TERSE_IMPORTANCE.items()}
_PROSE_LEVELS = {sentence: level for level, sentences in IMPORTANCE.items() for sentence in sentences}
_LINE = re.compile(r"^\s*(\d+)\.\s+([A-Za-z0-9_-]+)( again)?:\s*(.*?)\s*\.?\s*$")
_ENABLES = re.compile(r"^enables ([A-Za-z0-9_-]+)$")


def _synergy_pattern(template: str) -> re.Pattern:
    escaped = re.escape(template)
    for slot, group in (("{first}", r"(?P<first>[A-Za-z0-9_-]+)"), ("{second}", r"(?P<second>[A-Za-z0-9_-]+)"),
                        ("{why}", r".+?")):
        escaped = escaped.replace(re.escape(slot), group, 1)
    return re.compile(escaped)


_SYNERGY_PATTERNS = [_synergy_pattern(t) for t in SYNERGY]


def _effect_value(phrase: str) -> str | None:
    for pattern, value in _EFFECT_PATTERNS:
        if pattern.fullmatch(phrase.strip()):
            return value
    return None


def _position(sequence: Sequence[str], name: str, stated: int | None, again: bool) -> int:
    """Where the claim's pass is: the stated position when it holds that pass, else its next
    occurrence (a repeated pass: ``again``), else -1."""
    if stated is not None and 0 <= stated < len(sequence) and sequence[stated] == name:
        return stated
    occurrences = [i for i, p in enumerate(sequence) if p == name]
    if not occurrences:
        return -1
    return occurrences[1] if again and len(occurrences) > 1 else occurrences[0]


def _concise_line(line: str, sequence: Sequence[str], out: ParsedReasoning) -> bool:
    match = _LINE.match(line)
    if not match:
        return False
    stated, name, again, body = int(match.group(1)) - 1, match.group(2), bool(match.group(3)), match.group(4)
    position = _position(sequence, name, stated, again)
    parts = [p.strip() for p in body.split(";") if p.strip()]
    found = False
    for part in parts:  # in the teachers' order (effects; importance; enables), but any order is read
        if part == TERSE_NO_EFFECT:
            out.claims.append(Claim("effect", position, name, "none", part))
        elif part in _TERSE_LEVELS:
            out.claims.append(Claim("importance", position, name, _TERSE_LEVELS[part], part))
        elif (enables := _ENABLES.match(part)) is not None:
            out.claims.append(Claim("enables", position, name, enables.group(1), part))
        else:
            effects = [(phrase.strip(), _effect_value(phrase)) for phrase in part.split(",")]
            out.claims.extend(Claim("effect", position, name, value, phrase) for phrase, value in effects if value)
            if not any(value for _, value in effects):
                continue
        found = True
    return found


def _sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", paragraph.strip()) if s.strip()]


def _prose_paragraph(paragraph: str, name: str, position: int, out: ParsedReasoning) -> None:
    for sentence in _sentences(paragraph):
        out.units += 1
        before = len(out.claims)
        if sentence in _PROSE_LEVELS:
            out.claims.append(Claim("importance", position, name, _PROSE_LEVELS[sentence], sentence))
        elif sentence in NO_EFFECT:
            out.claims.append(Claim("effect", position, name, "none", sentence))
        else:
            for pattern, value in _EFFECT_PATTERNS:
                for match in pattern.finditer(sentence):
                    out.claims.append(Claim("effect", position, name, value, match.group(0)))
            for pattern in _SYNERGY_PATTERNS:
                match = pattern.fullmatch(sentence)
                if match:
                    out.claims.append(Claim("enables", position, name, match.group("second"), sentence))
                    break
        if len(out.claims) == before:
            out.unmapped.append(sentence)


def parse_claims(reasoning: str | None, sequence: Sequence[str]) -> ParsedReasoning:
    """The claims of ``reasoning`` about the passes of ``sequence`` (the answer's own sequence)."""
    out = ParsedReasoning()
    if not reasoning or not reasoning.strip():
        return out
    lines = [line for line in reasoning.splitlines() if line.strip()]
    if any(_LINE.match(line) for line in lines):
        for line in lines:
            out.units += 1
            if not _concise_line(line, sequence, out):
                out.unmapped.append(line.strip())
        return out
    paragraphs = [p for p in re.split(r"\n\s*\n", reasoning.strip()) if p.strip()]
    aligned = len(paragraphs) == len(sequence) + 2  # observations, one per pass, intents
    for index, paragraph in enumerate(paragraphs):
        if aligned and 0 < index <= len(sequence):
            position = index - 1
        else:
            mentioned = [i for i, p in enumerate(sequence) if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", paragraph)]
            position = mentioned[0] if mentioned and not (aligned and index in (0, len(paragraphs) - 1)) else None
        if position is None:
            sentences = _sentences(paragraph)
            out.units += len(sentences)
            out.unmapped.extend(sentences)
            continue
        _prose_paragraph(paragraph, sequence[position], position, out)
    return out
