"""What a node is (control flow, TensorArray, math, ...) and how each kind is coloured."""

from __future__ import annotations

__all__ = ["CATEGORIES", "category_of", "DEVICE_PALETTE"]

# category -> (legend text, fill colour, border colour)
CATEGORIES = {
    "control": ("control flow", "#fdd0a2", "#d94801"),
    "tensor_array": ("TensorArray / TensorList", "#c7e9c0", "#238b45"),
    "math": ("math", "#c6dbef", "#2171b5"),
    "array": ("array / shape", "#dadaeb", "#6a51a3"),
    "variable": ("variable", "#ffffb2", "#b8860b"),
    "placeholder": ("placeholder (input)", "#fcbba1", "#cb181d"),
    "const": ("constant", "#f0f0f0", "#969696"),
    "training": ("training (gradients, optimizer)", "#fde0ef", "#c51b7d"),
    "function": ("function argument / result", "#ffffff", "#525252"),
    "other": ("other", "#ffffff", "#737373"),
}

_CONTROL = {
    "Enter", "RefEnter", "Exit", "RefExit", "Merge", "RefMerge", "Switch", "RefSwitch",
    "LoopCond", "NextIteration", "RefNextIteration", "While", "StatelessWhile", "If",
    "StatelessIf", "Case", "StatelessCase", "ControlTrigger",
}
_ARRAY = {
    "Shape", "ShapeN", "Size", "Rank", "StridedSlice", "Slice", "ConcatV2", "Concat", "Pack",
    "Unpack", "Reshape", "Transpose", "Fill", "ExpandDims", "Squeeze", "Split", "SplitV",
    "Range", "Identity", "IdentityN", "ZerosLike", "OnesLike", "Tile", "GatherV2", "Gather",
    "Cast", "BroadcastTo", "BroadcastArgs", "BroadcastGradientArgs", "Where", "Select",
    "SelectV2", "Stack", "StopGradient", "PlaceholderWithDefault_", "Reverse", "ReverseV2",
    "ReverseSequence", "OneHot", "StatelessRandomUniformV2", "StatelessRandomGetKeyCounter",
    "RandomUniform", "RandomStandardNormal", "TruncatedNormal",
    "StatelessTruncatedNormalV2", "StatelessRandomNormalV2",
}
_MATH = {
    "MatMul", "BatchMatMulV2", "BiasAdd", "Add", "AddV2", "AddN", "Sub", "Mul", "RealDiv",
    "Div", "FloorDiv", "FloorMod", "Neg", "Tanh", "Sigmoid", "Relu", "Relu6", "Elu", "Selu",
    "Softmax", "LogSoftmax", "Maximum", "Minimum", "Less", "LessEqual", "Greater",
    "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "Square",
    "Sqrt", "Rsqrt", "Exp", "Log", "Mean", "Sum", "Max", "Min", "Prod", "ArgMax", "ArgMin",
    "SparseSoftmaxCrossEntropyWithLogits", "SoftmaxCrossEntropyWithLogits", "InTopK",
    "InTopKV2", "Pow", "Abs", "SquaredDifference", "Floor", "Round", "Reciprocal",
    "Dropout", "Erf",
}
_VARIABLE = {
    "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "VariableV2", "Variable", "Assign",
    "VarIsInitializedOp", "IsVariableInitialized", "AssignAddVariableOp",
    "AssignSubVariableOp", "ResourceGather", "DestroyResourceOp",
}


def category_of(op: str, name: str = "") -> str:
    """Return the colour category of an op (see CATEGORIES)."""
    if op in ("Placeholder", "PlaceholderV2", "PlaceholderWithDefault"):
        return "placeholder"
    if op == "Const":
        return "const"
    if op in ("_Arg", "_Retval"):
        return "function"
    if op.startswith(("TensorArray", "TensorList", "EmptyTensorList")):
        return "tensor_array"
    if op in _CONTROL:
        return "control"
    if op.startswith(("Apply", "ResourceApply")) or op.endswith("Grad") or "/gradients/" in f"/{name}" \
            or name.startswith("gradients"):
        return "training"
    if op in _VARIABLE:
        return "variable"
    if op in _MATH:
        return "math"
    if op in _ARRAY:
        return "array"
    return "other"


# Fill colours for --color-by device, assigned to devices in sorted order.
DEVICE_PALETTE = ["#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6", "#ffff99",
                  "#1f78b4", "#33a02c"]
