"""Pipelines: an -O level or an ordered pass sequence, rendered as ``opt-19 -passes=`` text.

A flat ``-passes=a,b,c`` nests by the first pass's level and fails for mixed sequences, so every
pass is wrapped at its own level. Consecutive passes of one level share one adaptor, as the legacy
pass manager grouped consecutive function passes into one function pass manager:
``mem2reg, licm, loop-rotate, inline`` becomes
``function(mem2reg,loop-mssa(licm,loop-rotate)),cgscc(inline)``. Loop passes run under
``loop-mssa`` because ``licm`` (and others) need MemorySSA, except the passes of
:data:`~ecco_lib.llvm.passes.LOOP_PASSES_WITHOUT_MEMORYSSA`, which run under a plain ``loop(...)``
adaptor of their own: opt-19 aborts a MemorySSA loop pipeline containing a pass that does not
preserve it ("Loop pass manager using MemorySSA contains a pass that does not preserve MemorySSA").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ecco_lib.errors import EccoError
from ecco_lib.llvm.passes import LOOP_PASSES_WITHOUT_MEMORYSSA, lookup, parse_sequence

O_LEVELS = ("O0", "O1", "O2", "O3", "Os", "Oz")


def wrap_sequence(names: Iterable[str]) -> str:
    """Render canonical pass names as one well-nested opt-19 pipeline string ('' if empty)."""
    parts: list[str] = []
    function_group: list[str] = []
    loop_group: list[str] = []
    loop_adaptor = ["loop-mssa"]
    cgscc_group: list[str] = []

    def flush_loops() -> None:
        if loop_group:
            function_group.append(f"{loop_adaptor[0]}({','.join(loop_group)})")
            loop_group.clear()

    def flush_functions() -> None:
        flush_loops()
        if function_group:
            parts.append(f"function({','.join(function_group)})")
            function_group.clear()

    def flush_cgscc() -> None:
        if cgscc_group:
            parts.append(f"cgscc({','.join(cgscc_group)})")
            cgscc_group.clear()

    for name in names:
        p = lookup(name)
        if p.level == "loop":
            flush_cgscc()
            adaptor = "loop" if p.name in LOOP_PASSES_WITHOUT_MEMORYSSA else "loop-mssa"
            if adaptor != loop_adaptor[0]:
                flush_loops()
                loop_adaptor[0] = adaptor
            loop_group.append(p.text)
        elif p.level == "function":
            flush_cgscc()
            flush_loops()
            function_group.append(p.text)
        elif p.level == "cgscc":
            flush_functions()
            cgscc_group.append(p.text)
        else:
            flush_functions()
            flush_cgscc()
            parts.append(p.text)
    flush_functions()
    flush_cgscc()
    return ",".join(parts)


@dataclass(frozen=True)
class Pipeline:
    """What to run through opt-19: either ``level`` (e.g. ``"O3"``) or ``passes`` (canonical names).

    ``label`` is the stable human/CSV form (``O3`` or ``mem2reg,instcombine``; ``''`` = no passes).
    """

    passes: tuple[str, ...] = ()
    level: str | None = None

    @classmethod
    def of_level(cls, level: str) -> "Pipeline":
        normalized = level.strip().lstrip("-")
        if normalized not in O_LEVELS:
            raise EccoError(f"unknown optimization level '{level}' (known: {', '.join(O_LEVELS)})")
        return cls(level=normalized)

    @classmethod
    def of_passes(cls, sequence: str | Iterable[str]) -> "Pipeline":
        return cls(passes=parse_sequence(sequence))

    @property
    def opt_text(self) -> str:
        return f"default<{self.level}>" if self.level else wrap_sequence(self.passes)

    @property
    def label(self) -> str:
        return self.level if self.level else ",".join(self.passes)

    def __str__(self) -> str:
        return self.label
