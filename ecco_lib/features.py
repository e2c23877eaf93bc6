"""Static features of LLVM IR: CompilerGym's 56 Autophase counters, LLVM's function properties, and a
compact structural summary (and its diff) used as structural evidence.

Autophase
---------
:data:`AUTOPHASE_FEATURES` lists CompilerGym's 56 features in its vector order; :func:`autophase`
computes them with llvmlite's IR parser (llvmlite 0.50 bundles LLVM 22, which reads LLVM 10-19
bitcode and LLVM 19 text). The definitions follow CompilerGym's Autophase pass and were checked
against CompilerGym 0.2.5's own ``compute_observation`` binary (LLVM 10) on hand-written modules and
on its cBench crc32 bitcode. All counts are module-wide; "operands" are LLVM ``User`` operands, so a
``phi`` has one operand per incoming value and an ``alloca`` has its implicit ``i32 1`` element count.
Where CompilerGym's behaviour differs from the names, we follow the behaviour:

- ``TotalFuncs`` counts every function *including declarations* (CompilerGym counts them too).
- ``BeginPhi`` counts blocks whose first instruction is a phi, not phi nodes.
- ``returnInt`` counts direct calls of a function returning an integer (``i1`` included); indirect
  calls never count.
- ``binaryConstArg`` counts binary operators (integer and floating point) with at least one
  ``Constant`` operand (``undef``, FP constants and globals included).
- ``testUnary`` counts ``alloca``, ``load``, every cast, ``va_arg``, ``extractvalue`` and ``fneg``;
  not ``freeze``.
- ``TotalMemInst`` = ``alloca`` + ``load`` + ``store`` + ``getelementptr`` + ``call`` + ``invoke``
  (LLVM's InstCount definition; atomics and fences are not counted).
- ``const32Bit``/``const64Bit``/``numConstZeroes``/``numConstOnes`` count ``ConstantInt`` operands by
  bit width and by value; constants nested in constant expressions are not operands and do not count.
- Predecessors and successors are counted per CFG edge, so two edges from one switch to one block
  count twice; ``CriticalCount`` counts edges from a block with >= 2 successors to a block with
  >= 2 predecessors.

Differences from CompilerGym's LLVM 10 values for the same program:

- With opaque pointers (LLVM >= 15) pointer-to-pointer bitcasts no longer exist, so
  ``NumBitCastInst`` (and ``testUnary``, ``TotalInsts``) count only value casts such as
  ``float`` <-> ``i32`` in IR produced by LLVM 19. LLVM 10 bitcode read here keeps its bitcasts.
- LLVM 22 drops the ``i64`` size operand of ``llvm.lifetime.start/end`` calls. ``const64Bit`` adds it
  back (one per call, as LLVM 10 and 19 count it), but its value is lost, so a marker of a 1-byte
  object (size operand ``i64 1``) is missing from ``numConstOnes``. The upgrade also leaves a
  second, unused declaration of each lifetime intrinsic (``llvm.lifetime.start.i64``);
  ``TotalFuncs`` counts the pair once.
- LLVM 22 no longer stores ``switch`` case values as operands; they are read back from the printed
  instruction and counted as CompilerGym counts them.
- Debug-info intrinsics are debug records in LLVM 22, not instructions: for IR built with ``-g``,
  ``NumCallInst``, ``TotalInsts`` and ``TotalMemInst`` are lower here than CompilerGym's.

Other summaries
---------------
:func:`function_properties` is LLVM 19's own ``print<func-properties>`` analysis summed over
functions. :func:`ir_structure` counts instructions, blocks, calls, memory operations and loops
(natural loops: one per header with a back edge from a block it dominates, computed from dominators
in Python, as LLVM's LoopInfo defines them); :func:`structure_delta` diffs two such summaries.
"""

from __future__ import annotations

import ctypes
import re
import subprocess
from dataclasses import dataclass, field

import llvmlite.binding as llvm
import numpy as np
from llvmlite.binding import ffi

from ecco_lib.errors import BadProgramError
from ecco_lib.llvm.steps import first_error_line
from ecco_lib.llvm.toolchain import find_toolchain

#: CompilerGym's Autophase features, in its observation-vector order.
AUTOPHASE_FEATURES: tuple[str, ...] = (
    "BBNumArgsHi", "BBNumArgsLo", "onePred", "onePredOneSuc", "onePredTwoSuc", "oneSuccessor",
    "twoPred", "twoPredOneSuc", "twoEach", "twoSuccessor", "morePreds", "BB03Phi", "BBHiPhi",
    "BBNoPhi", "BeginPhi", "BranchCount", "returnInt", "CriticalCount", "NumEdges", "const32Bit",
    "const64Bit", "numConstZeroes", "numConstOnes", "UncondBranches", "binaryConstArg",
    "NumAShrInst", "NumAddInst", "NumAllocaInst", "NumAndInst", "BlockMid", "BlockLow",
    "NumBitCastInst", "NumBrInst", "NumCallInst", "NumGetElementPtrInst", "NumICmpInst",
    "NumLShrInst", "NumLoadInst", "NumMulInst", "NumOrInst", "NumPHIInst", "NumRetInst",
    "NumSExtInst", "NumSelectInst", "NumShlInst", "NumStoreInst", "NumSubInst", "NumTruncInst",
    "NumXorInst", "NumZExtInst", "TotalBlocks", "TotalInsts", "TotalMemInst", "TotalFuncs",
    "ArgsPhi", "testUnary",
)

#: The opcode each ``Num<Opcode>Inst`` feature counts.
_OPCODE_FEATURES: dict[str, str] = {
    "ashr": "NumAShrInst", "add": "NumAddInst", "alloca": "NumAllocaInst", "and": "NumAndInst",
    "bitcast": "NumBitCastInst", "br": "NumBrInst", "call": "NumCallInst",
    "getelementptr": "NumGetElementPtrInst", "icmp": "NumICmpInst", "lshr": "NumLShrInst",
    "load": "NumLoadInst", "mul": "NumMulInst", "or": "NumOrInst", "phi": "NumPHIInst",
    "ret": "NumRetInst", "sext": "NumSExtInst", "select": "NumSelectInst", "shl": "NumShlInst",
    "store": "NumStoreInst", "sub": "NumSubInst", "trunc": "NumTruncInst", "xor": "NumXorInst",
    "zext": "NumZExtInst",
}

#: One line per feature: what it counts (module-wide).
AUTOPHASE_MEANING: dict[str, str] = {
    "BBNumArgsHi": "blocks whose phi nodes have more than 5 incoming values in total",
    "BBNumArgsLo": "blocks whose phi nodes have 1 to 5 incoming values in total",
    "onePred": "blocks with exactly 1 predecessor edge",
    "onePredOneSuc": "blocks with 1 predecessor and 1 successor",
    "onePredTwoSuc": "blocks with 1 predecessor and 2 successors",
    "oneSuccessor": "blocks with exactly 1 successor edge",
    "twoPred": "blocks with exactly 2 predecessor edges",
    "twoPredOneSuc": "blocks with 2 predecessors and 1 successor",
    "twoEach": "blocks with 2 predecessors and 2 successors",
    "twoSuccessor": "blocks with exactly 2 successor edges",
    "morePreds": "blocks with more than 2 predecessor edges",
    "BB03Phi": "blocks with 1 to 3 phi nodes",
    "BBHiPhi": "blocks with more than 3 phi nodes",
    "BBNoPhi": "blocks without phi nodes",
    "BeginPhi": "blocks whose first instruction is a phi node",
    "BranchCount": "br instructions (conditional and unconditional)",
    "returnInt": "direct calls of functions that return an integer",
    "CriticalCount": "critical CFG edges (from a block with >= 2 successors to one with >= 2 predecessors)",
    "NumEdges": "CFG edges (successor slots of all terminators)",
    "const32Bit": "32-bit integer constant operands",
    "const64Bit": "64-bit integer constant operands",
    "numConstZeroes": "integer constant operands equal to 0",
    "numConstOnes": "integer constant operands equal to 1",
    "UncondBranches": "unconditional br instructions",
    "binaryConstArg": "binary operators (integer or floating point) with a constant operand",
    "BlockMid": "blocks with 15 to 500 instructions",
    "BlockLow": "blocks with fewer than 15 instructions",
    "TotalBlocks": "basic blocks",
    "TotalInsts": "instructions",
    "TotalMemInst": "alloca, load, store, getelementptr, call and invoke instructions",
    "TotalFuncs": "functions, declarations included",
    "ArgsPhi": "incoming values of all phi nodes",
    "testUnary": "unary instructions: alloca, load, casts, va_arg, extractvalue, fneg",
    **{feature: f"{opcode} instructions" for opcode, feature in _OPCODE_FEATURES.items()},
}

_BINARY_OPCODES = frozenset({"add", "fadd", "sub", "fsub", "mul", "fmul", "udiv", "sdiv", "fdiv", "urem",
                             "srem", "frem", "shl", "lshr", "ashr", "and", "or", "xor"})
_CAST_OPCODES = frozenset({"trunc", "zext", "sext", "fptrunc", "fpext", "fptoui", "fptosi", "uitofp",
                           "sitofp", "ptrtoint", "inttoptr", "bitcast", "addrspacecast"})
_UNARY_OPCODES = _CAST_OPCODES | {"alloca", "load", "va_arg", "extractvalue", "fneg"}
_AUTOPHASE_MEMORY_OPCODES = frozenset({"alloca", "load", "store", "getelementptr", "call", "invoke"})
#: ir_structure's groups.
_CALL_OPCODES = frozenset({"call", "invoke", "callbr"})
_MEMORY_ACCESS_OPCODES = frozenset({"load", "store", "atomicrmw", "cmpxchg"})
_BRANCH_OPCODES = frozenset({"br", "switch", "indirectbr"})

#: Lifetime intrinsics: LLVM <= 21 passes them an ``i64`` size operand that LLVM 22 drops.
_LIFETIME_MARKERS = frozenset({b"llvm.lifetime.start.p0", b"llvm.lifetime.end.p0"})
#: LLVM 22's upgrade of an LLVM <= 21 module leaves this unused declaration beside the new one.
_UPGRADE_LEFTOVERS = {b"llvm.lifetime.start.i64": b"llvm.lifetime.start.p0",
                      b"llvm.lifetime.end.i64": b"llvm.lifetime.end.p0"}

# llvm-c's LLVMValueKind and LLVMTypeKind values (stable across LLVM versions).
_KIND_BASIC_BLOCK = 1
_KIND_FUNCTION = 5
_KIND_CONSTANT_INT = 18
_CONSTANT_KINDS = frozenset(range(5, 22)) | {25, 26, 27}  # functions, globals, constants, poison
_TYPE_INTEGER = 8

_SWITCH_CASE = re.compile(r"\bi(\d+) (-?\d+|true|false), label ")
_BITCODE_MAGIC = b"BC\xc0\xde"
_BITCODE_WRAPPER_MAGIC = b"\xde\xc0\x17\x0b"


class _CApi:
    """llvmlite's C entry points with plain ``void*`` signatures: the object wrappers of
    ``llvmlite.binding`` cost ~10 µs per value, too slow to run after every pass."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(ffi.lib._name, handle=ffi.lib._handle)
        vp, i32, u32, u64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint64

        def fn(name, restype, *argtypes):
            f = lib[name]  # a fresh function object: llvmlite's own prototypes stay untouched
            f.restype, f.argtypes = restype, list(argtypes)
            return f

        self.functions = fn("LLVMPY_ModuleFunctionsIter", vp, vp)
        self.next_function = fn("LLVMPY_FunctionsIterNext", vp, vp)
        self.dispose_functions = fn("LLVMPY_DisposeFunctionsIter", None, vp)
        self.blocks = fn("LLVMPY_FunctionBlocksIter", vp, vp)
        self.next_block = fn("LLVMPY_BlocksIterNext", vp, vp)
        self.dispose_blocks = fn("LLVMPY_DisposeBlocksIter", None, vp)
        self.instructions = fn("LLVMPY_BlockInstructionsIter", vp, vp)
        self.next_instruction = fn("LLVMPY_InstructionsIterNext", vp, vp)
        self.dispose_instructions = fn("LLVMPY_DisposeInstructionsIter", None, vp)
        self.operands = fn("LLVMPY_InstructionOperandsIter", vp, vp)
        self.next_operand = fn("LLVMPY_OperandsIterNext", vp, vp)
        self.dispose_operands = fn("LLVMPY_DisposeOperandsIter", None, vp)
        self.opcode_name = fn("LLVMPY_GetOpcodeName", vp, vp)
        self.dispose_string = fn("LLVMPY_DisposeString", None, vp)
        self.value_kind = fn("LLVMPY_GetValueKind", i32, vp)
        self.value_name = fn("LLVMPY_GetValueName", ctypes.c_char_p, vp)
        self.is_declaration = fn("LLVMPY_IsDeclaration", i32, vp)
        self.type_of = fn("LLVMPY_TypeOf", vp, vp)
        self.type_kind = fn("LLVMPY_GetTypeKind", i32, vp)
        self.type_width = fn("LLVMPY_GetTypeBitWidth", u64, vp)
        self.int_words = fn("LLVMPY_GetConstantIntNumWords", u32, vp)
        self.int_raw = fn("LLVMPY_GetConstantIntRawValue", vp, vp, ctypes.POINTER(ctypes.c_bool))
        self.print_value = fn("LLVMPY_PrintValueToString", None, vp, ctypes.POINTER(ctypes.c_char_p))


_capi: _CApi | None = None


def _api() -> _CApi:
    global _capi
    if _capi is None:
        _capi = _CApi()
    return _capi


@dataclass
class _Function:
    """One function with a body: per block (in layout order, entry first) its successor indices."""

    successors: list[list[int]] = field(default_factory=list)


@dataclass
class _Scan:
    """Everything one walk over a module collects."""

    autophase: dict[str, int]
    opcodes: dict[str, int]
    functions: list[_Function]


def _parse(ir: bytes | str, context):
    """Parse bitcode (detected by its magic) or text IR; BadProgramError if LLVM rejects it."""
    try:
        if isinstance(ir, (bytes, bytearray)) and ir[:4] in (_BITCODE_MAGIC, _BITCODE_WRAPPER_MAGIC):
            return llvm.parse_bitcode(bytes(ir), context)
        text = ir.decode("utf-8", errors="replace") if isinstance(ir, (bytes, bytearray)) else ir
        return llvm.parse_assembly(text, context)
    except RuntimeError as exc:
        detail = next((l.strip() for l in str(exc).splitlines()[1:] if l.strip()), str(exc))
        raise BadProgramError(f"cannot parse LLVM IR: {detail[:200]}") from None


def _switch_cases(api: _CApi, instruction: int) -> list[tuple[int, int]]:
    """(bit width, value) of each case of a switch, read from its printed form."""
    text = ctypes.c_char_p()
    api.print_value(instruction, ctypes.byref(text))
    try:
        printed = text.value.decode()
    finally:
        api.dispose_string(ctypes.cast(text, ctypes.c_void_p))
    cases = printed[printed.index("[") + 1:] if "[" in printed else ""
    return [(int(width), 1 if value == "true" else 0 if value == "false" else int(value))
            for width, value in _SWITCH_CASE.findall(cases)]


def _scan(ir: bytes | str) -> _Scan:
    """Parse ``ir`` once and walk every instruction; the hot loop of this module."""
    api = _api()
    context = llvm.create_context()
    try:
        module = _parse(ir, context)
        try:
            return _walk(api, module)
        finally:
            module.close()
    finally:
        context.close()


def _walk(api: _CApi, module) -> _Scan:
    f = dict.fromkeys(AUTOPHASE_FEATURES, 0)
    opcodes: dict[str, int] = {}
    functions: list[_Function] = []
    constants: dict[int, tuple[int, bool, bool]] = {}  # ConstantInt -> (width, is 0, is 1)
    function_names: list[bytes] = []
    little = ctypes.c_bool()
    next_function, next_block, next_instruction, next_operand = (
        api.next_function, api.next_block, api.next_instruction, api.next_operand)
    opcode_name, dispose_string, value_kind = api.opcode_name, api.dispose_string, api.value_kind
    string_at = ctypes.string_at

    def constant_int(value: int) -> tuple[int, bool, bool]:
        info = constants.get(value)
        if info is None:
            width = api.type_width(api.type_of(value))
            words = (ctypes.c_uint64 * api.int_words(value)).from_address(api.int_raw(value, ctypes.byref(little)))
            low, high = words[0], any(words[1:])
            info = constants[value] = (width, low == 0 and not high, low == 1 and not high)
        return info

    def count_constant(width: int, zero: bool, one: bool) -> None:
        if width == 32:
            f["const32Bit"] += 1
        elif width == 64:
            f["const64Bit"] += 1
        if zero:
            f["numConstZeroes"] += 1
        elif one:
            f["numConstOnes"] += 1

    function_iter = api.functions(module._ptr)
    try:
        while function := next_function(function_iter):
            function_names.append(api.value_name(function))
            if api.is_declaration(function):
                continue
            block_index: dict[int, int] = {}
            block_successors: list[list[int]] = []  # block pointers, resolved to indices below
            phi_args: list[int] = []
            block_iter = api.blocks(function)
            try:
                while block := next_block(block_iter):
                    block_index[block] = len(block_successors)
                    successors: list[int] = []
                    size = phis = args = 0
                    first_is_phi = False
                    instruction_iter = api.instructions(block)
                    try:
                        while instruction := next_instruction(instruction_iter):
                            raw = opcode_name(instruction)
                            opcode = string_at(raw).decode()
                            dispose_string(raw)
                            opcodes[opcode] = opcodes.get(opcode, 0) + 1
                            feature = _OPCODE_FEATURES.get(opcode)
                            if feature:
                                f[feature] += 1
                            operand_count = 0
                            has_constant = False
                            last_operand = 0
                            operand_iter = api.operands(instruction)
                            try:
                                while operand := next_operand(operand_iter):
                                    operand_count += 1
                                    last_operand = operand
                                    kind = value_kind(operand)
                                    if kind == _KIND_CONSTANT_INT:
                                        has_constant = True
                                        count_constant(*constant_int(operand))
                                    elif kind == _KIND_BASIC_BLOCK:
                                        successors.append(operand)
                                    elif kind in _CONSTANT_KINDS:
                                        has_constant = True
                            finally:
                                api.dispose_operands(operand_iter)
                            if size == 0:
                                first_is_phi = opcode == "phi"
                            size += 1
                            if opcode == "phi":
                                phis += 1
                                args += operand_count
                            elif opcode == "br":
                                f["BranchCount"] += 1
                                if operand_count == 1:
                                    f["UncondBranches"] += 1
                            elif opcode == "call" and value_kind(last_operand) == _KIND_FUNCTION:
                                if api.type_kind(api.type_of(instruction)) == _TYPE_INTEGER:
                                    f["returnInt"] += 1
                                elif api.value_name(last_operand) in _LIFETIME_MARKERS:
                                    f["const64Bit"] += 1  # the i64 size operand LLVM 22 dropped
                            elif opcode == "switch":
                                for width, value in _switch_cases(api, instruction):
                                    count_constant(width, value == 0, value == 1)
                            if opcode in _BINARY_OPCODES and has_constant:
                                f["binaryConstArg"] += 1
                            if opcode in _UNARY_OPCODES:
                                f["testUnary"] += 1
                            if opcode in _AUTOPHASE_MEMORY_OPCODES:
                                f["TotalMemInst"] += 1
                    finally:
                        api.dispose_instructions(instruction_iter)
                    block_successors.append(successors)
                    phi_args.append(args)
                    f["TotalInsts"] += size
                    f["ArgsPhi"] += args
                    if phis == 0:
                        f["BBNoPhi"] += 1
                    elif phis <= 3:
                        f["BB03Phi"] += 1
                    else:
                        f["BBHiPhi"] += 1
                    if first_is_phi:
                        f["BeginPhi"] += 1
                    if args > 5:
                        f["BBNumArgsHi"] += 1
                    elif args >= 1:
                        f["BBNumArgsLo"] += 1
                    if size < 15:
                        f["BlockLow"] += 1
                    elif size <= 500:
                        f["BlockMid"] += 1
            finally:
                api.dispose_blocks(block_iter)
            cfg = _Function([[block_index[s] for s in succ] for succ in block_successors])
            _count_edges(f, cfg)
            functions.append(cfg)
    finally:
        api.dispose_functions(function_iter)
    present = set(function_names)
    leftovers = sum(1 for old, new in _UPGRADE_LEFTOVERS.items() if old in present and new in present)
    f["TotalFuncs"] = len(function_names) - leftovers
    return _Scan(f, opcodes, functions)


def _count_edges(f: dict[str, int], cfg: _Function) -> None:
    """The predecessor/successor features of one function's blocks."""
    preds = [0] * len(cfg.successors)
    for succ in cfg.successors:
        for target in succ:
            preds[target] += 1
    f["TotalBlocks"] += len(cfg.successors)
    for block, succ in enumerate(cfg.successors):
        n_succ, n_pred = len(succ), preds[block]
        f["NumEdges"] += n_succ
        if n_succ >= 2:
            f["CriticalCount"] += sum(1 for target in succ if preds[target] >= 2)
        if n_succ == 1:
            f["oneSuccessor"] += 1
        elif n_succ == 2:
            f["twoSuccessor"] += 1
        if n_pred == 1:
            f["onePred"] += 1
            if n_succ == 1:
                f["onePredOneSuc"] += 1
            elif n_succ == 2:
                f["onePredTwoSuc"] += 1
        elif n_pred == 2:
            f["twoPred"] += 1
            if n_succ == 1:
                f["twoPredOneSuc"] += 1
            elif n_succ == 2:
                f["twoEach"] += 1
        elif n_pred > 2:
            f["morePreds"] += 1


def autophase(ir: bytes | str) -> dict[str, int]:
    """CompilerGym's 56 Autophase features of a module (bitcode or text), in vector order."""
    return _scan(ir).autophase


def autophase_vector(ir: bytes | str) -> np.ndarray:
    """:func:`autophase` as an int64 array of shape (56,), in :data:`AUTOPHASE_FEATURES` order."""
    return np.fromiter(autophase(ir).values(), dtype=np.int64, count=len(AUTOPHASE_FEATURES))


def _natural_loops(successors: list[list[int]]) -> int:
    """Number of natural loops of a CFG whose block 0 is the entry: headers ``h`` with an edge
    ``u -> h`` from a reachable block ``u`` that ``h`` dominates (LoopInfo's definition)."""
    order: list[int] = []  # postorder of the blocks reachable from the entry
    seen = {0}
    stack = [(0, iter(successors[0]))]
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            order.append(node)
            stack.pop()
        elif child not in seen:
            seen.add(child)
            stack.append((child, iter(successors[child])))
    number = {node: i for i, node in enumerate(order)}  # postorder number
    preds: dict[int, list[int]] = {node: [] for node in order}
    for node in order:
        for child in successors[node]:
            preds[child].append(node)
    idom = {0: 0}  # Cooper, Harvey & Kennedy: iterate in reverse postorder to a fixpoint
    changed = True
    while changed:
        changed = False
        for node in reversed(order[:-1]):
            new = None
            for pred in preds[node]:
                if pred not in idom:
                    continue
                if new is None:
                    new = pred
                    continue
                a, b = pred, new
                while a != b:
                    while number[a] < number[b]:
                        a = idom[a]
                    while number[b] < number[a]:
                        b = idom[b]
                new = a
            if idom.get(node) != new:
                idom[node] = new
                changed = True

    def dominates(header: int, node: int) -> bool:
        while node != header:
            if node == 0:
                return False
            node = idom[node]
        return True

    return len({child for node in order for child in successors[node] if dominates(child, node)})


def ir_structure(ir: bytes | str) -> dict:
    """Structural summary of a module (one parse, no subprocess).

    ``instructions``, ``blocks``, ``functions`` (with a body), ``calls`` (call/invoke/callbr),
    ``phis``, ``loads``, ``stores``, ``allocas``, ``memory_ops`` (load, store, atomicrmw, cmpxchg),
    ``branches`` (br, switch, indirectbr), ``loops`` (natural loops, nested ones included) and
    ``opcodes`` (instruction count per opcode, sorted by name).
    """
    scan = _scan(ir)
    ops = scan.opcodes

    def total(names) -> int:
        return sum(ops.get(name, 0) for name in names)

    return {
        "instructions": scan.autophase["TotalInsts"],
        "blocks": scan.autophase["TotalBlocks"],
        "functions": len(scan.functions),
        "calls": total(_CALL_OPCODES),
        "phis": ops.get("phi", 0),
        "loads": ops.get("load", 0),
        "stores": ops.get("store", 0),
        "allocas": ops.get("alloca", 0),
        "memory_ops": total(_MEMORY_ACCESS_OPCODES),
        "branches": total(_BRANCH_OPCODES),
        "loops": sum(_natural_loops(fn.successors) for fn in scan.functions),
        "opcodes": dict(sorted(ops.items())),
    }


def structure_delta(before: dict, after: dict) -> dict:
    """``after - before`` of two :func:`ir_structure` summaries, zeros omitted; ``opcodes`` (if any
    opcode count changed) is a dict of the nonzero per-opcode changes."""
    delta: dict = {}
    for key in dict.fromkeys([*before, *after]):
        if key == "opcodes":
            old, new = before.get(key, {}), after.get(key, {})
            changes = {op: new.get(op, 0) - old.get(op, 0) for op in sorted({*old, *new})}
            changes = {op: d for op, d in changes.items() if d}
            if changes:
                delta[key] = changes
        else:
            change = after.get(key, 0) - before.get(key, 0)
            if change:
                delta[key] = change
    return delta


_PROPERTY = re.compile(r"^(\w+): (-?\d+)$", re.MULTILINE)
_PROPERTIES_HEADER = "Printing analysis results of CFA for function"


def function_properties(ir: bytes | str, timeout_s: float = 120.0) -> dict[str, int]:
    """LLVM 19's ``print<func-properties>`` (detailed: 44 properties) summed over the functions with a
    body; ``MaxLoopDepth`` is the maximum over functions, ``Functions`` the number of functions."""
    data = ir.encode() if isinstance(ir, str) else bytes(ir)
    opt = find_toolchain().opt
    try:
        proc = subprocess.run([opt, "-passes=print<func-properties>", "-enable-detailed-function-properties",
                               "-disable-output", "-"], input=data, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BadProgramError(f"opt print<func-properties> exceeded {timeout_s:g} s") from None
    if proc.returncode != 0:
        raise BadProgramError(f"opt cannot read the IR: {first_error_line(proc.stderr)}")
    text = proc.stderr.decode(errors="replace")
    totals: dict[str, int] = {"Functions": text.count(_PROPERTIES_HEADER)}
    for key, value in _PROPERTY.findall(text):
        number = int(value)
        if key == "MaxLoopDepth":
            totals[key] = max(totals.get(key, 0), number)
        else:
            totals[key] = totals.get(key, 0) + number
    return totals
