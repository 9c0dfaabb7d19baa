"""What ``rnngraph run FILE`` agrees to execute: pure compute ops, and no recursive function.

A graph file is data until it is run; then every op in it does what it says,
and some ops write or read files (``WriteFile``, ``SaveV2``), talk to other
processes or the network (``Recv``, ``Enqueue``), call Python (``PyFunc``) or
map memory (``ImmutableConst``).  Before anything runs, the top-level graph
and every function in its library (those called by a node's op and those named
in an attr, such as a ``While``'s body) are checked against :data:`PURE_OPS`
(math, arrays, control flow, TensorArray and TensorList, random numbers,
in-memory variables).  Everything else is refused with its name and where it
is, unless the user admits that kind with ``--allow-op``.

A checkpoint's save and restore ops (:data:`DORMANT_OPS`) are tolerated only
where they can never run: top-level nodes outside the closure of what ``run``
fetches and initialises (``model.imported`` picks those; the closure here is
a superset of it), and functions only such nodes call.  A function that calls
itself, directly or through others, is refused too (TensorFlow dies by a
segmentation fault running one).  Pure protobuf: no TensorFlow here.
"""

from __future__ import annotations

from ..errors import GraphFileError

__all__ = ["PURE_OPS", "DORMANT_OPS", "check_runnable", "refused_ops", "recursive_calls"]

_MATH = """Abs Acos Acosh Add AddN AddV2 All Any ApproximateEqual ArgMax ArgMin Asin Asinh Atan Atan2
Atanh BatchMatMul BatchMatMulV2 BatchMatMulV3 BiasAdd BiasAddV1 Bucketize Cast Ceil ClipByValue
Complex ComplexAbs Conj Cos Cosh Cross Cumprod Cumsum DivNoNan Div Digamma Einsum Elu Equal Erf Erfc
Exp Expm1 Floor FloorDiv FloorMod Greater GreaterEqual Imag Inv IsFinite IsInf IsNan LeakyRelu
Less LessEqual Lgamma Log Log1p LogSoftmax LogicalAnd LogicalNot LogicalOr MatMul Max Maximum Mean
Min Minimum Mod Mul MulNoNan Neg NotEqual OnesLike Pow Prod Real RealDiv Reciprocal Relu Relu6
Rint Round Rsqrt Selu Sigmoid Sign Sin Sinh Softmax Softplus Softsign SparseSoftmaxCrossEntropyWithLogits
SoftmaxCrossEntropyWithLogits Sqrt Square SquaredDifference Sub Sum Tan Tanh TruncateDiv TruncateMod
Xdivy Xlog1py Xlogy ZerosLike L2Loss Conv2D DepthwiseConv2dNative MaxPool AvgPool FusedBatchNorm
FusedBatchNormV3 LRN InTopKV2 TopKV2 BitwiseAnd BitwiseOr BitwiseXor LeftShift RightShift Invert
_FusedMatMul _MklMatMul _FusedConv2D CudnnRNN CudnnRNNV2 CudnnRNNV3 CudnnRNNBackprop CudnnRNNBackpropV2
CudnnRNNBackpropV3 CudnnRNNParamsSize CudnnRNNParamsToCanonical CudnnRNNCanonicalToParams
BlockLSTM BlockLSTMV2 LSTMBlockCell GRUBlockCell"""

_ARRAY = """BroadcastArgs BroadcastGradientArgs BroadcastTo CheckNumerics CheckNumericsV2 Concat ConcatOffset
ConcatV2 Const DeepCopy Diag DiagPart DynamicPartition DynamicStitch Empty EnsureShape ExpandDims Fill
Gather GatherNd GatherV2 Identity IdentityN InvertPermutation LinSpace ListDiff MatrixBandPart
MatrixDiag MatrixDiagPart MatrixDiagV3 MatrixSetDiag MirrorPad OneHot Pack Pad PadV2 ParallelConcat
Placeholder PlaceholderV2 PlaceholderWithDefault PreventGradient Range Rank Reshape ResourceGather
ReverseSequence ReverseV2 Roll ScatterNd Select SelectV2 Shape ShapeN Size Slice Snapshot Split SplitV
Squeeze StopGradient StridedSlice StridedSliceGrad TensorScatterUpdate TensorScatterAdd Tile Transpose
Unique Unpack UnravelIndex Where ZerosLike Bitcast SegmentSum UnsortedSegmentSum UnsortedSegmentMax
SparseToDense StringJoin StaticRegexFullMatch ShardedFilename DisableCopyOnRead Assert
NoOp _Arg _Retval"""

_CONTROL = """Enter Exit LoopCond Merge NextIteration Switch RefEnter RefExit RefMerge RefNextIteration
RefSwitch RefIdentity ControlTrigger If StatelessIf While StatelessWhile Case StatelessCase
PartitionedCall StatefulPartitionedCall"""

_ARRAYS_OF_TENSORS = """TensorArrayV3 TensorArrayReadV3 TensorArrayWriteV3 TensorArrayGatherV3
TensorArrayScatterV3 TensorArraySizeV3 TensorArrayCloseV3 TensorArrayConcatV3 TensorArraySplitV3
TensorArrayGradV3 TensorArrayGradWithShape TensorArrayV2 TensorArrayReadV2 TensorArrayWriteV2
TensorArrayGatherV2 TensorArrayScatterV2 TensorArraySizeV2 TensorArrayCloseV2 StackV2 StackPushV2
StackPopV2 StackCloseV2 EmptyTensorList"""

_RANDOM = """RandomUniform RandomUniformInt RandomStandardNormal TruncatedNormal RandomShuffle Multinomial
RandomGamma RandomPoisson RandomPoissonV2 ParameterizedTruncatedNormal StatelessMultinomial"""

_VARIABLES = """Variable VariableV2 VarHandleOp ReadVariableOp AssignVariableOp AssignAddVariableOp
AssignSubVariableOp Assign AssignAdd AssignSub VarIsInitializedOp IsVariableInitialized
DestroyResourceOp TemporaryVariable DestroyTemporaryVariable"""

PURE_OPS = frozenset((_MATH + " " + _ARRAY + " " + _CONTROL + " " + _ARRAYS_OF_TENSORS + " " + _RANDOM
                      + " " + _VARIABLES).split())
# Families of pure ops named by prefix or suffix: TensorList ops, stateless random numbers,
# optimizer updates of in-memory variables, and gradients.
_PURE_PREFIXES = ("TensorList", "StatelessRandom", "StatelessTruncatedNormal", "Apply",
                  "ResourceApply", "SparseApply", "ResourceSparseApply")
_PURE_SUFFIXES = ("Grad", "GradV2")

DORMANT_OPS = frozenset("SaveV2 Save SaveSlices RestoreV2 Restore RestoreSlice MergeV2Checkpoints".split())

# Mirrors model.imported: what `run` never fetches (so it runs only if something fetched needs it).
_NOT_FETCHED = frozenset(("NoOp", "Assign", "AssignVariableOp", "AssignAdd", "AssignSub",
                          "AssignAddVariableOp", "AssignSubVariableOp", "SaveV2", "Save",
                          "SaveSlices", "RestoreV2", "Restore", "MergeV2Checkpoints",
                          "VarIsInitializedOp", "IsVariableInitialized", "Const", "Placeholder",
                          "PlaceholderWithDefault", "VarHandleOp", "VariableV2", "Variable",
                          "ShardedFilename", "StringJoin", "ScalarSummary", "HistogramSummary",
                          "MergeSummary"))
_SHOWN = 8  # kinds listed in the one line before "and N more"


def _pure(op: str, allowed: frozenset) -> bool:
    return op in PURE_OPS or op in allowed or op.startswith(_PURE_PREFIXES) or (
        op.endswith(_PURE_SUFFIXES) and op.isidentifier())


def _producer(ref: str) -> str:
    return ref.lstrip("^").split(":", 1)[0]


def _called(node, functions: dict) -> list:
    """Return the library functions ``node`` calls: as its op, or named in an attr."""
    found = [node.op] if node.op in functions else []
    for value in node.attr.values():
        if value.func.name in functions:
            found.append(value.func.name)
        found.extend(f.name for f in value.list.func if f.name in functions)
    return found


def _run_closure(graph_def) -> set:
    """Return the top-level nodes ``run`` may execute: a superset of the fetches' ancestors."""
    by_name = {node.name: node for node in graph_def.node}
    roots = []
    for node in graph_def.node:
        if node.op in ("Assign", "AssignVariableOp"):
            # model.imported initialises the variables: assigns of a Const, Fill or *Initializer*.
            sources = [_producer(r) for r in node.input[1:] if not r.startswith("^")]
            if any("Initializer" in s or getattr(by_name.get(s), "op", None) in ("Const", "Fill")
                   for s in sources):
                roots.append(node.name)
        elif not (node.op in _NOT_FETCHED or node.op.startswith(("Apply", "ResourceApply"))
                  or node.name.startswith("save/")):
            roots.append(node.name)
    seen, stack = set(roots), list(roots)
    while stack:
        node = by_name.get(stack.pop())
        for ref in node.input if node is not None else ():
            name = _producer(ref)
            if name not in seen and name in by_name:
                seen.add(name)
                stack.append(name)
    return seen


def _escaped(text: str) -> str:
    """Return ``text`` with control and non-printable characters as escapes (names reach the terminal)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:200])


def recursive_calls(graph_def) -> list:
    """Return the call cycles among the library's functions, each as ``[f, g, ..., f]``."""
    functions = {f.signature.name: f for f in graph_def.library.function}
    calls = {name: sorted({c for node in f.node_def for c in _called(node, functions)})
             for name, f in functions.items()}
    colour, cycles = {}, []
    for start in sorted(functions):
        if start in colour:
            continue
        path, stack = [], [(start, iter(calls[start]))]
        colour[start] = 1
        path.append(start)
        while stack:
            name, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                stack.pop()
                path.pop()
                colour[name] = 2
            elif colour.get(step) == 1:
                cycles.append(path[path.index(step):] + [step])
            elif step not in colour:
                colour[step] = 1
                path.append(step)
                stack.append((step, iter(calls[step])))
    return cycles


def refused_ops(graph_def, allowed=()) -> dict:
    """Return {op kind: sorted places} for every op ``run`` refuses.

    A place is ``top level`` or ``function NAME``.
    """
    allowed = frozenset(allowed)
    functions = {f.signature.name: f for f in graph_def.library.function}
    live_nodes = _run_closure(graph_def)
    live, stack = set(), []
    for node in graph_def.node:
        if node.name in live_nodes:
            stack.extend(_called(node, functions))
    while stack:  # the functions a live node calls, and the functions they call
        name = stack.pop()
        if name not in live:
            live.add(name)
            stack.extend(c for node in functions[name].node_def for c in _called(node, functions))
    refused: dict = {}

    def check(nodes, place, running):
        for node in nodes:
            if node.op in functions or _pure(node.op, allowed):
                continue
            if not running and node.op in DORMANT_OPS:
                continue
            refused.setdefault(node.op, set()).add(place)

    check([n for n in graph_def.node if n.name in live_nodes], "top level", True)
    check([n for n in graph_def.node if n.name not in live_nodes], "top level", False)
    for name, function in functions.items():
        check(function.node_def, f"function {_escaped(name)}", name in live)
    return {op: sorted(places) for op, places in sorted(refused.items())}


def check_runnable(graph_def, path, allowed=()) -> None:
    """Raise GraphFileError (one line) when ``run`` must not execute ``graph_def``."""
    cycles = recursive_calls(graph_def)
    if cycles:
        shown = " -> ".join(_escaped(name) for name in cycles[0])
        more = f" (and {len(cycles) - 1} more cycles)" if len(cycles) > 1 else ""
        raise GraphFileError(f"refusing to run {path}: function {_escaped(cycles[0][0])} calls itself "
                             f"({shown}){more}; TensorFlow cannot run a recursive function")
    refused = refused_ops(graph_def, allowed)
    if refused:
        items = [f"{_escaped(op)} ({', '.join(places)})" for op, places in refused.items()]
        if len(items) > _SHOWN:
            items = items[:_SHOWN] + [f"and {len(items) - _SHOWN} more kinds"]
        raise GraphFileError(f"refusing to run {path}: it holds ops that are not pure computation "
                             f"(they may touch files, the network, other processes or Python): "
                             f"{', '.join(items)}; if you trust the file, admit a kind with "
                             f"--allow-op NAME")
