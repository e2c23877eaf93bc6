"""Teachers: they write one training answer (in the format of :mod:`ecco_lib.response`) per
evidence record (:class:`ecco_lib.evidence.EvidenceRecord`) and dataset variant.

Teachers see privileged *evidence* (one record per program and core sequence) and write reasoning
*as if predicting it from the program's static features alone*: features -> which passes will
matter and why -> intents -> sequence. They never quote measured numbers (cycles, gains,
percentages, deltas); static feature counts shown in the user prompt may be quoted.
:class:`EvidenceTeacher` writes offline from templates; :class:`HTTPTeacher` asks any
OpenAI-compatible endpoint; :func:`make_teacher` builds the one a profile names.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import string
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping, Protocol, Sequence

from ecco_lib.errors import BadEvidenceError, EccoError, UnknownPassError, one_line
from ecco_lib.llvm.passes import CATEGORIES, lookup, parse_sequence
from ecco_lib.prompts import SYSTEM_PROMPT, counted, static_features, user_prompt
from ecco_lib.response import MalformedResponse, StrategistResponse, normalize_intents, parse_response, variant_parts

if TYPE_CHECKING:
    from ecco_lib.evidence import EvidenceRecord


class Teacher(Protocol):
    """Writes one response text (in the one format) for an evidence record and a variant."""

    name: str

    def respond(self, evidence: EvidenceRecord, *, variant: str) -> str: ...


def core_sequence(evidence: EvidenceRecord) -> tuple[str, ...]:
    """The evidence's core sequence (canonical names); raises :class:`BadEvidenceError` if it is
    missing, empty, or does not match the per-pass entries (each with its marginal gain and
    removal loss)."""
    program = evidence.program
    try:
        core = parse_sequence(evidence.pruning["core"])
        entries = [p["pass"] for p in evidence.passes]
        for entry in evidence.passes:
            entry["performance"]["marginal_gain"], entry["performance"]["removal_loss"]
    except (KeyError, TypeError) as e:
        raise BadEvidenceError(f"evidence for {program}: missing key {e}") from None
    except UnknownPassError as e:
        raise BadEvidenceError(f"evidence for {program}: {e}") from None
    if not core:
        raise BadEvidenceError(f"evidence for {program} has an empty core sequence: nothing to teach")
    if tuple(parse_sequence(entries)) != core:
        raise BadEvidenceError(f"evidence for {program}: 'passes' entries do not match the core sequence")
    return core


def evidence_intents(evidence: EvidenceRecord, floor: float = 0.05) -> dict[str, float]:
    """Intents from the evidence: per category of the core passes, the sum of their positive
    removal losses, normalised, then mixed with a floor of ``floor`` per category present (at
    most half of the mass in total); uniform over the present categories when no loss is
    positive. Normalised by :func:`normalize_intents`."""
    core_sequence(evidence)
    loss: dict[str, float] = {}
    for entry in evidence.passes:
        category = lookup(entry["pass"]).category
        loss[category] = loss.get(category, 0.0) + max(0.0, float(entry["performance"]["removal_loss"]))
    total = sum(loss.values())
    k = len(loss)
    share = {c: (v / total if total > 0 else 1 / k) for c, v in loss.items()}
    per_floor = min(floor, 0.5 / k)
    return normalize_intents({c: per_floor + (1 - per_floor * k) * s for c, s in share.items()})


def sequence_intents(sequence: Sequence[str]) -> dict[str, float]:
    """Intents proportional to how many passes of each category the sequence holds."""
    counts = Counter(lookup(p).category for p in sequence)
    if not counts:
        raise MalformedResponse("empty sequence: no intents to derive")
    return normalize_intents(dict(counts))


# Pass-specific explanations (two phrasings each) for the passes the search finds most often.
_PASS_ROLES: dict[str, tuple[str, ...]] = {
    "mem2reg": ("mem2reg promotes allocas whose address never escapes into SSA registers, replacing their loads "
                "and stores with phi nodes.",
                "mem2reg turns local variables that live in stack slots into SSA values, so later passes see "
                "the data flow directly."),
    "sroa": ("sroa breaks aggregates and stack slots into individual scalars and promotes them to SSA values.",
             "sroa (scalar replacement of aggregates) splits local structs and arrays into scalars and promotes "
             "them to registers."),
    "instcombine": ("instcombine applies peephole algebra: it folds constants, merges instruction chains and "
                    "canonicalizes operations.",
                    "instcombine rewrites instruction patterns into simpler canonical equivalents and folds "
                    "whatever becomes constant."),
    "simplifycfg": ("simplifycfg merges and removes blocks, folds branches on constants and turns small "
                    "diamonds into selects.",
                    "simplifycfg cleans up the control-flow graph: empty blocks disappear, trivial branches are "
                    "folded and straight chains are merged."),
    "gvn": ("gvn numbers values globally and removes fully and partially redundant computations and loads.",
            "gvn finds computations and loads that repeat along every path and reuses the earlier result."),
    "newgvn": ("newgvn is the sparse value-numbering pass; it also catches redundancies hidden behind phi nodes.",
               "newgvn assigns value numbers to expressions and replaces redundant ones by their first "
               "occurrence."),
    "early-cse": ("early-cse removes common subexpressions in a fast walk over the dominator tree.",
                  "early-cse reuses values already computed in a dominating block."),
    "early-cse-memssa": ("early-cse-memssa removes common subexpressions and, with MemorySSA, redundant loads.",
                         "early-cse-memssa is early CSE that can also see through memory, so repeated loads "
                         "are reused."),
    "licm": ("licm hoists loop-invariant computations and loads into the preheader and sinks stores below "
             "the loop.",
             "licm moves work that does not change across iterations out of the loop body."),
    "loop-rotate": ("loop-rotate turns while-loops into guarded do-while loops, the shape licm and the "
                    "vectorizers expect.",
                    "loop-rotate moves the loop test to the bottom, so each iteration runs without a header "
                    "branch."),
    "indvars": ("indvars canonicalizes induction variables, widens them and computes exit values.",
                "indvars rewrites induction variables into simple canonical forms and replaces their uses "
                "after the loop by computed exit values."),
    "loop-unroll": ("loop-unroll replicates loop bodies, removing counter and branch overhead, and fully unrolls "
                    "short constant-trip loops.",
                    "loop-unroll unrolls loops with small or known trip counts, trading code size for fewer "
                    "iterations."),
    "loop-vectorize": ("loop-vectorize turns innermost loops into vector loops that process several elements "
                       "per iteration.",
                       "loop-vectorize widens innermost loops to SIMD operations and interleaves them."),
    "slp-vectorizer": ("slp-vectorizer packs isomorphic scalar operations of straight-line code into vector "
                       "instructions.",
                       "slp-vectorizer combines neighbouring independent scalar operations into vector "
                       "operations."),
    "inline": ("inline substitutes the bodies of profitable callees into their call sites.",
               "inline removes call overhead by copying small callees into their callers, where they are "
               "optimized in context."),
    "function-attrs": ("function-attrs infers attributes such as readonly, nocapture and norecurse bottom-up "
                       "over the call graph.",
                       "function-attrs deduces memory and capture attributes of functions and arguments, which "
                       "other passes rely on."),
    "ipsccp": ("ipsccp propagates constants across function boundaries and prunes branches that can never be "
               "taken.",
               "ipsccp is interprocedural sparse conditional constant propagation: constant arguments and "
               "returns spread into the callees."),
    "sccp": ("sccp propagates constants through the function and removes branches whose condition is known.",
             "sccp solves for values that are constant along executable paths and folds them."),
    "dse": ("dse removes stores that are overwritten or never read.",
            "dse deletes dead stores: writes that a later store overwrites before anything reads them."),
    "adce": ("adce assumes every instruction is dead until proven live and deletes the rest, dead control "
             "flow included.",
             "adce aggressively removes computations whose results never reach a side effect."),
    "dce": ("dce deletes instructions that have no uses and no side effects.",
            "dce is the simple dead-code sweep: unused, side-effect-free instructions go."),
    "bdce": ("bdce tracks which bits of each value are demanded and deletes computations of bits nobody reads.",
             "bdce removes instructions whose result bits are never used."),
    "jump-threading": ("jump-threading threads branches across blocks when the outcome is already known on an "
                       "incoming edge.",
                       "jump-threading duplicates small blocks so that branches with predictable outcomes jump "
                       "straight to their target."),
    "reassociate": ("reassociate reorders commutative expressions so that constants group together and common "
                    "terms line up.",
                    "reassociate ranks the operands of associative operations, exposing constant folding and "
                    "shared subexpressions."),
    "loop-simplify": ("loop-simplify gives each loop a preheader, a single backedge and dedicated exits.",
                      "loop-simplify puts loops into the canonical shape the loop optimizations assume."),
    "lcssa": ("lcssa puts loops into loop-closed SSA form, with phi nodes for every value used outside the loop.",
              "lcssa adds exit phi nodes so that values defined in a loop leave it only through them."),
    "tailcallelim": ("tailcallelim turns self-recursive tail calls into loops.",
                     "tailcallelim replaces recursion in tail position by a branch back to the function entry."),
    "globalopt": ("globalopt optimizes global variables: it localizes them, folds ones that are never written "
                  "and removes unused ones.",
                  "globalopt turns globals that are only read, or used in a single function, into constants "
                  "or locals."),
    "globaldce": ("globaldce deletes internal functions and globals that nothing references.",
                  "globaldce removes unreachable internal definitions from the module."),
    "deadargelim": ("deadargelim removes unused arguments and return values of internal functions.",
                    "deadargelim strips parameters that callees never read, simplifying every call site."),
    "memcpyopt": ("memcpyopt merges stores into memset or memcpy, forwards copies and removes redundant ones.",
                  "memcpyopt optimizes memory copies: it elides temporaries and turns runs of stores into "
                  "memset."),
    "correlated-propagation": ("correlated-propagation uses value ranges implied by branch conditions to "
                               "simplify comparisons and arithmetic.",
                               "correlated-propagation exploits facts known on each path, such as a value being "
                               "non-negative, to fold compares."),
    "loop-idiom": ("loop-idiom recognizes loops that set or copy memory and replaces them by memset or memcpy.",
                   "loop-idiom replaces idiomatic loops (memset, memcpy, bit counting) by a single call or "
                   "intrinsic."),
    "loop-deletion": ("loop-deletion removes loops that have no side effects and whose results are unused.",
                      "loop-deletion deletes loops that compute nothing observable."),
    "loop-unswitch": ("loop-unswitch moves loop-invariant conditions out of the loop, duplicating the loop for "
                      "each outcome.",
                      "loop-unswitch hoists invariant branches out of loops, leaving a simpler body in each copy."),
    "simple-loop-unswitch": ("simple-loop-unswitch hoists trivially invariant conditions out of loops.",
                             "simple-loop-unswitch moves branches whose condition does not change in the loop "
                             "in front of it."),
    "instsimplify": ("instsimplify folds instructions to existing values or constants without creating new ones.",
                     "instsimplify removes instructions whose result is already available in simpler form."),
    "aggressive-instcombine": ("aggressive-instcombine recognizes larger patterns such as narrowable "
                               "truncation chains and table lookups.",
                               "aggressive-instcombine handles expensive combine patterns that instcombine "
                               "skips."),
    "loop-reduce": ("loop-reduce strength-reduces address and induction arithmetic inside loops.",
                    "loop-reduce rewrites loop address computations into cheaper incremented pointers."),
    "loop-instsimplify": ("loop-instsimplify simplifies instructions inside loops while keeping loop form.",
                          "loop-instsimplify folds redundant instructions in loop bodies."),
    "mergereturn": ("mergereturn unifies the exits of a function into one return block.",
                    "mergereturn gives every function a single return."),
    "argpromotion": ("argpromotion passes pointer arguments that are only read by value instead.",
                     "argpromotion turns by-reference arguments into scalar arguments, removing loads in "
                     "the callee."),
    "float2int": ("float2int demotes floating-point arithmetic to integers where the result is exact.",
                  "float2int replaces floating-point operations on small integer values by integer ones."),
    "sink": ("sink moves instructions into the successor blocks that use them.",
             "sink pushes computations down to the only paths that need them."),
    "gvn-hoist": ("gvn-hoist hoists expressions with equal value numbers to a common dominator.",
                  "gvn-hoist merges identical computations of sibling branches into one above them."),
    "mldst-motion": ("mldst-motion merges the loads and stores of the two sides of a diamond.",
                     "mldst-motion hoists common loads and sinks common stores of if-then-else branches."),
}

# Generic role sentences for the other passes, from the registry's description and category.
_GENERIC_ROLES = (
    "{name} ({description}) is a {category} pass.",
    "{name} is about {category}; its job: {description}.",
    "{name}, a {category} pass, covers this: {description}.",
)

# Connectors by position in the sequence.
_FIRST = ("First, ", "To start, ", "The first step: ")
_MIDDLE = ("Next, ", "Then ", "After that, ", "Following it, ")
_LAST = ("Finally, ", "Last, ", "To finish, ")
_AGAIN = ("{name} runs again: it should clean up what the previous passes exposed.",
          "a second {name} should catch what the earlier passes left behind.",
          "{name} appears once more, to mop up the opportunities created since its first run.")

_EFFECT_OPENERS = ("Here it should {effects}.", "On this program I expect it to {effects}.",
                   "For this code it will likely {effects}.", "In this program it should {effects}.")
NO_EFFECT = ("Its changes should show in where and how instructions execute rather than in how many there are.",
              "I do not expect it to change the instruction counts much; it reshapes how the code runs instead.",
              "Its effect should be visible in the executed code rather than in the static counts.")

IMPORTANCE = {
    "key": ("This should be the single most important step.",
            "I expect this to be the key pass of the sequence.",
            "If only one pass could stay, it should be this one."),
    "essential": ("I expect this pass to be essential; dropping it would undo much of the benefit.",
                  "Much of the rest builds on this, so it is essential."),
    "important": ("It should contribute clearly to the final result.",
                  "I expect a solid contribution from it.",
                  "This should pay off noticeably."),
    "supporting": ("Its effect should be modest, but it still helps the final code.",
                   "A smaller refinement, but still worth keeping.",
                   "This is a minor step, yet leaving it out should make the result slightly worse."),
    "enabler": ("On its own it may not save cycles, but the passes after it depend on the shape it leaves.",
                "Its value is indirect: it prepares the IR for what follows.",
                "By itself it may look neutral; it is here to enable the later passes."),
    "enabler-essential": ("On its own it may not save cycles, yet the rest of the sequence relies on it heavily.",
                          "It hardly helps directly, but without it the later passes would lose most of their "
                          "effect."),
}

#: The concise teacher's one-line wording of the importance levels (keys of the prose wording
#: ``IMPORTANCE``) and of a pass without count changes; the faithfulness check parses these back.
TERSE_IMPORTANCE = {"key": "the key pass", "essential": "essential", "important": "important",
                     "supporting": "minor", "enabler": "prepares later passes",
                     "enabler-essential": "prepares later passes, essential"}
TERSE_NO_EFFECT = "reshapes the code without changing the counts"

#: Pass lines of a ``brief`` answer: the passes whose removal costs the most cycles (measured
#: removal loss; ties: the earlier pass), written in sequence order under their own positions.
BRIEF_PASS_LINES = 2

SYNERGY = ("{first} exposes opportunities for {second}: {why}.",
            "This is what makes the following {second} effective, since {why}.",
            "{first} and {second} work as a pair here; {why}.")
_LINK = ("{first} should also prepare the ground for {second}: {why}.",
         "Running {first} before {second} matters because {why}.")

# Why a pass of category B benefits from the pass before it.
_ENABLE_REASON = {
    "memory-to-register": "the slots left over become promotable once the code around them is simpler",
    "scalar-simplification": "the values it exposes become foldable",
    "redundancy-elimination": "it makes repeated computations identical, so they can be merged",
    "control-flow": "it leaves branches with known or simpler conditions",
    "loop-canonicalization": "it leaves loops that can now be brought into canonical form",
    "loop-transformation": "loop transformations need the clean loop structure it produces",
    "vectorization": "vectorization needs simple, canonical bodies and data flow",
    "interprocedural": "simpler function bodies make the interprocedural analysis and cost model precise",
    "dead-code": "it leaves values without uses, which are then deleted",
    "lowering": "the lowering works on the form it produces",
    "instrumentation": "the instrumentation works on the form it produces",
}

# Why a specific pass benefits from the pass before it (overrides the category's reason).
_ENABLE_REASON_PASS = {
    "instcombine": "the values it exposes become foldable",
    "instsimplify": "the values it exposes become foldable",
    "simplifycfg": "it leaves branches with known or simpler conditions and blocks that can be merged",
    "jump-threading": "branch conditions become known along some incoming edges",
    "gvn": "repeated computations and loads become visible as identical values",
    "newgvn": "repeated computations become visible as identical values",
    "early-cse": "repeated computations become syntactically identical",
    "licm": "invariant values become visible in a loop shape it can hoist from",
    "loop-rotate": "it leaves loops with a simple header that can be rotated",
    "indvars": "the induction variables become recognizable",
    "loop-unroll": "loop bodies and trip counts become simple enough to unroll",
    "loop-vectorize": "the innermost loops end up in the canonical shape vectorization needs",
    "slp-vectorizer": "neighbouring scalar operations become isomorphic",
    "dse": "stores become easier to prove dead",
    "adce": "more computations lose their last use",
    "dce": "more instructions lose their last use",
    "bdce": "more values and bits lose their last use",
    "sccp": "more values become provably constant",
    "ipsccp": "more values become provably constant",
    "mem2reg": "more stack slots become promotable",
    "sroa": "more aggregates and slots become promotable",
    "inline": "callees become small enough for the inliner's cost model",
    "memcpyopt": "copies and stores line up into recognizable patterns",
    "correlated-propagation": "branch conditions imply simple value ranges",
    "reassociate": "expressions take a form whose operands can be reordered",
    "loop-idiom": "memset and memcpy patterns become recognizable in canonical loops",
    "loop-deletion": "loops without observable effects become apparent",
}


def _enable_reason(second: str) -> str:
    return _ENABLE_REASON_PASS.get(second) or _ENABLE_REASON[lookup(second).category]


# Category pairs (A before B) where A generically enables B (for reasoning without evidence).
_GENERIC_ENABLES = {
    ("memory-to-register", c) for c in CATEGORIES if c not in ("memory-to-register", "lowering", "instrumentation")
} | {
    ("loop-canonicalization", "loop-transformation"), ("loop-canonicalization", "vectorization"),
    ("interprocedural", "scalar-simplification"), ("interprocedural", "redundancy-elimination"),
    ("interprocedural", "dead-code"), ("interprocedural", "control-flow"),
    ("scalar-simplification", "control-flow"), ("scalar-simplification", "redundancy-elimination"),
    ("scalar-simplification", "dead-code"), ("control-flow", "loop-canonicalization"),
    ("control-flow", "redundancy-elimination"), ("redundancy-elimination", "dead-code"),
    ("redundancy-elimination", "scalar-simplification"), ("loop-transformation", "scalar-simplification"),
    ("loop-transformation", "redundancy-elimination"), ("loop-transformation", "vectorization"),
    ("loop-transformation", "dead-code"),
}

# Why a category should matter for this program, from static features (first use of a category):
# category -> (feature it rests on, phrasings quoting it (used when it is >= 2), phrasings without numbers).
_CATEGORY_MOTIVES = {
    "memory-to-register": ("NumAllocaInst", ("With {NumAllocaInst:stack slot} in the input there is a lot to "
                                             "promote.",),
                           ("The input keeps its locals in stack slots, so this should matter.",)),
    "loop-canonicalization": ("TopLevelLoopCount", ("Each of the {TopLevelLoopCount:top-level loop} needs this "
                                                    "form before it can be transformed.",),
                              ("The loops in this program need this form first.",)),
    "loop-transformation": ("TopLevelLoopCount", ("Every instruction taken out of the {TopLevelLoopCount:top-level "
                                                  "loop} is saved on each iteration.",),
                            ("Work inside the loops is executed many times, so this pays.",)),
    "vectorization": ("NumGetElementPtrInst", ("The {NumGetElementPtrInst:address computation} hint at array code "
                                               "that wider operations can cover.",),
                      ("Array-style code is a candidate for wider operations.",)),
    "interprocedural": ("NumCallInst", ("The {NumCallInst:call site} make this worthwhile.",),
                        ("The calls in this program make this worthwhile.",)),
    "control-flow": ("twoSuccessor", ("The {twoSuccessor:conditional branch} give it room to work.",),
                     ("The branchy control flow gives it room to work.",)),
    "scalar-simplification": ("binaryConstArg", ("There are {binaryConstArg:binary operation} with a constant "
                                                 "operand to work on.",),
                              ("Arithmetic with constant operands is common in this code.",)),
    "redundancy-elimination": ("NumLoadInst", ("The {NumLoadInst:load} and the address computations likely "
                                               "repeat.",),
                               ("Loads and address computations likely repeat here.",)),
    "dead-code": ("TotalInsts", (), ("The earlier passes will leave dead values behind.",
                                     "Cleanup of what becomes unused keeps the final code lean.")),
}

# Effects read from the evidence's deltas: (source, key, direction, verb phrase; {q} = how much).
#: The effects a teacher may claim for a pass: ``(source, key, direction, phrase)``, where ``source``
#: is the evidence field (``structural`` or ``features_delta``), ``key`` the count, ``direction``
#: the sign of its change and ``phrase`` the wording (``{q}``: one of :data:`QUANTITIES`). The one
#: claim vocabulary: :mod:`ecco_lib.faithfulness` parses these phrases back and checks them.
EFFECTS = (
    ("structural", "allocas", -1, "remove {q} of the stack slots"),
    ("structural", "loads", -1, "eliminate {q} of the loads"),
    ("structural", "stores", -1, "eliminate {q} of the stores"),
    ("structural", "phis", +1, "introduce phi nodes"),
    ("structural", "phis", -1, "fold away {q} of the phi nodes"),
    ("structural", "instructions", -1, "remove {q} of the instructions"),
    ("structural", "instructions", +1, "grow the code, creating room for later simplification"),
    ("structural", "blocks", -1, "merge or delete {q} of the basic blocks"),
    ("structural", "blocks", +1, "add blocks such as preheaders, exits or split paths"),
    ("structural", "calls", -1, "remove {q} of the calls"),
    ("structural", "branches", -1, "remove {q} of the branches"),
    ("structural", "loops", -1, "eliminate {q} of the loops"),
    ("structural", "functions", -1, "drop {q} of the functions"),
    ("features_delta", "NumSelectInst", +1, "turn branches into selects"),
    ("features_delta", "NumICmpInst", -1, "fold {q} of the comparisons"),
    ("features_delta", "NumMulInst", -1, "replace {q} of the multiplications by cheaper operations"),
    ("features_delta", "NumGetElementPtrInst", -1, "simplify {q} of the address computations"),
    ("features_delta", "NumSExtInst", -1, "drop {q} of the sign extensions"),
    ("features_delta", "NumZExtInst", -1, "drop {q} of the zero extensions"),
)

# Static-feature observations: topic -> (categories it supports, phrasings). ``{Name:noun}`` renders
# the count with the noun in singular or plural.
_TOPICS = {
    "memory": (("memory-to-register", "redundancy-elimination"), (
        "The code keeps {NumAllocaInst:value} in stack slots, moved in and out of memory by {NumLoadInst:load} and "
        "{NumStoreInst:store}, so promoting those slots to registers is likely the first big win.",
        "With {NumAllocaInst:alloca}, {NumLoadInst:load} and {NumStoreInst:store} among {TotalInsts:instruction}, "
        "much of the work is memory traffic on locals; memory-to-register promotion should remove most of it.",
        "Memory operations are prominent: {NumLoadInst:load} and {NumStoreInst:store}, many of them on "
        "{NumAllocaInst:local stack slot}. Turning those slots into registers should matter most.")),
    "no-ssa": (("memory-to-register",), (
        "No phi nodes exist yet: the front end left every local variable in memory.",
        "The absence of phi nodes says the values still live in memory rather than in SSA registers.")),
    "loops": (("loop-canonicalization", "loop-transformation", "vectorization"), (
        "The program has {TopLevelLoopCount:top-level loop} nesting up to {MaxLoopDepth} levels deep; inner-loop "
        "work multiplies, so canonical loop forms and hoisting invariant code out of the loops should pay off.",
        "The loop nests go {MaxLoopDepth} levels deep across {TopLevelLoopCount:top-level loop}, which makes loop "
        "canonicalization and loop-invariant code motion promising.",
        "With {TopLevelLoopCount:top-level loop} up to {MaxLoopDepth} levels deep, most executed instructions sit "
        "inside loops, so the loop passes deserve attention.")),
    "flat-loops": (("loop-canonicalization", "loop-transformation", "vectorization"), (
        "The program has {TopLevelLoopCount:top-level loop} without deeper nesting; loop bodies run many times, "
        "so canonical loop forms and loop-invariant code motion should still pay off.",
        "Its loops ({TopLevelLoopCount:top-level loop}) are not nested, but most executed instructions sit inside "
        "them, so the loop passes deserve attention.")),
    "calls": (("interprocedural",), (
        "With {NumCallInst:call} across {TotalFuncs:function}, inlining small callees should remove call overhead "
        "and expose their bodies to the other passes.",
        "The program makes {NumCallInst:call} among {TotalFuncs:function}; interprocedural work such as inlining "
        "and constant propagation into callees should help.")),
    "control": (("control-flow",), (
        "Of the {TotalBlocks:block}, {twoSuccessor} end in a conditional branch, with {CriticalCount:critical "
        "edge}, so simplifying and threading the control flow should shorten the paths.",
        "The control flow is branchy ({twoSuccessor:conditional branch} over {TotalBlocks:block}), which leaves "
        "room for block merging and branch folding.")),
    "constants": (("scalar-simplification",), (
        "{binaryConstArg:binary operation} take a constant operand, so instruction combining and constant "
        "folding have plenty to work on.",
        "Constant operands are common ({const32Bit} of 32 bits, {const64Bit} of 64 bits), which favours "
        "folding and peephole simplification.")),
    "addresses": (("redundancy-elimination", "vectorization"), (
        "{NumGetElementPtrInst:getelementptr} compute addresses, many of them likely recomputed, which value "
        "numbering can share.",
        "Address arithmetic is heavy ({NumGetElementPtrInst:getelementptr}), a sign of array code with repeated "
        "index computations.")),
    "dead": (("dead-code",), (
        "Once values are promoted and folded, many instructions will lose their uses, so dead-code removal "
        "should follow.",
        "The simplifications will leave dead code behind that is worth deleting.")),
}

# Topics only reached through another topic ("no-ssa" after "memory", "flat-loops" for "loops").
_SUBTOPICS = ("no-ssa", "flat-loops")

_INTRO = ("The unoptimized program has {TotalFuncs:function}, {TotalBlocks:block} and {TotalInsts:instruction}.",
          "Looking at the static features first: {TotalFuncs:function}, {TotalBlocks:basic block}, "
          "{TotalInsts:instruction}.",
          "This is a program of {TotalInsts:instruction} in {TotalBlocks:block} and {TotalFuncs:function}.")
_SMALL = ("It is small, so a short sequence should be enough.",
          "The program is small; a few well-chosen passes should capture most of the benefit.")
_NOTHING = ("No single feature stands out, so the sequence should stay short and targeted.",
            "The static features do not point to one dominant opportunity.")

_INTENTS_FULL = ("Putting it together, the largest weight goes to {top}{rest}. Its passes are the ones that "
                 "{meaning}.",
                 "The intents therefore favour {top}{rest}.",
                 "So my intents put {top} first{rest}.")
_INTENTS_BLIND = ("Counting the kinds of passes I plan to use, the intents lean towards {top}{rest}. Its passes "
                  "are the ones that {meaning}.",
                  "Judging by the passes this program needs, {top} gets the largest share{rest}.")
_REST = (", followed by {rest}", ", with smaller shares for {rest}", ", then {rest}")
_SEQUENCE = ("The resulting sequence is {seq}.", "Hence the sequence: {seq}.", "In order: {seq}.")


class _CountFormatter(string.Formatter):
    """``str.format`` plus ``{count:noun}``, which renders "1 noun" or "3 nouns"."""

    def format_field(self, value, format_spec):
        if isinstance(value, int) and format_spec[:1].isalpha():
            return counted(value, format_spec)
        return super().format_field(value, format_spec)


_FORMAT = _CountFormatter()


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


#: How a teacher words the size of a change relative to the count before it (:func:`quantity`).
QUANTITIES = ("almost all", "most", "many", "some", "a few")


def quantity(fraction: float) -> str:
    """The word for a change of ``fraction`` of a count (one of :data:`QUANTITIES`)."""
    if fraction >= 0.9:
        return "almost all"
    if fraction >= 0.6:
        return "most"
    if fraction >= 0.3:
        return "many"
    if fraction >= 0.1:
        return "some"
    return "a few"


class _Writer:
    """Prose builder for one response: a seeded RNG and the program's static features."""

    def __init__(self, rng: random.Random, features: dict[str, int]):
        self.rng = rng
        self.f = features

    def pick(self, options: Sequence[str], **extra) -> str:
        return _FORMAT.format(self.rng.choice(options), **self.f, **extra)

    def has_loops(self) -> bool:
        return self.f.get("TopLevelLoopCount", 0) > 0 and "MaxLoopDepth" in self.f

    def topic_applies(self, topic: str) -> bool:
        f = self.f
        insts = f["TotalInsts"]
        return {
            "memory": f["NumAllocaInst"] >= 2 and f["NumLoadInst"] + f["NumStoreInst"] >= 0.15 * insts,
            "no-ssa": f["NumPHIInst"] == 0 and f["NumAllocaInst"] > 0,
            "loops": self.has_loops(),
            "calls": f["TotalFuncs"] > 1 and f.get("DirectCallsToDefinedFunctions", f["NumCallInst"]) > 0,
            "control": f["twoSuccessor"] >= 3,
            "constants": f["binaryConstArg"] >= max(5, 0.03 * insts),
            "addresses": f["NumGetElementPtrInst"] >= max(5, 0.05 * insts),
            "dead": True,
        }[topic]

    def static_relevance(self, topic: str) -> float:
        """How strongly the static features alone point at a topic (a dimensionless score)."""
        f = self.f
        insts = max(1, f["TotalInsts"])
        return {
            "memory": (f["NumLoadInst"] + f["NumStoreInst"]) / insts,
            "no-ssa": 0.0,
            "loops": 0.15 * f.get("MaxLoopDepth", 0),
            "calls": min(0.3, f["NumCallInst"] / insts * 3),
            "control": f["twoSuccessor"] / max(1, f["TotalBlocks"]) * 0.5,
            "constants": f["binaryConstArg"] / insts,
            "addresses": f["NumGetElementPtrInst"] / insts,
            "dead": 0.0,
        }[topic]

    def observations(self, topics: Sequence[str]) -> str:
        sentences = [self.pick(_INTRO)]
        for topic in topics:
            if topic == "loops" and self.f["MaxLoopDepth"] < 2:
                topic = "flat-loops"
            sentences.append(self.pick(_TOPICS[topic][1]))
            if topic == "memory" and self.topic_applies("no-ssa"):
                sentences.append(self.pick(_TOPICS["no-ssa"][1]))
        if not topics:
            sentences.append(self.pick(_NOTHING))
        if self.f["TotalInsts"] < 60:
            sentences.append(self.pick(_SMALL))
        return " ".join(sentences)

    def headline(self, topic: str | None) -> str:
        """One observation sentence (the concise teacher's opening): the topic's, or that nothing stands out."""
        if topic is None:
            return self.pick(_NOTHING)
        if topic == "loops" and self.f["MaxLoopDepth"] < 2:
            topic = "flat-loops"
        return self.pick(_TOPICS[topic][1])

    def role(self, name: str, position: int, length: int, seen: set[str]) -> str:
        if position == 0:
            connector = self.rng.choice(_FIRST)
        elif position == length - 1:
            connector = self.rng.choice(_LAST)
        else:
            connector = self.rng.choice(_MIDDLE)
        if name in seen:
            clause = self.pick(_AGAIN, name=name)
        elif name in _PASS_ROLES:
            clause = self.rng.choice(_PASS_ROLES[name])
        else:
            p = lookup(name)
            clause = self.pick(_GENERIC_ROLES, name=name, description=p.description, category=p.category)
        return connector + clause

    def motive(self, category: str) -> str | None:
        """Why ``category`` should matter here, from the static feature it rests on (None if absent)."""
        if category not in _CATEGORY_MOTIVES:
            return None
        key, quoting, plain = _CATEGORY_MOTIVES[category]
        value = self.f.get(key, 0)
        if value <= 0:
            return None
        return self.pick(quoting + plain if value >= 2 else plain)

    def intents(self, intents: dict[str, float], templates: Sequence[str]) -> str:
        ranked = sorted(intents, key=lambda c: (-intents[c], list(CATEGORIES).index(c)))
        rest = self.pick(_REST, rest=_join(ranked[1:])) if len(ranked) > 1 else ""
        meaning = re.sub(r" \(.*\)$", "", CATEGORIES[ranked[0]])
        return self.pick(templates, top=ranked[0], meaning=meaning, rest=rest)

    def closing(self, sequence: Sequence[str]) -> str:
        return self.pick(_SEQUENCE, seq=", ".join(sequence))


def _running(start: Mapping, deltas: Sequence[Mapping]) -> list[dict]:
    """Counts before each step: ``start`` plus the cumulative deltas (numeric keys only)."""
    current = {k: v for k, v in start.items() if isinstance(v, (int, float))}
    out = []
    for delta in deltas:
        out.append(dict(current))
        for k, v in delta.items():
            if isinstance(v, (int, float)):
                current[k] = current.get(k, 0) + v
    return out


def pass_effects(entry: Mapping, before: Mapping[str, Mapping]) -> list[tuple[str, str, int, str]]:
    """Up to two of :data:`EFFECTS` for a pass's largest relative changes, as ``(source, key,
    direction, phrase)`` with the phrase's quantity filled in (no numbers)."""
    scored = []
    for order, (source, key, direction, phrase) in enumerate(EFFECTS):
        delta = entry.get(source, {}).get(key, 0)
        if not isinstance(delta, (int, float)) or delta * direction <= 0:
            continue
        base = max(abs(before[source].get(key, 0)), abs(delta))
        fraction = abs(delta) / base
        scored.append((-fraction, order, (source, key, direction, phrase.format(q=quantity(fraction)))))
    return [effect for _, _, effect in sorted(scored)[:2]]


#: |synergy| (fraction of -O3 cycles) above which an adjacent pair is described as a pair.
SYNERGY_THRESHOLD = 1e-3


@dataclass(frozen=True)
class PassFacts:
    """What the evidence says about one core pass, as a teacher words it: its largest
    ``effects`` (:func:`pass_effects`), its importance ``level`` (a key of :data:`TERSE_IMPORTANCE`)
    and whether it measurably ``enables`` the next pass (synergy above :data:`SYNERGY_THRESHOLD`)."""

    effects: list[tuple[str, str, int, str]]
    level: str
    enables: bool


def pass_facts(evidence: EvidenceRecord, core: Sequence[str]) -> list[PassFacts]:
    """:class:`PassFacts` of every pass of ``core`` (the evidence's core sequence)."""
    entries = evidence.passes
    before = {
        "structural": _running(evidence.structure, [e.get("structural", {}) for e in entries]),
        "features_delta": _running(evidence.features, [e.get("features_delta", {}) for e in entries]),
    }
    losses = [max(0.0, float(e["performance"]["removal_loss"])) for e in entries]
    top_loss = max(losses)
    key_position = losses.index(top_loss) if top_loss > 0 else -1
    synergy = {(s["first"], s["second"], i): s["synergy"] for i, s in enumerate(evidence.synergy)}
    facts = []
    for i, entry in enumerate(entries):
        facts.append(PassFacts(pass_effects(entry, {k: v[i] for k, v in before.items()}),
                               importance_level(entry, losses[i], top_loss, i == key_position),
                               i + 1 < len(core) and synergy.get((core[i], core[i + 1], i), 0.0) > SYNERGY_THRESHOLD))
    return facts


def importance_level(entry: Mapping, loss: float, top_loss: float, is_key: bool) -> str:
    """A pass's importance level from its marginal gain and its removal loss ``loss`` (clipped at
    0) against the largest removal loss of the sequence: ``enabler(-essential)`` when it gains
    nothing by itself, ``key`` for the largest loss, ``essential`` at >= half of it, ``important``
    at >= 15 %, else ``supporting``."""
    share = loss / top_loss if top_loss > 0 else 0.0
    essential = top_loss > 0 and share >= 0.5
    if float(entry["performance"]["marginal_gain"]) <= 0:
        return "enabler-essential" if essential else "enabler"
    if is_key:
        return "key"
    return "essential" if essential else "important" if share >= 0.15 else "supporting"


class EvidenceTeacher:
    """The offline teacher: writes the paper's simulated-prediction reasoning from the evidence,
    deterministically given (seed, program, variant, core sequence). Never quotes measured
    numbers; static feature counts of the user prompt may appear."""

    name = "evidence"

    def __init__(self, seed: int, *, concise: bool = False):
        self.seed = seed
        #: Short answers for small models on a CPU: one observation sentence, then one line per pass
        #: (its expected effects, its importance, the next pass it enables); the same evidence-grounded
        #: claims as the prose, about a quarter of the length.
        self.concise = concise

    def respond(self, evidence: EvidenceRecord, *, variant: str = "full") -> str:
        variant_parts(variant)
        core = core_sequence(evidence)
        if variant == "no-reasoning":
            return StrategistResponse(sequence=core).render()
        writer = _Writer(random.Random(f"{self.seed}|{evidence.program}|{variant}|{','.join(core)}"),
                         static_features(evidence))
        if variant in ("full", "brief"):
            intents = evidence_intents(evidence)
            reasoning = self._evidence_reasoning(writer, evidence, core, intents, brief=variant == "brief")
        else:
            intents = sequence_intents(core)
            reasoning = self._static_reasoning(writer, core, intents)
        return StrategistResponse(reasoning=reasoning, intents=intents, sequence=core).render()

    def _topics_for(self, writer: _Writer, intents: Mapping[str, float]) -> list[str]:
        scores = {t: sum(intents.get(c, 0.0) for c in cats) for t, (cats, _) in _TOPICS.items() if t not in _SUBTOPICS}
        chosen = [t for t in sorted(scores, key=lambda t: -scores[t]) if scores[t] > 0 and writer.topic_applies(t)]
        return chosen[:1 if self.concise else 3]

    def _evidence_reasoning(self, writer: _Writer, evidence: EvidenceRecord, core: tuple[str, ...],
                            intents: dict[str, float], *, brief: bool = False) -> str:
        """The ``full`` variant's reasoning; ``brief``: the concise form, with only the
        :data:`BRIEF_PASS_LINES` passes of the largest removal loss."""
        topics = self._topics_for(writer, intents)
        facts = [([e[3] for e in f.effects], f.level, f.enables) for f in pass_facts(evidence, core)]
        if self.concise or brief:
            losses = [max(0.0, float(e["performance"]["removal_loss"])) for e in evidence.passes]
            shown = set(sorted(range(len(core)), key=lambda i: (-losses[i], i))[:BRIEF_PASS_LINES]) if brief else None
            lines = [writer.headline(topics[0] if topics else None)]
            seen: set[str] = set()
            for i, (name, (effects, level, enables)) in enumerate(zip(core, facts)):
                what = ", ".join(effects) if effects else TERSE_NO_EFFECT
                if shown is None or i in shown:
                    lines.append(f"{i + 1}. {name}{' again' if name in seen else ''}: {what}; "
                                 f"{TERSE_IMPORTANCE[level]}" + (f"; enables {core[i + 1]}" if enables else "") + ".")
                seen.add(name)
            return "\n".join(lines)
        paragraphs = [writer.observations(topics)]
        seen = set()
        motivated: set[str] = set()
        for i, (name, (effects, level, enables)) in enumerate(zip(core, facts)):
            category = lookup(name).category
            sentences = [writer.role(name, i, len(core), seen)]
            sentences.append(writer.pick(_EFFECT_OPENERS, effects=" and ".join(effects)) if effects
                             else writer.pick(NO_EFFECT))
            if category not in motivated and name not in seen:
                motive = writer.motive(category)
                if motive:
                    sentences.append(motive)
                motivated.add(category)
            sentences.append(writer.pick(IMPORTANCE[level]))
            if enables:
                sentences.append(writer.pick(SYNERGY, first=name, second=core[i + 1], why=_enable_reason(core[i + 1])))
            seen.add(name)
            paragraphs.append(" ".join(sentences))
        paragraphs.append(writer.intents(intents, _INTENTS_FULL) + " " + writer.closing(core))
        return "\n\n".join(paragraphs)

    def _static_reasoning(self, writer: _Writer, core: tuple[str, ...], intents: dict[str, float]) -> str:
        topics = [t for t in _TOPICS
                  if t not in _SUBTOPICS and writer.topic_applies(t) and writer.static_relevance(t) > 0]
        topics.sort(key=lambda t: -writer.static_relevance(t))
        links = [i + 1 < len(core) and (lookup(name).category, lookup(core[i + 1]).category) in _GENERIC_ENABLES
                 for i, name in enumerate(core)]
        if self.concise:
            lines = [writer.headline(topics[0] if topics else None)]
            for i, name in enumerate(core):
                lines.append(f"{i + 1}. {name}: {lookup(name).category}" + (f"; prepares {core[i + 1]}" if links[i]
                                                                             else "") + ".")
            return "\n".join(lines)
        paragraphs = [writer.observations(topics[:3])]
        seen: set[str] = set()
        motivated: set[str] = set()
        for i, name in enumerate(core):
            category = lookup(name).category
            sentences = [writer.role(name, i, len(core), seen)]
            if category not in motivated and name not in seen:
                motive = writer.motive(category)
                if motive:
                    sentences.append(motive)
                motivated.add(category)
            if links[i]:
                sentences.append(writer.pick(_LINK, first=name, second=core[i + 1], why=_enable_reason(core[i + 1])))
            seen.add(name)
            paragraphs.append(" ".join(sentences))
        paragraphs.append(writer.intents(intents, _INTENTS_BLIND) + " " + writer.closing(core))
        return "\n\n".join(paragraphs)


# Measured numbers a teacher must not quote ------------------------------------------------------

_PERCENT = re.compile(r"\d+(?:\.\d+)?\s*(?:%|percent\b)")
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?!\w)")
_INTEGER = re.compile(r"(?<![\w.,])[+-]?\d{1,3}(?:,\d{3})+(?!\w|[.,]\d)|(?<![\w.,])[+-]?\d+(?!\w|[.,]\d)")


def _numbers(value) -> Iterable[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)


def quoted_measurements(text: str, evidence: EvidenceRecord) -> list[str]:
    """The measured numbers of ``evidence`` that ``text`` quotes: any percentage, cycle counts,
    gains/losses/synergies formatted with 1-4 decimals (also as percentages without the sign), and
    structural or feature deltas (signed, or unsigned >= 10). Numbers equal to a static count of the
    user prompt are allowed."""
    static = {int(n) for n in re.findall(r"\d+", user_prompt(evidence))}
    static |= {int(v) for v in _numbers([evidence.features, evidence.function_properties, evidence.structure])}
    cycles = {int(v) for v in _numbers(evidence.cycles)}
    for entry in evidence.passes:
        perf = entry.get("performance", {})
        cycles |= {int(perf[k]) for k in ("cycles_before", "cycles_after") if k in perf}
    for removal in evidence.pruning.get("removals", []):
        cycles |= {int(removal[k]) for k in ("cycles_with", "cycles_without") if k in removal}
    gains = [float(e.get("performance", {}).get(k)) for e in evidence.passes
             for k in ("marginal_gain", "removal_loss") if k in e.get("performance", {})]
    gains += [float(s[k]) for s in evidence.synergy
              for k in ("gain_pair", "gain_first", "gain_second", "synergy") if k in s]
    decimals = {f"{abs(scale * g):.{d}f}" for g in gains for d in range(1, 5) for scale in (1, 100)}
    deltas = {abs(int(v)) for e in evidence.passes
              for v in _numbers([e.get("structural", {}), e.get("features_delta", {})]) if v}

    found = [m.group(0) for m in _PERCENT.finditer(text)]
    found += [m.group(0) for m in _DECIMAL.finditer(text) if m.group(0) in decimals]
    for m in _INTEGER.finditer(text):
        token = m.group(0)
        value = int(token.replace(",", "").lstrip("+-"))
        if value in static:
            continue
        if value in cycles or (value in deltas and (token[0] in "+-" or value >= 10)):
            found.append(token)
    return found


# The HTTP teacher -----------------------------------------------------------------------------

_TEACHER_FULL = """You are writing one training example for the strategist described in the system prompt.
Below is privileged evidence of what the compiler measurably did to this program (JSON): the core passes in order, \
their structural and feature effects, how much each one is needed (removal_loss > 0 = needed), and which adjacent \
pairs reinforce each other (synergy > 0).
Write the <reasoning> as if you were predicting all of this from the program's static features alone (listed after \
the evidence): features, then which passes will matter and why (stated as predictions), how each pass enables the \
next, then the intents. Use the evidence to decide what to say, but never quote measured numbers: no cycle counts, \
no gains, no percentages, no deltas. Static feature counts may be quoted.
Then give <intents> (category weights summing to 1) and end with exactly this sequence:
<sequence>
{sequence}
</sequence>

Evidence:
{evidence}

The strategist sees only this:
{features}"""

_TEACHER_BLIND = """You are writing one training example for the strategist described in the system prompt.
Write the <reasoning> from the program's static features below and general knowledge of the passes only: features, \
then which passes will matter and why, how each pass enables the next, then the intents. Do not invent measurements.
Then give <intents> (category weights summing to 1) and end with exactly this sequence:
<sequence>
{sequence}
</sequence>

The strategist sees only this:
{features}"""

#: HTTP status codes worth retrying.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class HTTPTeacher:
    """A teacher behind any OpenAI-compatible endpoint (``POST {base_url}/chat/completions``).

    The API key is read from ``api_key_env`` at call time and sent as ``Authorization: Bearer``
    (no header when the variable is unset, as local servers need none). Requests use temperature
    0 and ``seed``. Replies are validated: the variant's parts must parse, the sequence must equal
    the core sequence, and (variant ``full``) the reasoning must quote no measured number; the
    canonical rendering of the parsed reply is returned. Connection errors and HTTP 408/429/5xx are
    retried ``max_retries`` times after ``backoff_s * 2**attempt`` seconds.
    """

    def __init__(self, base_url: str, model: str, api_key_env: str = "ECCO_TEACHER_API_KEY",
                 timeout_s: float = 120, max_retries: int = 2, *, seed: int = 0, backoff_s: float = 1.0):
        if not re.match(r"https?://", base_url):
            raise EccoError(f"teacher base_url '{base_url}' is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.seed = seed
        self.backoff_s = backoff_s
        self.name = f"http:{model}"

    def messages(self, evidence: EvidenceRecord, variant: str) -> list[dict]:
        """The chat messages sent for one evidence record and variant (the evidence as compact
        JSON with sorted keys, without the file's ``schema_version``)."""
        core = core_sequence(evidence)
        template = _TEACHER_FULL if variant == "full" else _TEACHER_BLIND
        measured = evidence.to_dict()
        del measured["schema_version"]
        instruction = template.format(sequence=", ".join(core), features=user_prompt(evidence),
                                      evidence=json.dumps(measured, sort_keys=True, separators=(",", ":")))
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": instruction}]

    def respond(self, evidence: EvidenceRecord, *, variant: str = "full") -> str:
        require = variant_parts(variant)
        core = core_sequence(evidence)
        if variant == "no-reasoning":
            return StrategistResponse(sequence=core).render()
        if variant == "brief":
            raise EccoError("dataset variant 'brief' is written by the evidence teacher only (dataset.teacher.kind: evidence)")
        content = self.complete(self.messages(evidence, variant), temperature=0, seed=self.seed)
        response = parse_response(content, require=require)
        if response.sequence != core:
            raise MalformedResponse(f"teacher sequence {', '.join(response.sequence)} differs from the core "
                                    f"sequence {', '.join(core)}")
        if variant == "full":
            leaked = quoted_measurements(response.reasoning, evidence)
            if leaked:
                raise MalformedResponse(f"teacher reasoning quotes measured numbers: {', '.join(leaked[:5])}")
        return response.render()

    def complete(self, messages: list[dict], **options) -> str:
        """The text of one chat completion of ``messages`` (the same endpoint, key and retries;
        ``options`` are further request fields, e.g. ``temperature``, ``top_p``, ``seed``,
        ``max_tokens``). :class:`EccoError` when the endpoint fails or the reply holds no text."""
        reply = self._post({"model": self.model, "messages": messages, **options})
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise EccoError(f"{self.base_url} reply has no choices[0].message.content: "
                            f"{one_line(json.dumps(reply), 200)}") from None
        if not isinstance(content, str):
            raise EccoError(f"{self.base_url} reply content is not text")
        return content

    def _post(self, body: dict) -> dict:
        url = f"{self.base_url}/chat/completions"
        data = json.dumps(body).encode()
        attempt = 0
        while True:
            headers = {"Content-Type": "application/json"}
            key = os.environ.get(self.api_key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                    payload = reply.read()
            except urllib.error.HTTPError as e:
                text = e.read().decode("utf-8", errors="replace")
                error = EccoError(f"{url} returned HTTP {e.code}: {one_line(text, 200)}")
                retry = e.code in RETRY_STATUSES
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as e:
                error = EccoError(f"{url} unreachable: {type(e).__name__}: {one_line(str(getattr(e, 'reason', e)), 200)}")
                retry = True
            else:
                try:
                    return json.loads(payload)
                except ValueError:  # not JSON, or not UTF-8
                    raise EccoError(f"{url} returned non-JSON: "
                                    f"{one_line(payload.decode('utf-8', errors='replace'), 200)}") from None
            if not retry or attempt >= self.max_retries:
                raise error
            time.sleep(self.backoff_s * 2 ** attempt)
            attempt += 1


def make_teacher(spec: Mapping, seed: int) -> Teacher:
    """The teacher a profile's ``dataset.teacher`` section names: ``{"kind": "evidence"}`` (optional
    ``concise``) or
    ``{"kind": "http", "base_url": ..., "model": ...}`` (optional ``api_key_env``, ``timeout_s``,
    ``max_retries``)."""
    kind = spec.get("kind")
    if kind == "evidence":
        return EvidenceTeacher(seed=seed, concise=bool(spec.get("concise", False)))
    if kind == "http":
        missing = [k for k in ("base_url", "model") if not spec.get(k)]
        if missing:
            raise EccoError(f"teacher kind 'http' needs {' and '.join(missing)} in the profile's dataset.teacher")
        options = {k: spec[k] for k in ("api_key_env", "timeout_s", "max_retries") if spec.get(k) is not None}
        return HTTPTeacher(spec["base_url"], spec["model"], seed=seed, **options)
    raise EccoError(f"unknown teacher kind {kind!r} (known: evidence, http)")

