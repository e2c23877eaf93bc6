"""A program to optimize: its IR plus where it came from."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True, eq=False)
class Program:
    """One benchmark. ``ir`` is LLVM IR exactly as opt-19 will read it (bitcode or text);
    ``runnable`` means it defines ``main`` and may be built and run for differential checks."""

    uri: str
    suite: str
    name: str
    ir: bytes = field(repr=False)
    runnable: bool = False
    split: str | None = None
    source: str | None = None

    @functools.cached_property
    def ir_hash(self) -> str:
        return hashlib.sha256(self.ir).hexdigest()
