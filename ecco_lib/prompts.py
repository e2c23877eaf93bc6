"""The strategist's prompts: the system prompt (task, categories, the response format of
:mod:`ecco_lib.response`) and the user prompt, which shows a program's *static* features only —
never measured evidence."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Mapping

from ecco_lib.errors import BadEvidenceError
from ecco_lib.llvm.passes import CATEGORIES

if TYPE_CHECKING:
    from ecco_lib.evidence import EvidenceRecord

SYSTEM_PROMPT = (
    "You are the strategist of an LLVM 19 phase-ordering system. From the static features of an "
    "unoptimized program, predict which opt passes will lower its estimated cycle count (llvm-mca) "
    "below opt -O3. Reason from the features to the passes that will matter and why, then give "
    "optimization intents (weights over pass categories, summing to 1) and an ordered pass sequence.\n\n"
    f"Categories: {', '.join(CATEGORIES)}.\n\n"
    "Answer in exactly this format:\n"
    "<reasoning>\nyour reasoning\n</reasoning>\n"
    "<intents>\ncategory: weight\n...\n</intents>\n"
    "<sequence>\npass, pass, ...\n</sequence>"
)

#: Autophase features the prompts and teachers read (all must be present).
PROMPT_FEATURES = (
    "TotalFuncs", "TotalBlocks", "TotalInsts", "NumAllocaInst", "NumLoadInst", "NumStoreInst",
    "NumGetElementPtrInst", "NumPHIInst", "NumBrInst", "twoSuccessor", "CriticalCount", "NumCallInst",
    "NumAddInst", "NumSubInst", "NumMulInst", "NumShlInst", "NumAShrInst", "NumLShrInst", "NumICmpInst",
    "NumSelectInst", "NumSExtInst", "NumZExtInst", "NumTruncInst", "NumBitCastInst", "const32Bit",
    "const64Bit", "binaryConstArg",
)
#: Function properties (``print<func-properties>``) used when present.
PROMPT_PROPERTIES = ("TopLevelLoopCount", "MaxLoopDepth", "DirectCallsToDefinedFunctions")


def counted(value: int, noun: str) -> str:
    """"1 noun" or "3 nouns" (English plural of the last word)."""
    if value != 1:
        noun += "es" if re.search(r"(s|x|ch|sh)$", noun) else "s"
    return f"{value} {noun}"


def static_features(source: EvidenceRecord | Mapping[str, int]) -> dict[str, int]:
    """The static features the prompt shows: :data:`PROMPT_FEATURES` (required) plus the
    :data:`PROMPT_PROPERTIES` present. ``source`` is an evidence record (its ``features`` and
    ``function_properties``) or one flat mapping of Autophase names and function properties."""
    if isinstance(source, Mapping):
        flat = dict(source)
    else:
        flat = {**source.function_properties, **source.features}
    missing = [f for f in PROMPT_FEATURES if f not in flat]
    if missing:
        raise BadEvidenceError(f"static features lack {', '.join(missing[:5])}"
                               f"{' ...' if len(missing) > 5 else ''} (need the Autophase features)")
    out = {}
    for name in PROMPT_FEATURES + tuple(p for p in PROMPT_PROPERTIES if p in flat):
        value = flat[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
            raise BadEvidenceError(f"static feature {name} is {value!r}, not a non-negative count")
        out[name] = int(value)
    return out


def user_prompt(source: EvidenceRecord | Mapping[str, int]) -> str:
    """The strategist's user message: the program's *static* features only (never the evidence),
    a compact deterministic listing of the most informative ones."""
    f = static_features(source)
    lines = ["Static features of the unoptimized program:",
             f"size: {counted(f['TotalFuncs'], 'function')}, {counted(f['TotalBlocks'], 'block')}, "
             f"{counted(f['TotalInsts'], 'instruction')}"]
    if "TopLevelLoopCount" in f and "MaxLoopDepth" in f:
        lines.append(f"loops: {f['TopLevelLoopCount']} top-level, max depth {f['MaxLoopDepth']}")
    lines.append(f"memory: {counted(f['NumAllocaInst'], 'alloca')}, {counted(f['NumLoadInst'], 'load')}, "
                 f"{counted(f['NumStoreInst'], 'store')}, {counted(f['NumGetElementPtrInst'], 'getelementptr')}")
    lines.append(f"control flow: {counted(f['NumPHIInst'], 'phi')}, {counted(f['NumBrInst'], 'branch')} "
                 f"({f['twoSuccessor']} conditional), {counted(f['CriticalCount'], 'critical edge')}")
    calls = f"calls: {f['NumCallInst']}"
    if "DirectCallsToDefinedFunctions" in f:
        calls += f" ({f['DirectCallsToDefinedFunctions']} to functions defined here)"
    lines.append(calls)
    shifts = f["NumShlInst"] + f["NumAShrInst"] + f["NumLShrInst"]
    casts = f["NumSExtInst"] + f["NumZExtInst"] + f["NumTruncInst"] + f["NumBitCastInst"]
    lines.append(f"arithmetic: {counted(f['NumAddInst'], 'add')}, {counted(f['NumSubInst'], 'sub')}, "
                 f"{counted(f['NumMulInst'], 'mul')}, {counted(shifts, 'shift')}, "
                 f"{counted(f['NumICmpInst'], 'compare')}, {counted(f['NumSelectInst'], 'select')}, "
                 f"{counted(casts, 'cast')}")
    lines.append(f"constants: {f['const32Bit']} 32-bit and {f['const64Bit']} 64-bit operands, "
                 f"{counted(f['binaryConstArg'], 'binary op')} with a constant operand")
    lines.append("Predict the passes that will matter, then give intents and the sequence.")
    return "\n".join(lines)

