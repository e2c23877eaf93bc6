"""Where search variation draws passes from, and how first populations are seeded.

Every sampler and seeder draws from one pass set, :data:`~ecco_lib.llvm.passes.SEARCH_PASSES`
(the registry without instrumentation passes that need a runtime library). The uniform sampler is
the plain GA's; the intent-guided sampler of the paper (Eq. 4) is another :class:`PassSampler`.
:class:`BigramSeeder` draws whole sequences from a first-order Markov chain over passes estimated
from the orderings LLVM's own -O pipelines use, so enabling passes come before the passes they enable.
"""

from __future__ import annotations

import random
import re
import subprocess
from collections import Counter, defaultdict
from typing import Protocol, Sequence

from ecco_lib.errors import UnknownPassError
from ecco_lib.llvm.passes import SEARCH_PASSES, lookup
from ecco_lib.llvm.toolchain import find_toolchain

Sequence_ = tuple[str, ...]


class PassSampler(Protocol):
    """Where variation draws a pass from."""

    def sample(self, rng: random.Random) -> str: ...


class UniformPassSampler:
    """Every pass of the search space (:data:`~ecco_lib.llvm.passes.SEARCH_PASSES`) with equal probability."""

    def __init__(self, passes: Sequence[str] = SEARCH_PASSES):
        self.passes = tuple(passes)

    def sample(self, rng: random.Random) -> str:
        return rng.choice(self.passes)


def level_pipeline_passes(level: str) -> list[str]:
    """The registry passes of ``default<level>`` in the order opt-19 runs them (parameters and
    pass-manager adaptors dropped; passes without a registry counterpart skipped)."""
    tc = find_toolchain()
    empty = b"; empty module\n"
    text = subprocess.run([tc.opt, f"-passes=default<{level}>", "-print-pipeline-passes", "-disable-output", "-"],
                          input=empty, capture_output=True, check=True).stdout.decode()
    names = []
    for token in re.findall(r"([a-z][a-z0-9-]*)(<[^>]*>)?(?=[,()]|$)", text):
        try:
            names.append(lookup(token[0] + (token[1] if token[1] in ("<memssa>", "<post-inline>") else "")).name)
        except UnknownPassError:  # adaptors (function, cgscc, loop-mssa, ...) and passes outside the registry
            continue
    return names


class BigramSeeder:
    """Draws whole sequences from a Markov chain over registry passes: the first pass by its
    frequency in the -O pipelines, each next pass by P(next | previous) estimated from the
    pipelines' orderings plus extra weighted pairs (e.g. synergistic pairs found in evidence),
    with add-``smoothing`` so every pass of the search space stays reachable."""

    def __init__(self, levels: Sequence[str] = ("O1", "O2", "O3", "Os", "Oz"),
                 extra_pairs: dict[tuple[str, str], float] | None = None, smoothing: float = 0.01):
        self.allowed = SEARCH_PASSES
        counts: dict[str, Counter] = defaultdict(Counter)
        frequency: Counter = Counter()
        for level in levels:
            chain = [p for p in level_pipeline_passes(level) if p in self.allowed]
            frequency.update(chain)
            for a, b in zip(chain, chain[1:]):
                counts[a][b] += 1
        for (a, b), weight in (extra_pairs or {}).items():
            counts[lookup(a).name][lookup(b).name] += weight
        self.start_weights = [frequency[p] + smoothing for p in self.allowed]
        self.next_weights = {a: [counts[a][b] + smoothing for b in self.allowed] for a in self.allowed}

    def sample_sequence(self, rng: random.Random, length: int) -> Sequence_:
        seq = [rng.choices(self.allowed, self.start_weights)[0]]
        while len(seq) < length:
            seq.append(rng.choices(self.allowed, self.next_weights[seq[-1]])[0])
        return tuple(seq)
