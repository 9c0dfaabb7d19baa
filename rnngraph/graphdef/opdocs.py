"""One sentence per TensorFlow op: what it does in the graphs rnngraph draws.

Pure data, no TensorFlow.  Used by the HTML viewer's side panel (and free
for the explainers); :func:`describe` falls back to a family description
(``TensorArray…``, ``…Grad``) and then to a plain "no description" line.
"""

from __future__ import annotations

__all__ = ["OP_DESCRIPTIONS", "describe"]

OP_DESCRIPTIONS = {
    # v1 control flow: the while loop's plumbing
    "Enter": "Passes a tensor into a while loop's frame, so the loop body can use it "
             "(once per loop variable, and once per loop-invariant value such as a kernel).",
    "RefEnter": "Passes a reference variable into a while loop's frame.",
    "Merge": "Forwards whichever input arrives first: the initial value from Enter on the "
             "first iteration, the value from NextIteration on every later one.",
    "RefMerge": "Merge for reference variables: forwards whichever input is ready first.",
    "Switch": "Routes its input to output 1 (into the loop body) when the loop condition "
              "is true, or to output 0 (towards Exit) when it is false.",
    "RefSwitch": "Switch for reference variables: routes its input by a boolean predicate.",
    "LoopCond": "Holds the loop condition's boolean result and feeds every Switch of the "
                "frame, deciding whether the loop runs another iteration.",
    "NextIteration": "Carries a loop variable's new value back to its Merge for the next "
                     "iteration (the loop's back edge).",
    "RefNextIteration": "Carries a reference variable back to the next iteration.",
    "Exit": "Takes a loop variable's final value out of the while loop's frame once the "
            "condition is false.",
    "RefExit": "Takes a reference variable out of the while loop's frame.",
    "ControlTrigger": "Does nothing; used only as a control dependency target.",
    # v2 (functional) control flow
    "While": "Functional while loop (control flow v2): runs the body function while the cond "
             "function returns true, with the loop variables as inputs and outputs.",
    "StatelessWhile": "Functional while loop (control flow v2) whose body has no stateful ops: "
                      "runs the body function while the cond function returns true.",
    "If": "Functional conditional: calls then_branch or else_branch depending on its first input.",
    "StatelessIf": "Functional conditional without stateful ops: calls one of two branch functions.",
    "_Arg": "An argument of a function body (v2 control flow): the caller's input with this index.",
    "_Retval": "A result of a function body (v2 control flow): becomes the caller's output "
               "with this index.",
    # TensorArray (v1) and TensorList (v2)
    "TensorArrayV3": "Creates a TensorArray: a list of tensors, one per time step, that a "
                     "while loop can read from or write to one element at a time.",
    "TensorArrayReadV3": "Reads element `index` (the current time step) from a TensorArray.",
    "TensorArrayWriteV3": "Writes a tensor to element `index` (the current time step) of a "
                          "TensorArray and returns the new flow value.",
    "TensorArrayScatterV3": "Splits a tensor along its first axis into the elements of a "
                            "TensorArray (unstacks the time-major inputs, one per step).",
    "TensorArrayGatherV3": "Stacks the chosen elements of a TensorArray into one tensor "
                           "(collects the per-step outputs).",
    "TensorArraySizeV3": "Returns the number of elements in a TensorArray.",
    "TensorArrayCloseV3": "Releases a TensorArray's resources.",
    "TensorListReserve": "Creates a TensorList with room for a given number of elements "
                         "(v2's TensorArray for the per-step outputs).",
    "TensorListFromTensor": "Creates a TensorList by unstacking a tensor along its first axis "
                            "(v2's TensorArray for the per-step inputs).",
    "EmptyTensorList": "Creates an empty TensorList.",
    "TensorListGetItem": "Reads one element (the current time step) from a TensorList.",
    "TensorListSetItem": "Writes one element (the current time step) of a TensorList.",
    "TensorListStack": "Stacks all elements of a TensorList into one tensor.",
    "TensorListGather": "Stacks the chosen elements of a TensorList into one tensor.",
    "TensorListLength": "Returns the number of elements in a TensorList.",
    "TensorListElementShape": "Returns the shape of a TensorList's elements.",
    # math
    "MatMul": "Multiplies two matrices: in a cell, the concatenated [input, previous state] "
              "times the kernel.",
    "BatchMatMulV2": "Multiplies matrices batch by batch.",
    "BiasAdd": "Adds a bias vector to each row of its input.",
    "Add": "Adds two tensors element-wise (with broadcasting).",
    "AddV2": "Adds two tensors element-wise (with broadcasting).",
    "AddN": "Adds all its inputs element-wise.",
    "Sub": "Subtracts its second input from its first, element-wise.",
    "Mul": "Multiplies two tensors element-wise (in an LSTM: gates times states).",
    "RealDiv": "Divides its first input by its second, element-wise.",
    "Neg": "Negates its input element-wise.",
    "Square": "Squares its input element-wise.",
    "Sigmoid": "Applies the logistic function 1/(1+e^-x): squashes a gate's pre-activation "
               "into (0, 1).",
    "Tanh": "Applies the hyperbolic tangent, squashing values into (-1, 1): the cell's "
            "activation.",
    "Relu": "Applies max(x, 0) element-wise.",
    "Softmax": "Turns logits into probabilities that sum to one.",
    "Maximum": "Returns the larger of its two inputs, element-wise.",
    "Minimum": "Returns the smaller of its two inputs, element-wise.",
    "Less": "Tests first < second element-wise (the loop's time < steps check).",
    "LessEqual": "Tests first <= second element-wise.",
    "Greater": "Tests first > second element-wise.",
    "GreaterEqual": "Tests first >= second element-wise (with sequence_length: finished rows).",
    "Equal": "Tests first == second element-wise.",
    "LogicalAnd": "Combines two boolean tensors with AND (both loop conditions must hold).",
    "LogicalOr": "Combines two boolean tensors with OR.",
    "LogicalNot": "Negates a boolean tensor.",
    "Mean": "Averages its input over the given axes (e.g. the loss over the batch).",
    "Sum": "Sums its input over the given axes.",
    "Max": "Takes the maximum of its input over the given axes.",
    "Min": "Takes the minimum of its input over the given axes.",
    "ArgMax": "Returns the index of the largest value along an axis.",
    "SparseSoftmaxCrossEntropyWithLogits": "Computes the softmax cross-entropy loss between "
                                           "logits and integer class labels.",
    "InTopKV2": "Says whether each target class is among the k highest predictions.",
    "InTopK": "Says whether each target class is among the k highest predictions.",
    "SquaredDifference": "Computes (x - y)^2 element-wise.",
    # array / shape
    "ConcatV2": "Joins tensors along an axis (the cell's [X_t, h_(t-1)]; shape vectors "
                "such as [batch size, units]).",
    "StridedSlice": "Takes a slice of a tensor with Python slice semantics (often one "
                    "element of a shape, such as the batch size or the number of steps).",
    "Slice": "Takes a slice of a tensor given begin and size.",
    "Split": "Splits a tensor into equal parts along an axis (an LSTM's four gate "
             "pre-activations).",
    "SplitV": "Splits a tensor into parts of given sizes along an axis.",
    "Shape": "Returns the shape of its input as a 1-D integer tensor (read at run time).",
    "ShapeN": "Returns the shapes of several tensors.",
    "Size": "Returns the number of elements of its input.",
    "Rank": "Returns the number of dimensions of its input.",
    "Reshape": "Gives a tensor a new shape with the same elements.",
    "Transpose": "Permutes a tensor's axes (batch-major <-> time-major).",
    "Pack": "Stacks tensors into one tensor along a new axis.",
    "Unpack": "Splits a tensor along an axis into a list of tensors (one per time step).",
    "Fill": "Creates a tensor of a given shape filled with one value (the zero state).",
    "ExpandDims": "Inserts an axis of size 1 (turns a scalar into a 1-element vector).",
    "Squeeze": "Removes axes of size 1.",
    "Range": "Creates the sequence start, start+delta, ... below limit.",
    "Identity": "Returns its input unchanged (names a value, or marks a loop variable inside "
                "the body).",
    "IdentityN": "Returns its inputs unchanged.",
    "ZerosLike": "Returns zeros with the shape and dtype of its input.",
    "OnesLike": "Returns ones with the shape and dtype of its input.",
    "Tile": "Repeats a tensor along each axis.",
    "GatherV2": "Picks slices of a tensor at the given indices.",
    "Cast": "Converts a tensor to another dtype.",
    "Select": "Picks from its second or third input depending on a boolean condition "
              "(with sequence_length: keep the old state for finished rows).",
    "SelectV2": "Picks from its second or third input depending on a boolean condition "
                "(with sequence_length: keep the old state for finished rows).",
    "StopGradient": "Returns its input unchanged but blocks gradients.",
    "ReverseSequence": "Reverses each row's first sequence_length steps.",
    "OneHot": "Turns integer indices into one-hot vectors.",
    "BroadcastGradientArgs": "Computes which axes were broadcast (for reducing gradients).",
    "RandomUniform": "Draws random numbers uniformly from [0, 1).",
    "StatelessRandomUniformV2": "Draws seeded random numbers uniformly from [0, 1) (the "
                                "kernel's initial values).",
    "StatelessRandomGetKeyCounter": "Turns a seed into the key and counter of a stateless "
                                    "random generator.",
    "Const": "A constant tensor stored in the graph.",
    # inputs and variables
    "Placeholder": "An input of the graph: a tensor fed by the caller at run time "
                   "(feed_dict).",
    "PlaceholderWithDefault": "An input that uses its default value unless the caller feeds "
                              "one (e.g. the dropout keep probability).",
    "VarHandleOp": "Creates a resource variable (a kernel or bias) and returns its handle.",
    "ReadVariableOp": "Reads the current value of a resource variable.",
    "AssignVariableOp": "Assigns a new value to a resource variable (its initializer).",
    "VarIsInitializedOp": "Says whether a resource variable has been initialised.",
    "VariableV2": "A reference variable (TF 1.x style): holds a kernel or bias.",
    "Assign": "Assigns a new value to a reference variable.",
    "NoOp": "Does nothing; groups control dependencies (e.g. the `init` op).",
    # training
    "ResourceApplyAdam": "Updates a variable with one Adam step from its gradient.",
    "ApplyAdam": "Updates a variable with one Adam step from its gradient.",
}

_FAMILIES = (
    ("TensorArray", "A TensorArray operation: a per-step list of tensors used by a while loop."),
    ("TensorList", "A TensorList operation (v2's TensorArray): a per-step list of tensors."),
    ("ResourceApply", "An optimizer update applied to a resource variable."),
)


def describe(op: str) -> str:
    """Return one sentence saying what ``op`` does ("" never: a fallback names the op)."""
    if op in OP_DESCRIPTIONS:
        return OP_DESCRIPTIONS[op]
    for prefix, text in _FAMILIES:
        if op.startswith(prefix):
            return text
    if op.endswith("Grad"):
        return f"Computes the gradient of {op[:-4]} (back-propagation, added by the optimizer)."
    return f"The TensorFlow op {op} (no description written for it yet)."
