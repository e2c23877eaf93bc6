"""The action space: LLVM 19 counterparts of CompilerGym's 124 legacy ``opt`` passes.

Each :class:`Pass` knows its canonical name (the new-pass-manager name, or the legacy name where
two legacy passes map to one new-PM pass with different parameters), the exact text ``opt-19``
needs, the pass-manager level it must be wrapped at, the optimization category the strategist's
intents are expressed in, and a one-line description. Six legacy passes have no LLVM 19
counterpart; :data:`DROPPED` says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from ecco_lib.errors import UnknownPassError

#: Optimization categories: the vocabulary of the strategist's intents (weights per category).
CATEGORIES: dict[str, str] = {
    "memory-to-register": "promote stack slots and aggregates to SSA registers (or back)",
    "scalar-simplification": "fold, combine, reassociate and strength-reduce scalar instructions",
    "redundancy-elimination": "remove recomputed values and redundant loads/stores",
    "control-flow": "simplify, thread, split or merge branches and blocks",
    "loop-canonicalization": "put loops into the canonical forms other loop passes need",
    "loop-transformation": "hoist, unroll, unswitch, fuse, interchange or delete loops",
    "vectorization": "turn scalar operations into vector operations (or back)",
    "interprocedural": "inline, propagate across calls, infer attributes, merge functions",
    "dead-code": "delete dead instructions, functions, globals and prototypes",
    "lowering": "lower intrinsics and constructs, canonicalize names and metadata",
    "instrumentation": "insert profiling, tracing or checking code",
}

LEVELS = ("module", "cgscc", "function", "loop")

# legacy flag | canonical name | opt-19 text | level | category | description
_TABLE = """
add-discriminators|add-discriminators|add-discriminators|function|lowering|add DWARF path discriminators for sample profiling
adce|adce|adce|function|dead-code|aggressive dead code elimination (assumes code dead until proven live)
aggressive-instcombine|aggressive-instcombine|aggressive-instcombine|function|scalar-simplification|expensive instruction-combining patterns (truncation, popcount, table lookups)
alignment-from-assumptions|alignment-from-assumptions|alignment-from-assumptions|function|lowering|raise load/store alignment using alignment assumptions
always-inline|always-inline|always-inline|module|interprocedural|inline functions marked always_inline
argpromotion|argpromotion|argpromotion|cgscc|interprocedural|promote by-reference arguments to by-value scalars
attributor|attributor|attributor|module|interprocedural|fixpoint deduction of function and argument attributes
bdce|bdce|bdce|function|dead-code|bit-tracking dead code elimination
break-crit-edges|break-crit-edges|break-crit-edges|function|control-flow|split critical CFG edges with new blocks
simplifycfg|simplifycfg|simplifycfg|function|control-flow|merge, fold and remove blocks; turn branches into selects and switches
callsite-splitting|callsite-splitting|callsite-splitting|function|control-flow|split call sites on argument predicates to expose constants
called-value-propagation|called-value-propagation|called-value-propagation|module|interprocedural|annotate indirect calls with their possible callees
canonicalize-aliases|canonicalize-aliases|canonicalize-aliases|module|lowering|rewrite global aliases into canonical form
consthoist|consthoist|consthoist|function|scalar-simplification|hoist expensive integer constants to reduce materialization
constmerge|constmerge|constmerge|module|dead-code|merge duplicate global constants
coro-cleanup|coro-cleanup|coro-cleanup|module|lowering|lower remaining coroutine intrinsics
coro-early|coro-early|coro-early|module|lowering|lower early coroutine intrinsics
coro-elide|coro-elide|coro-elide|function|lowering|elide coroutine frame heap allocations
coro-split|coro-split|coro-split|cgscc|lowering|split coroutines into ramp, resume and destroy functions
correlated-propagation|correlated-propagation|correlated-propagation|function|scalar-simplification|use value ranges from branch conditions to simplify compares and arithmetic
cross-dso-cfi|cross-dso-cfi|cross-dso-cfi|module|instrumentation|build the cross-DSO control-flow-integrity check function
deadargelim|deadargelim|deadargelim|module|interprocedural|remove dead arguments and return values of internal functions
dce|dce|dce|function|dead-code|delete trivially dead instructions
dse|dse|dse|function|redundancy-elimination|dead store elimination
reg2mem|reg2mem|reg2mem|function|memory-to-register|demote SSA registers back to stack slots
div-rem-pairs|div-rem-pairs|div-rem-pairs|function|scalar-simplification|pair or decompose division and remainder of the same operands
early-cse-memssa|early-cse-memssa|early-cse<memssa>|function|redundancy-elimination|early common subexpression elimination using MemorySSA for loads
early-cse|early-cse|early-cse|function|redundancy-elimination|early common subexpression elimination in dominator-tree order
elim-avail-extern|elim-avail-extern|elim-avail-extern|module|dead-code|drop bodies of available_externally functions
ee-instrument|ee-instrument|ee-instrument|function|instrumentation|insert function entry/exit tracing calls
flattencfg|flatten-cfg|flatten-cfg|function|control-flow|merge nested conditions into single branches
float2int|float2int|float2int|function|scalar-simplification|demote floating point arithmetic to integer where exact
forceattrs|forceattrs|forceattrs|module|interprocedural|apply attributes forced on the command line
inline|inline|inline|cgscc|interprocedural|cost-model driven function inlining
insert-gcov-profiling|insert-gcov-profiling|insert-gcov-profiling|module|instrumentation|insert gcov edge-profiling counters
gvn-hoist|gvn-hoist|gvn-hoist|function|redundancy-elimination|hoist expressions with equal value numbers to a common dominator
gvn|gvn|gvn|function|redundancy-elimination|global value numbering with partial redundancy and load elimination
globaldce|globaldce|globaldce|module|dead-code|delete unreachable internal functions and globals
globalopt|globalopt|globalopt|module|interprocedural|optimize and localize global variables, evaluate static constructors
globalsplit|globalsplit|globalsplit|module|lowering|split globals with inrange annotations
guard-widening|guard-widening|guard-widening|function|control-flow|widen guard conditions to merge checks
hotcoldsplit|hotcoldsplit|hotcoldsplit|module|control-flow|outline cold code regions into separate functions
ipsccp|ipsccp|ipsccp|module|interprocedural|interprocedural sparse conditional constant propagation
indvars|indvars|indvars|loop|loop-canonicalization|canonicalize induction variables and rewrite exit values
irce|irce|irce|function|loop-transformation|inductive range check elimination
infer-address-spaces|infer-address-spaces|infer-address-spaces|function|lowering|replace generic pointers with specific address spaces
inferattrs|inferattrs|inferattrs|module|interprocedural|infer attributes of known library functions
inject-tli-mappings|inject-tli-mappings|inject-tli-mappings|function|vectorization|record vector library variants of scalar calls
instsimplify|instsimplify|instsimplify|function|scalar-simplification|simplify instructions without creating new ones
instcombine|instcombine|instcombine<no-verify-fixpoint>|function|scalar-simplification|combine and canonicalize instructions (peephole algebra)
instnamer|instnamer|instnamer|function|lowering|give names to anonymous values
jump-threading|jump-threading|jump-threading|function|control-flow|thread branches over blocks whose outcome is known on an incoming edge
lcssa|lcssa|lcssa|function|loop-canonicalization|loop-closed SSA form (phi nodes at loop exits)
licm|licm|licm|loop|loop-transformation|hoist loop-invariant code out of and sink it below loops
libcalls-shrinkwrap|libcalls-shrinkwrap|libcalls-shrinkwrap|function|control-flow|guard math library calls whose result is unused by domain checks
load-store-vectorizer|load-store-vectorizer|load-store-vectorizer|function|vectorization|merge adjacent loads and stores into vector accesses
loop-data-prefetch|loop-data-prefetch|loop-data-prefetch|function|loop-transformation|insert software prefetches in loops
loop-deletion|loop-deletion|loop-deletion|loop|dead-code|delete loops without side effects whose results are unused
loop-distribute|loop-distribute|loop-distribute|function|loop-transformation|split a loop into several to enable vectorization
loop-fusion|loop-fusion|loop-fusion|function|loop-transformation|fuse adjacent loops with equal trip counts
loop-guard-widening|loop-guard-widening|guard-widening|loop|loop-transformation|widen guard conditions inside loops
loop-idiom|loop-idiom|loop-idiom|loop|loop-transformation|recognize memset/memcpy loops and bit idioms
loop-instsimplify|loop-instsimplify|loop-instsimplify|loop|loop-canonicalization|simplify instructions inside loops
loop-interchange|loop-interchange|loop-interchange|loop|loop-transformation|interchange nested loops for better locality
loop-load-elim|loop-load-elim|loop-load-elim|function|redundancy-elimination|forward stored values to loads of later iterations
loop-predication|loop-predication|loop-predication|loop|loop-transformation|turn loop-variant guards into loop-invariant ones
loop-rotate|loop-rotate|loop-rotate|loop|loop-canonicalization|rotate loops into do-while form
loop-simplifycfg|loop-simplifycfg|loop-simplifycfg|loop|loop-canonicalization|simplify the control flow inside loops
loop-simplify|loop-simplify|loop-simplify|function|loop-canonicalization|insert preheaders, dedicated exits and a single backedge
loop-sink|loop-sink|loop-sink|function|loop-transformation|sink instructions from preheaders into colder loop blocks
loop-reduce|loop-reduce|loop-reduce|loop|loop-transformation|loop strength reduction of address computations
loop-unroll-and-jam|loop-unroll-and-jam|loop-unroll-and-jam|loop|loop-transformation|unroll an outer loop and fuse the inner copies
loop-unroll|loop-unroll|loop-unroll|function|loop-transformation|unroll loops (full, partial and runtime)
loop-unswitch|loop-unswitch|simple-loop-unswitch<nontrivial>|loop|loop-transformation|move loop-invariant conditions out of loops, duplicating the loop
loop-vectorize|loop-vectorize|loop-vectorize|function|vectorization|vectorize and interleave innermost loops
loop-versioning-licm|loop-versioning-licm|loop-versioning-licm|loop|loop-transformation|version loops on alias checks to hoist invariant memory
loop-versioning|loop-versioning|loop-versioning|function|loop-transformation|version loops with runtime memory checks
loweratomic|lower-atomic|lower-atomic|function|lowering|lower atomic operations to plain ones
lower-constant-intrinsics|lower-constant-intrinsics|lower-constant-intrinsics|function|lowering|lower is.constant and objectsize intrinsics
lower-expect|lower-expect|lower-expect|function|lowering|turn expect intrinsics into branch weights
lower-guard-intrinsic|lower-guard-intrinsic|lower-guard-intrinsic|function|lowering|lower guard intrinsics to branches
lowerinvoke|lower-invoke|lower-invoke|function|lowering|lower invokes to calls (no unwinding)
lower-matrix-intrinsics|lower-matrix-intrinsics|lower-matrix-intrinsics|function|lowering|lower matrix intrinsics to vector code
lowerswitch|lower-switch|lower-switch|function|control-flow|lower switch instructions to branch trees
lower-widenable-condition|lower-widenable-condition|lower-widenable-condition|function|lowering|lower widenable conditions to true
memcpyopt|memcpyopt|memcpyopt|function|redundancy-elimination|optimize memcpy/memset, forward and elide copies
mergefunc|mergefunc|mergefunc|module|interprocedural|merge functions with identical bodies
mergeicmps|mergeicmps|mergeicmps|function|scalar-simplification|merge chains of integer comparisons into memcmp
mldst-motion|mldst-motion|mldst-motion|function|redundancy-elimination|merge loads and stores of diamond branches
sancov|sancov-module|sancov-module|module|instrumentation|insert sanitizer coverage callbacks
name-anon-globals|name-anon-globals|name-anon-globals|module|lowering|give names to anonymous globals
nary-reassociate|nary-reassociate|nary-reassociate|function|scalar-simplification|reassociate n-ary adds and muls to reuse common subexpressions
newgvn|newgvn|newgvn|function|redundancy-elimination|global value numbering (the newer sparse algorithm)
pgo-memop-opt|pgo-memop-opt|pgo-memop-opt|function|lowering|specialize memory intrinsics by profiled sizes
partial-inliner|partial-inliner|partial-inliner|module|interprocedural|inline only the hot entry part of functions
partially-inline-libcalls|partially-inline-libcalls|partially-inline-libcalls|function|scalar-simplification|inline fast paths of library calls such as sqrt
post-inline-ee-instrument|post-inline-ee-instrument|ee-instrument<post-inline>|function|instrumentation|insert entry/exit tracing calls after inlining
functionattrs|function-attrs|function-attrs|cgscc|interprocedural|infer readnone/readonly/nocapture/norecurse bottom-up
mem2reg|mem2reg|mem2reg|function|memory-to-register|promote allocas to SSA registers
reassociate|reassociate|reassociate|function|scalar-simplification|reassociate commutative expressions to expose constants
redundant-dbg-inst-elim|redundant-dbg-inst-elim|redundant-dbg-inst-elim|function|lowering|remove redundant debug-value records
rpo-functionattrs|rpo-function-attrs|rpo-function-attrs|module|interprocedural|infer norecurse top-down in reverse post-order
rewrite-statepoints-for-gc|rewrite-statepoints-for-gc|rewrite-statepoints-for-gc|module|lowering|make GC relocations explicit at statepoints
sccp|sccp|sccp|function|scalar-simplification|sparse conditional constant propagation
slp-vectorizer|slp-vectorizer|slp-vectorizer|function|vectorization|vectorize straight-line code (superword-level parallelism)
sroa|sroa|sroa<modify-cfg>|function|memory-to-register|scalar replacement of aggregates and promotion to SSA
scalarizer|scalarizer|scalarizer|function|vectorization|split vector operations into scalar ones
separate-const-offset-from-gep|separate-const-offset-from-gep|separate-const-offset-from-gep|function|scalar-simplification|split constant offsets out of GEPs to share address arithmetic
simple-loop-unswitch|simple-loop-unswitch|simple-loop-unswitch|loop|loop-transformation|move trivially invariant conditions out of loops
sink|sink|sink|function|control-flow|sink instructions into the successor blocks that use them
speculative-execution|speculative-execution|speculative-execution|function|control-flow|hoist cheap instructions out of conditional blocks
slsr|slsr|slsr|function|scalar-simplification|straight-line strength reduction
strip-dead-prototypes|strip-dead-prototypes|strip-dead-prototypes|module|dead-code|delete unused function declarations
strip-debug-declare|strip-debug-declare|strip-debug-declare|module|lowering|strip debug declare intrinsics
strip-nondebug|strip-nondebug|strip-nondebug|module|lowering|strip symbol names except debug info
strip|strip|strip|module|lowering|strip symbol names and debug info
tailcallelim|tailcallelim|tailcallelim|function|control-flow|turn self-recursive tail calls into loops
mergereturn|mergereturn|mergereturn|function|control-flow|unify function exits into one return block
"""

#: Legacy passes of CompilerGym's action space that LLVM 19 no longer has, and why.
DROPPED: dict[str, str] = {
    "barrier": "legacy-PM scheduling barrier only; it transforms nothing and has no new-PM form",
    "constprop": "removed in LLVM 12; instsimplify and sccp subsume it",
    "die": "removed in LLVM 13 (dead instruction elimination); dce subsumes it",
    "ipconstprop": "removed in LLVM 12; ipsccp subsumes it",
    "loop-reroll": "removed from LLVM in version 19 (unmaintained)",
    "prune-eh": "removed in LLVM 16; function-attrs and simplifycfg subsume it",
}

#: Loop passes that do not preserve MemorySSA; under ``loop-mssa(...)`` opt-19 stops with a fatal
#: error when they change a loop (measured: loop-versioning-licm on 7 of 49 embedded programs after
#: -O1; every other loop pass of the registry ran under loop-mssa on all 49).
LOOP_PASSES_WITHOUT_MEMORYSSA = frozenset({"loop-versioning-licm"})

#: Passes whose output calls a runtime library; such builds need that runtime to link and run.
NEEDS_RUNTIME = frozenset({"insert-gcov-profiling", "sancov-module", "ee-instrument",
                           "post-inline-ee-instrument", "cross-dso-cfi"})


@dataclass(frozen=True)
class Pass:
    """One action: ``name`` is canonical, ``text`` is what opt-19 needs at ``level``."""

    index: int
    name: str
    legacy: str
    text: str
    level: str
    category: str
    description: str


def _load() -> tuple[Pass, ...]:
    passes = []
    for i, line in enumerate(l for l in _TABLE.strip().splitlines()):
        legacy, name, text, level, category, description = line.split("|")
        assert level in LEVELS and category in CATEGORIES, line
        passes.append(Pass(i, name, legacy, text, level, category, description))
    return tuple(passes)


#: The registry, in CompilerGym's action order (minus :data:`DROPPED`).
REGISTRY: tuple[Pass, ...] = _load()
PASS_NAMES: tuple[str, ...] = tuple(p.name for p in REGISTRY)

#: The search space of every sampler, seeder and search method: the registry without the passes of
#: :data:`NEEDS_RUNTIME`. Those only add calls into a profiling or checking runtime (more code,
#: more cycles under the metric, and a build that cannot link without that runtime), so no method
#: may spend its budget on them; they stay evaluable by name (``ecco evaluate --passes``).
SEARCH_PASSES: tuple[str, ...] = tuple(name for name in PASS_NAMES if name not in NEEDS_RUNTIME)

_LOOKUP: dict[str, Pass] = {}
for _p in REGISTRY:
    for _key in (_p.name, _p.legacy, _p.text):
        _LOOKUP.setdefault(_key, _p)


def lookup(name: str) -> Pass:
    """Resolve a new-PM name, a legacy name (with or without the leading ``-``) or opt text."""
    key = name.strip()
    key = key[1:] if key.startswith("-") else key
    if key in _LOOKUP:
        return _LOOKUP[key]
    if key in DROPPED:
        raise UnknownPassError(f"pass '{name}' has no LLVM 19 counterpart: {DROPPED[key]}")
    raise UnknownPassError(f"unknown pass '{name}' (see `ecco passes` for the {len(REGISTRY)} known passes)")


_SEPARATORS = re.compile(r"[\s,]+")


def parse_sequence(sequence: str | Iterable[str]) -> tuple[str, ...]:
    """Parse a pass sequence into canonical names.

    Accepts a string of comma- and/or whitespace-separated names (new or legacy, ``-flag`` style
    included) or an iterable of names. The empty string is the empty sequence (no optimization).
    Raises :class:`UnknownPassError` naming the first pass that is not known.
    """
    if isinstance(sequence, str):
        text = sequence.strip()
        if "(" in text or ")" in text:
            raise UnknownPassError(
                f"malformed sequence '{text[:60]}': give a flat list of pass names, not an opt pipeline")
        items = [t for t in _SEPARATORS.split(text) if t]
    else:
        items = list(sequence)
    return tuple(lookup(item).name for item in items)


def passes_in(category: str) -> tuple[Pass, ...]:
    if category not in CATEGORIES:
        raise UnknownPassError(f"unknown category '{category}' (known: {', '.join(CATEGORIES)})")
    return tuple(p for p in REGISTRY if p.category == category)
