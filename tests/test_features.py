"""Static features on hand-written modules whose counts are known, on CompilerGym's own crc32
bitcode, and against LLVM 19's own analyses (func-properties, LoopInfo)."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from ecco_lib.errors import EccoError
from ecco_lib.features import (AUTOPHASE_FEATURES, AUTOPHASE_MEANING, autophase, autophase_vector,
                               function_properties, ir_structure, structure_delta)
from ecco_lib.llvm import Pipeline, find_toolchain
from ecco_lib.llvm.steps import run_opt

DIAMOND = """
define i32 @diamond(i1 %c, i32 %a) {
entry:
  br i1 %c, label %then, label %else
then:
  %t = add i32 %a, 1
  br label %join
else:
  %e = mul i32 %a, %a
  br label %join
join:
  %p = phi i32 [ %t, %then ], [ %e, %else ]
  ret i32 %p
}
"""

# outer: 2 preds 1 succ; inner: 2 preds 2 succs (self loop); latch: 1 pred 2 succs; 2 critical
# edges (inner -> inner, latch -> outer); two natural loops, one nested in the other.
NESTED_LOOPS = """
define i64 @nested(i64 %n) {
entry:
  br label %outer
outer:
  %i = phi i64 [ 0, %entry ], [ %i.next, %latch ]
  %sum = phi i64 [ 0, %entry ], [ %sum.inner, %latch ]
  br label %inner
inner:
  %j = phi i64 [ 0, %outer ], [ %j.next, %inner ]
  %sum.in = phi i64 [ %sum, %outer ], [ %sum.inner, %inner ]
  %prod = mul i64 %i, %j
  %sum.inner = xor i64 %sum.in, %prod
  %j.next = add i64 %j, 1
  %j.done = icmp eq i64 %j.next, %n
  br i1 %j.done, label %latch, label %inner
latch:
  %i.next = add i64 %i, 1
  %i.done = icmp eq i64 %i.next, %n
  br i1 %i.done, label %exit, label %outer
exit:
  ret i64 %sum.inner
}
"""

# Three of the five switch edges go to %small: morePreds, and three critical edges.
SWITCH = """
define i32 @classify(i32 %x) {
entry:
  switch i32 %x, label %other [
    i32 0, label %zero
    i32 1, label %small
    i32 2, label %small
    i32 3, label %small
  ]
zero:
  ret i32 10
small:
  ret i32 20
other:
  ret i32 30
}
"""

# Four phis with eight incoming values in one block.
MANY_PHIS = """
define i32 @many_phis(i1 %c, i32 %a) {
entry:
  br i1 %c, label %left, label %merge
left:
  br label %merge
merge:
  %p1 = phi i32 [ %a, %left ], [ 1, %entry ]
  %p2 = phi i32 [ %a, %left ], [ 2, %entry ]
  %p3 = phi i32 [ %a, %left ], [ 3, %entry ]
  %p4 = phi i32 [ %a, %left ], [ 4, %entry ]
  %s1 = add i32 %p1, %p2
  %s2 = add i32 %s1, %p3
  %s3 = add i32 %s2, %p4
  ret i32 %s3
}
"""

# One 27-instruction block: calls returning int/void, direct/indirect, constants of 32 and 64 bits,
# casts, shifts, a lifetime marker (whose i64 size LLVM 22 drops) and declarations.
CALLS = """
declare i32 @ext(i32)
declare void @sink(i64)
declare double @unused(double)
declare void @llvm.lifetime.start.p0(i64 immarg, ptr nocapture)

define void @calls(ptr %p, ptr %fp) {
entry:
  %slot = alloca i64, align 8
  call void @llvm.lifetime.start.p0(i64 8, ptr %slot)
  store i64 4294967296, ptr %slot, align 8
  %v = load i64, ptr %slot, align 8
  call void @sink(i64 %v)
  %r = call i32 @ext(i32 7)
  %ind = call i32 %fp(i32 0)
  %q = getelementptr inbounds i32, ptr %p, i64 1
  %w = load i32, ptr %q, align 4
  %fr = freeze i32 %w
  %s = sext i32 %fr to i64
  %tr = trunc i64 %s to i16
  %z = zext i16 %tr to i32
  %b = bitcast i32 %z to float
  %f = fneg float %b
  %sh = shl i32 %r, 3
  %as = ashr i32 %sh, 1
  %ls = lshr i32 %as, 2
  %an = and i32 %ls, 255
  %o = or i32 %an, %ind
  %sub = sub i32 0, %o
  %cmp = icmp slt i32 %sub, 0
  %sel = select i1 %cmp, i32 %sub, i32 %o
  %fx = fadd float %f, 1.0
  store float %fx, ptr %p, align 4
  store i32 %sel, ptr %p, align 4
  ret void
}
"""

UNARY = """
define i32 @unary({ i32, i32 } %pair, ptr %ap) {
entry:
  %x = extractvalue { i32, i32 } %pair, 1
  %y = va_arg ptr %ap, i32
  %s = add i32 %x, %y
  ret i32 %s
}
"""

# A cycle with two entries: no natural loop (LoopInfo finds none either).
IRREDUCIBLE = """
define void @irreducible(i1 %c) {
entry:
  br i1 %c, label %a, label %b
a:
  br i1 %c, label %b, label %exit
b:
  br i1 %c, label %a, label %exit
exit:
  ret void
}
"""

#: The nonzero features of each module, counted by hand.
EXPECTED = {
    "diamond": (DIAMOND, {
        "BBNumArgsLo": 1, "onePred": 2, "onePredOneSuc": 2, "oneSuccessor": 2, "twoPred": 1,
        "twoSuccessor": 1, "BB03Phi": 1, "BBNoPhi": 3, "BeginPhi": 1, "BranchCount": 3, "NumEdges": 4,
        "const32Bit": 1, "numConstOnes": 1, "UncondBranches": 2, "binaryConstArg": 1, "NumAddInst": 1,
        "BlockLow": 4, "NumBrInst": 3, "NumMulInst": 1, "NumPHIInst": 1, "NumRetInst": 1, "TotalBlocks": 4,
        "TotalInsts": 7, "TotalFuncs": 1, "ArgsPhi": 2}),
    "nested": (NESTED_LOOPS, {
        "BBNumArgsLo": 2, "onePred": 2, "onePredTwoSuc": 1, "oneSuccessor": 2, "twoPred": 2,
        "twoPredOneSuc": 1, "twoEach": 1, "twoSuccessor": 2, "BB03Phi": 2, "BBNoPhi": 3, "BeginPhi": 2,
        "BranchCount": 4, "CriticalCount": 2, "NumEdges": 6, "const64Bit": 5, "numConstZeroes": 3,
        "numConstOnes": 2, "UncondBranches": 2, "binaryConstArg": 2, "NumAddInst": 2, "BlockLow": 5,
        "NumBrInst": 4, "NumICmpInst": 2, "NumMulInst": 1, "NumPHIInst": 4, "NumRetInst": 1, "NumXorInst": 1,
        "TotalBlocks": 5, "TotalInsts": 15, "TotalFuncs": 1, "ArgsPhi": 8}),
    "switch": (SWITCH, {
        "onePred": 2, "morePreds": 1, "BBNoPhi": 4, "CriticalCount": 3, "NumEdges": 5, "const32Bit": 7,
        "numConstZeroes": 1, "numConstOnes": 1, "BlockLow": 4, "NumRetInst": 3, "TotalBlocks": 4,
        "TotalInsts": 4, "TotalFuncs": 1}),
    "many_phis": (MANY_PHIS, {
        "BBNumArgsHi": 1, "onePred": 1, "onePredOneSuc": 1, "oneSuccessor": 1, "twoPred": 1, "twoSuccessor": 1,
        "BBHiPhi": 1, "BBNoPhi": 2, "BeginPhi": 1, "BranchCount": 2, "CriticalCount": 1, "NumEdges": 3,
        "const32Bit": 4, "numConstOnes": 1, "UncondBranches": 1, "NumAddInst": 3, "BlockLow": 3, "NumBrInst": 2,
        "NumPHIInst": 4, "NumRetInst": 1, "TotalBlocks": 3, "TotalInsts": 10, "TotalFuncs": 1, "ArgsPhi": 8}),
    "calls": (CALLS, {
        "BBNoPhi": 1, "returnInt": 1, "const32Bit": 9, "const64Bit": 3, "numConstZeroes": 3, "numConstOnes": 3,
        "binaryConstArg": 6, "NumAShrInst": 1, "NumAllocaInst": 1, "NumAndInst": 1, "BlockMid": 1,
        "NumBitCastInst": 1, "NumCallInst": 4, "NumGetElementPtrInst": 1, "NumICmpInst": 1, "NumLShrInst": 1,
        "NumLoadInst": 2, "NumOrInst": 1, "NumRetInst": 1, "NumSExtInst": 1, "NumSelectInst": 1, "NumShlInst": 1,
        "NumStoreInst": 3, "NumSubInst": 1, "NumTruncInst": 1, "NumZExtInst": 1, "TotalBlocks": 1,
        "TotalInsts": 27, "TotalMemInst": 11, "TotalFuncs": 5, "testUnary": 8}),
    "unary": (UNARY, {
        "BBNoPhi": 1, "NumAddInst": 1, "BlockLow": 1, "NumRetInst": 1, "TotalBlocks": 1, "TotalInsts": 4,
        "TotalFuncs": 1, "testUnary": 2}),
}

#: CompilerGym 0.2.5's Autophase vector of its cBench crc32 bitcode, as printed by CompilerGym's own
#: compute_observation binary (LLVM 10).
CGYM_CRC32_AUTOPHASE = [0, 0, 16, 12, 2, 16, 8, 2, 4, 8, 0, 0, 0, 29, 0, 24, 9, 2, 32, 44, 41, 14, 36, 16, 13, 0,
                        5, 26, 3, 5, 24, 20, 24, 33, 5, 10, 3, 51, 0, 1, 0, 5, 0, 0, 0, 42, 0, 1, 8, 5, 29, 242,
                        157, 15, 0, 103]


def nonzero(features: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in features.items() if v}


def opt_output(ir: bytes, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([find_toolchain().opt, *args, "-"], input=ir, capture_output=True, check=True)


def llvm_loop_count(ir: bytes) -> int:
    """Loops in LLVM 19's LoopInfo printout (nested ones included)."""
    printed = opt_output(ir, "-passes=print<loops>", "-disable-output").stderr.decode()
    return len(re.findall(r"Loop at depth \d+", printed))


def test_feature_names_are_compilergyms_56_in_order():
    assert len(AUTOPHASE_FEATURES) == len(set(AUTOPHASE_FEATURES)) == 56
    assert AUTOPHASE_FEATURES[:3] == ("BBNumArgsHi", "BBNumArgsLo", "onePred")
    assert AUTOPHASE_FEATURES[-4:] == ("TotalMemInst", "TotalFuncs", "ArgsPhi", "testUnary")
    assert set(AUTOPHASE_MEANING) == set(AUTOPHASE_FEATURES) and all(AUTOPHASE_MEANING.values())


@pytest.mark.parametrize("name", EXPECTED)
def test_hand_written_modules_have_the_counted_features(name):
    source, expected = EXPECTED[name]
    features = autophase(source.encode())
    assert list(features) == list(AUTOPHASE_FEATURES)
    assert nonzero(features) == expected


def test_the_hand_written_modules_exercise_every_feature():
    exercised = set().union(*(expected for _, expected in EXPECTED.values()))
    assert exercised == set(AUTOPHASE_FEATURES)


def test_matches_compilergyms_own_autophase_on_its_crc32_bitcode(cgym_crc32_bc):
    assert autophase_vector(cgym_crc32_bc).tolist() == CGYM_CRC32_AUTOPHASE


def test_vector_is_int64_in_feature_order():
    vector = autophase_vector(CALLS)
    assert vector.dtype == np.int64 and vector.shape == (56,)
    assert vector.tolist() == list(autophase(CALLS).values())
    assert vector[AUTOPHASE_FEATURES.index("TotalInsts")] == 27


def test_bitcode_and_text_of_one_module_give_identical_features(small_program):
    assert small_program.ir[:4] == b"BC\xc0\xde"
    text = opt_output(small_program.ir, "-S").stdout
    assert text.startswith(b"; ModuleID")
    assert autophase(small_program.ir) == autophase(text)
    assert ir_structure(small_program.ir) == ir_structure(text)
    assert autophase(small_program.ir)["TotalInsts"] > 50


def test_ir_structure_of_nested_loops():
    structure = ir_structure(NESTED_LOOPS)
    assert structure == {
        "instructions": 15, "blocks": 5, "functions": 1, "calls": 0, "phis": 4, "loads": 0, "stores": 0,
        "allocas": 0, "memory_ops": 0, "branches": 4, "loops": 2,
        "opcodes": {"add": 2, "br": 4, "icmp": 2, "mul": 1, "phi": 4, "ret": 1, "xor": 1}}


def test_declarations_count_in_total_funcs_but_not_as_functions():
    structure = ir_structure(CALLS)
    assert structure["functions"] == 1 and autophase(CALLS)["TotalFuncs"] == 5
    assert (structure["calls"], structure["loads"], structure["stores"], structure["allocas"]) == (4, 2, 3, 1)
    assert structure["memory_ops"] == 5 and structure["branches"] == 0
    # unnamed functions are distinct; an unused lifetime declaration is one function, although
    # LLVM 22 reads it as a leftover declaration under another name
    unnamed = ("define void @0() {\n  ret void\n}\ndefine void @1() {\n  ret void\n}\n"
               "declare void @llvm.lifetime.start.p0(i64 immarg, ptr nocapture)\n")
    assert autophase(unnamed)["TotalFuncs"] == 3 and ir_structure(unnamed)["functions"] == 2


@pytest.mark.parametrize("name", ["nested", "irreducible", "small", "small-O3"])
def test_loops_agree_with_llvm_loopinfo(name, small_program):
    ir = {"nested": NESTED_LOOPS.encode(), "irreducible": IRREDUCIBLE.encode(), "small": small_program.ir,
          "small-O3": run_opt(small_program.ir, Pipeline.of_level("O3").opt_text, 60)["ir"]}[name]
    assert ir_structure(ir)["loops"] == llvm_loop_count(ir)
    assert ir_structure(ir)["loops"] == {"nested": 2, "irreducible": 0, "small": 3, "small-O3": 3}[name]


def test_function_properties_of_nested_loops():
    props = function_properties(NESTED_LOOPS)
    assert props["Functions"] == 1 and len(props) == 1 + 44  # Functions + the 44 detailed properties
    assert (props["MaxLoopDepth"], props["TopLevelLoopCount"]) == (2, 1)
    assert props["TotalInstructionCount"] == ir_structure(NESTED_LOOPS)["instructions"] == 15
    assert props["BasicBlockCount"] == 5 and props["CriticalEdgeCount"] == 2


def test_function_properties_agree_with_autophase_and_structure(small_program):
    props = function_properties(small_program.ir)
    features, structure = autophase(small_program.ir), ir_structure(small_program.ir)
    assert props["Functions"] == structure["functions"] == 3
    assert props["TotalInstructionCount"] == structure["instructions"] == features["TotalInsts"]
    assert props["BasicBlockCount"] == structure["blocks"]
    assert props["LoadInstCount"] == structure["loads"] and props["StoreInstCount"] == structure["stores"]
    assert props["ControlFlowEdgeCount"] == features["NumEdges"]
    assert props["CriticalEdgeCount"] == features["CriticalCount"]
    assert props["UnconditionalBranchCount"] == features["UncondBranches"]
    assert props["BasicBlocksWithSinglePredecessor"] == features["onePred"]
    assert props["BasicBlocksWithTwoSuccessors"] == features["twoSuccessor"]
    # MaxLoopDepth is a maximum over functions, not a sum: main and fold each have depth-1 loops
    assert props["MaxLoopDepth"] == 1 and props["TopLevelLoopCount"] == 3


def test_structure_delta_keeps_only_changes():
    before = ir_structure(NESTED_LOOPS)
    after = ir_structure(run_opt(NESTED_LOOPS.encode(), Pipeline.of_passes("loop-rotate,instcombine").opt_text,
                                 60)["ir"])
    delta = structure_delta(before, after)
    for key, change in delta.items():
        if key == "opcodes":
            assert change and all(change.values())
            assert all(after["opcodes"].get(op, 0) - before["opcodes"].get(op, 0) == d for op, d in change.items())
        else:
            assert change != 0 and after[key] - before[key] == change
    assert structure_delta(before, before) == {}
    assert structure_delta({"loops": 2, "opcodes": {"add": 1}}, {"loops": 1, "opcodes": {"add": 1, "mul": 2}}) == \
        {"loops": -1, "opcodes": {"mul": 2}}


def test_unparsable_ir_is_a_one_line_user_error():
    with pytest.raises(EccoError, match="cannot parse LLVM IR") as caught:
        autophase(b"define i32 @f( {")
    assert "\n" not in str(caught.value)
    with pytest.raises(EccoError, match="opt cannot read the IR"):
        function_properties(b"BC\xc0\xde truncated bitcode")
