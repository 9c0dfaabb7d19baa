"""What the recognisers find (dataclasses) and the rules they use, as data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

# Recognition rules as data.
ACTIVATIONS = {"Tanh": "tanh", "Relu": "relu", "Relu6": "relu6", "Elu": "elu", "Selu": "selu",
               "Sigmoid": "sigmoid", "Softsign": "softsign", "Softplus": "softplus",
               "LeakyRelu": "leaky_relu"}
GATE_NAMES = {"lstm": ("i", "j", "f", "o"), "gru": ("r", "u")}
GATE_MEANING = {"i": "input gate", "j": "candidate (new input)", "f": "forget gate",
                "o": "output gate", "r": "reset gate", "u": "update gate"}
# Keras' own gate names (its weight columns in this order) and what each is.
KERAS_GATE_NAMES = {"lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h"), "rnn": ()}
KERAS_GATE_MEANING = {"i": "input gate", "f": "forget gate", "c": "cell candidate",
                      "o": "output gate", "z": "update gate", "r": "reset gate",
                      "h": "candidate state"}
CELL_FORMS = ("tf1", "keras", "custom", "fused")
_ADD = {"Add", "AddV2"}
_MUL = {"Mul"}
_SPLIT = {"Split": 1, "SplitV": 0}  # op -> index of the value input
_CONCAT = {"ConcatV2", "Concat"}
_SELECT = {"Select", "SelectV2"}
_TA_READ = {"TensorArrayReadV3", "TensorArrayReadV2", "TensorArrayRead"}
_TA_WRITE = {"TensorArrayWriteV3", "TensorArrayWriteV2", "TensorArrayWrite"}
_TA_SCATTER = {"TensorArrayScatterV3", "TensorArrayScatterV2", "TensorArrayScatter"}
_TA_GATHER = {"TensorArrayGatherV3", "TensorArrayGatherV2", "TensorArrayGather"}
_TA_CREATE = {"TensorArrayV3", "TensorArrayV2", "TensorArray"}
_TL_CREATE = {"TensorListReserve", "TensorListFromTensor", "EmptyTensorList"}
_TL_READ = {"TensorListGetItem"}
_TL_WRITE = {"TensorListSetItem"}
_TL_STACK = {"TensorListStack", "TensorListGather", "TensorListConcatV2"}
_WHILE_V2 = {"While", "StatelessWhile"}
_ENTER = {"Enter", "RefEnter"}
_MERGE = {"Merge", "RefMerge"}
_SWITCH = {"Switch", "RefSwitch"}
_EXIT = {"Exit", "RefExit"}
_NEXT = {"NextIteration", "RefNextIteration"}
_LOOP_PLUMBING = _ENTER | _MERGE | _SWITCH | _EXIT | _NEXT | {"LoopCond"}
_COMPARE = {"Less": "<", "LessEqual": "<=", "Greater": ">", "GreaterEqual": ">=",
            "Equal": "==", "NotEqual": "!="}
_LOGICAL = {"LogicalAnd": "AND", "LogicalOr": "OR"}


@dataclass
class Cell:
    """One recurrent cell: the MatMul of [X_t, h_(t-1)] and what follows it."""

    scope: str
    kind: str  # rnn | lstm | gru
    matmul: str
    concat: str
    kernel: str
    kernel_shape: Optional[list]
    bias: Optional[str]
    bias_shape: Optional[list]
    activation: Optional[str]
    activation_node: Optional[str]
    n_inputs: Optional[int]
    n_neurons: Optional[int]
    x_input: str
    h_input: str
    gates: list = field(default_factory=list)
    gate_nodes: dict = field(default_factory=dict)  # gate -> {"slice", "preact", "activation"}
    forget_bias: Optional[float] = None
    forget_bias_node: Optional[str] = None
    peepholes: dict = field(default_factory=dict)  # gate -> variable
    outputs: dict = field(default_factory=dict)  # "h"/"c" -> node
    candidate: dict = field(default_factory=dict)  # GRU: matmul, concat, kernel, shapes
    instances: list = field(default_factory=list)  # MatMul of each per-step copy
    instance_scopes: list = field(default_factory=list)
    instance_concats: list = field(default_factory=list)
    candidate_concats: list = field(default_factory=list)  # GRU: each copy's [X_t, r·h]
    instance_outputs: list = field(default_factory=list)  # each copy's h
    same_structure: bool = True
    same_variables: bool = True
    nodes: list = field(default_factory=list)  # the first instance's nodes
    # tf1: one MatMul over [X_t, h]; keras: x·kernel + h·recurrent_kernel; custom: hand-written
    form: str = "tf1"
    layer: Optional[str] = None  # the Keras layer (model/lstm) or the TF1 cell scope
    implementation: Optional[str] = None  # the functions TensorFlow keeps for the layer
    recurrent_kernel: Optional[str] = None
    recurrent_kernel_shape: Optional[list] = None
    recurrent_matmuls: list = field(default_factory=list)  # the first instance's h·U MatMuls
    instance_matmuls: list = field(default_factory=list)  # every MatMul of every copy
    recurrent_activation: Optional[str] = None
    bias_initial: Optional[float] = None  # the one value the bias variable's initializer assigns
    bias_initializer: Optional[str] = None  # the Const holding it
    reset_after: Optional[bool] = None  # GRU: reset applied after the recurrent MatMul
    bias_layout: Optional[str] = None
    projection: dict = field(default_factory=dict)  # LSTM num_proj: matmul, kernel, shape
    loops: list = field(default_factory=list)  # the loops (While / v1 frame) its copies run in
    parts: list = field(default_factory=list)  # custom cells: the gate-like parts
    # fused kernels (BlockLSTM, GRUBlockCell, CudnnRNN...): the op, its named inputs, attributes
    fused: dict = field(default_factory=dict)


@dataclass
class LoopVar:
    """One loop variable: its entry, the node computing the next value, what it carries."""

    index: int
    carries: str
    initial: str
    next_value: str
    enter: Optional[str] = None
    merge: Optional[str] = None
    switch: Optional[str] = None
    identity: Optional[str] = None
    next_iteration: Optional[str] = None
    exit: Optional[str] = None
    exit_used: bool = False
    dtype: Optional[str] = None
    shape: Optional[list] = None
    name: str = ""  # short readable name for drawings: "h", "time", "outputs TensorList"
    arg: str = ""  # v2: the body function's argument name in its signature


@dataclass
class WhileLoop:
    """A while loop, v1 (frame of Enter/Merge/Switch/Exit) or v2 (a While op)."""

    name: str
    control_flow: str
    frame: str
    loop_vars: list
    invariants: list  # [{"node", "source", "what"}]
    condition: str
    comparisons: list  # [{"var", "op", "bound", "bound_expr", "meaning"}]
    loop_cond: Optional[str]
    body_nodes: list
    cond_function: Optional[str] = None
    body_function: Optional[str] = None
    tensor_list_ops: list = field(default_factory=list)
    tensor_list_reads: list = field(default_factory=list)  # v2: TensorListGetItem in the body
    tensor_list_writes: list = field(default_factory=list)  # v2: TensorListSetItem in the body
    lowered: Optional[bool] = None  # v2: _lower_using_switch_merge (run as v1's machinery)
    condition_ops: list = field(default_factory=list)  # v1: the comparisons and logic LoopCond reads


@dataclass
class TensorArrayInfo:
    """A TensorArray (v1) or TensorList (v2) and the per-step ops that use it."""

    name: str
    kind: str  # TensorArray | TensorList
    role: str  # input | output | unused | other
    size: Optional[str]
    element_shape: Optional[list]
    unstack: Optional[str] = None
    unstack_source: Optional[str] = None
    reads: list = field(default_factory=list)
    writes: list = field(default_factory=list)
    stack: Optional[str] = None
    flow: list = field(default_factory=list)
    indices: dict = field(default_factory=dict)  # read/write -> the node its index comes from


@dataclass
class ConcatInfo:
    name: str
    axis: Optional[int]
    inputs: list  # [{"name", "shape", "expr", "meaning"}]
    shape: Optional[list]
    meaning: str
    value: Any = None


@dataclass
class SliceInfo:
    name: str
    input: str
    begin: Any
    end: Any
    strides: Any
    masks: dict
    slice: str
    meaning: str
    value: Any = None


@dataclass
class SequenceLength:
    compare: str
    length: str
    zero_outputs: list
    copy_state: list


@dataclass
class StateTensor:
    """One tensor of the RNN's state: its layer, which part (c, h or state), where it ends and starts."""

    layer: int  # 0-based, in stacking order
    part: str  # "c" | "h" | "state"
    node: str  # the node TensorFlow returns for it (``tensor.op.name``)
    output: int = 0
    initial: Optional[str] = None  # the node giving the initial value (a ZeroState Fill)
    initial_kind: Optional[str] = None  # "zeros" | "placeholder" | "other"
    loop_var: Optional[int] = None  # dynamic: the index of the loop variable carrying it


@dataclass
class DropoutInfo:
    """A dropout keep-mask: ``uniform >= rate`` selects x / keep_prob or 0 (DropoutWrapper's ops)."""

    mask: str  # GreaterEqual: the boolean keep-mask
    select: str  # Select/SelectV2 applying it
    random: str  # RandomUniform
    dropped: str  # the tensor being dropped out
    rate: str  # expression of the drop rate the uniform values are compared with
    keep_prob: str  # the keep probability when the rate is 1 − keep_prob, else ""
    cell: Optional[str] = None  # the scope of the cell that reads the result as X_t
    layer: Optional[int] = None  # that cell's layer in its RNN
    in_loop: bool = False


@dataclass
class DenseLayer:
    """A MatMul + bias with its own kernel reading the RNN: per-step projection or a head."""

    matmul: str
    kernel: Optional[str]
    kernel_shape: Optional[list]
    bias: Optional[str]
    output: str  # the BiasAdd/Add node
    reads: str  # the tensor it reads
    role: str  # "projection" (inside the step) | "head on final state" | "head on outputs" | "unknown"
    copies: int = 1


@dataclass
class RnnInfo:
    """One recurrent network as a whole: what it returns, where its state starts, its wrappers."""

    kind: str  # "dynamic" (a while loop) | "static" (unrolled copies)
    loop: Optional[str]
    layers: list  # cell scopes in stacking order
    cell_kind: str
    activations: list  # per layer: the activation node actually used
    outputs: list  # nodes TensorFlow returns as outputs (dynamic: one m × steps × n tensor)
    outputs_time_major: Optional[str]  # dynamic: the stacked, time-major tensor before the transpose
    output_size: Optional[int]
    final_state: list  # [StateTensor] in TensorFlow's flattened order
    zero_output: Optional[str] = None  # dynamic_rnn's zeros for sequence_length masking
    zero_output_used: bool = False
    sequence_length: Optional[str] = None  # the node the lengths come from
    sequence_length_selects: list = field(default_factory=list)
    dropout: list = field(default_factory=list)  # [DropoutInfo]
    projection: Optional[DenseLayer] = None
    heads: list = field(default_factory=list)  # [DenseLayer]
    steps: Optional[int] = None  # static: copies; dynamic: None (set at run time)
    reversed_by: Optional[str] = None  # a backward RNN's outputs reversed back in time by this op


@dataclass
class Findings:
    """Everything the recognisers found in one graph."""

    while_loops: list = field(default_factory=list)
    tensor_arrays: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    concats: list = field(default_factory=list)
    strided_slices: list = field(default_factory=list)
    sequence_length: list = field(default_factory=list)
    rnns: list = field(default_factory=list)  # [RnnInfo]
    dropout: list = field(default_factory=list)  # [DropoutInfo]

    def as_dict(self) -> dict:
        """Return the findings as JSON-serialisable dicts and lists."""
        return asdict(self)
