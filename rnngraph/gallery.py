"""The gallery: one diagram per figure of the walk-through, each made by one ``render`` command.

Every figure is the argument list of an ``rnngraph render`` command, so the
command printed under each picture in ``gallery/README.md`` is exactly the
one that made it.  :func:`figure_dot` returns a figure's DOT text (what the
currency test compares with the committed ``.dot``); :func:`write_gallery`
draws every figure and writes the README.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from .errors import RnnGraphError, UsageError

__all__ = ["Figure", "FIGURES", "GROWTH", "DIFFS", "figure_args", "figure_dot", "caption",
           "readme_text", "write_gallery", "svg_size", "slide_text", "SLIDE", "SLIDE_TEXT_PX"]

SLIDE = (1920, 1080)  # a 16:9 slide in px at 96 dpi
SLIDE_TEXT_PX = 12  # the smallest text a slide may show


@dataclass(frozen=True)
class Figure:
    """One picture: its file stem, heading, ``render`` arguments and what to look at."""

    name: str
    heading: str
    args: tuple
    look: str  # one sentence: what the picture shows
    topic: Optional[str] = None  # the ``explain`` topic its caption is drawn from
    beside: Optional[str] = None  # the figure drawn side by side with it (v1 beside v2)

    @property
    def slide(self) -> bool:
        """Whether the figure is one topic's view, drawn to fit a slide (the full views try)."""
        return "--focus" in self.args

    @property
    def command(self) -> str:
        return shlex.join(["rnngraph", "render", *self.args, "-o", f"gallery/{self.name}.svg"])


def _fig(name, heading, args, look, topic=None, beside=None) -> Figure:
    return Figure(name, heading, tuple(args.split()), look, topic, beside)


FIGURES = (
    _fig("static-rnn-2-list", "static_rnn, two steps, one placeholder per step",
         "static --steps 2 --static-inputs list",
         "Two placeholders X0 and X1 feed two copies of the cell; no loop anywhere.", "rnn"),
    _fig("static-rnn-2", "static_rnn, two steps, one placeholder unstacked",
         "static --steps 2",
         "One placeholder X of shape ?×2×3 is transposed and unstacked into the per-step inputs.",
         "rnn"),
    _fig("static-rnn-2-cell", "Inside the static scope: two cells, one kernel and bias",
         "static --steps 2 --focus cell",
         "Both copies of the cell read the same kernel and bias variables.", "rnn"),
    _fig("dynamic-rnn-2", "dynamic_rnn, two steps: the whole graph",
         "dynamic --steps 2",
         "The same cell drawn once, inside a while loop; the graph does not grow with the steps.",
         "while_loop"),
    _fig("dynamic-rnn-2-while", "dynamic_rnn: the while loop",
         "dynamic --steps 2 --focus while_loop",
         "Enter, Merge, Switch, Identity, NextIteration and Exit for each loop variable.",
         "while_loop"),
    _fig("dynamic-rnn-2-tensor-array", "dynamic_rnn: the TensorArrays",
         "dynamic --steps 2 --focus tensor_array",
         "The inputs are scattered into one TensorArray and read per step; the outputs are "
         "written per step into another and gathered.", "tensor_array"),
    _fig("dynamic-rnn-2-concat", "dynamic_rnn: the concat ops",
         "dynamic --steps 2 --focus concat",
         "ConcatV2 joins [X_t, h_(t-1)] and assembles shape vectors and permutations.", "concat"),
    _fig("dynamic-rnn-2-strided-slice", "dynamic_rnn: the strided slices",
         "dynamic --steps 2 --focus strided_slice",
         "StridedSlice reads the batch size and the number of steps out of shapes at run time.",
         "strided_slice"),
    _fig("dynamic-rnn-2-cell", "dynamic_rnn: the cell", "dynamic --steps 2 --focus cell",
         "One BasicRNNCell: concat, MatMul with the kernel, BiasAdd, tanh.", "rnn"),
    _fig("dynamic-rnn-2-seqlen", "dynamic_rnn with sequence_length",
         "dynamic --steps 2 --sequence-length",
         "With sequence_length, finished rows output zeros and keep their state (Select ops).",
         "while_loop"),
    _fig("static-lstm-2-gates", "static LSTM, two steps: the gates",
         "static --cell lstm --steps 2 --focus gates",
         "One kernel gives the four gate blocks i, j, f, o, split and squashed.", "lstm"),
    _fig("dynamic-lstm-2-gates", "dynamic LSTM, two steps: the gates",
         "dynamic --cell lstm --steps 2 --focus gates",
         "The same gates inside the while loop; c and h are two loop variables.", "lstm"),
    _fig("dynamic-lstm-peephole-2", "LSTM with peepholes",
         "dynamic --cell lstm-peephole --steps 2 --focus gates",
         "LSTMCell with use_peepholes: diagonal weights let the cell state into the gates.",
         "lstm"),
    _fig("dynamic-gru-2", "GRU", "dynamic --cell gru --steps 2",
         "Two kernels: one for the reset and update gates, one for the candidate.", "gru"),
    _fig("dynamic-rnn-2-x3", "Three layers (MultiRNNCell)", "dynamic --steps 2 --layers 3",
         "Three cells, one after the other inside the same loop step.", "rnn"),
    _fig("dynamic-rnn-2-x3-dropout", "Three layers with dropout",
         "dynamic --steps 2 --layers 3 --dropout 0.5",
         "A DropoutWrapper on each layer's input, driven by the keep_prob placeholder.", "rnn"),
    _fig("dynamic-rnn-2-x3-devices", "Three layers, one device per layer",
         "dynamic --steps 2 --layers 3 --devices /cpu:0,/gpu:0,/gpu:1 --color-by device",
         "Coloured by device: each layer's ops are placed on its own device.", "rnn"),
    _fig("dynamic-rnn-mnist", "The MNIST training graph",
         "dynamic --steps 28 --inputs 28 --neurons 150 --head mnist --depth 1",
         "Dense layer on the final state, softmax cross-entropy, gradients and Adam.", "rnn"),
    _fig("dynamic-rnn-series", "The time-series training graph",
         "dynamic --steps 20 --inputs 1 --neurons 100 --head series --depth 1",
         "Per-step outputs projected to one value, mean squared error, gradients and Adam.",
         "rnn"),
    _fig("static-lstm-100", "static LSTM, 100 steps: the copies stacked",
         "static --cell lstm --steps 100",
         "1,754 nodes drawn as one stack of 100 identical cell copies (found by structure, "
         "checked op by op), with the kernel and bias edges bundled.", "static"),
    _fig("static-lstm-20-ends", "static LSTM, 20 steps: first and last copy in full",
         "static --cell lstm --steps 20 --expand-ends",
         "The first and last step drawn op by op, the 18 between them stacked.", "static"),
    _fig("dynamic-rnn-2-cfv2", "The same dynamic RNN in control flow v1 and v2",
         "dynamic --steps 2 --control-flow v2",
         "Left v1, right v2. In v2 one While op runs the loop: its inputs flow into the loop "
         "variables (orange hexagons; invariants such as the kernel in plain boxes), cond's "
         "result is the loop's condition, each body result goes back to its loop variable "
         "(orange back edge, as NextIteration to Merge in v1) and the final loop variables "
         "leave through the While op.", "while_loop", beside="dynamic-rnn-2"),
    _fig("dynamic-rnn-2-cfv2-while", "The while loop in control flow v1 and v2",
         "dynamic --steps 2 --control-flow v2 --focus while_loop",
         "Left v1's Enter, Merge, Switch, NextIteration and Exit per loop variable; right v2's "
         "loop-variable tuple, the cond and body functions and the While op.", "while_loop",
         beside="dynamic-rnn-2-while"),
    _fig("dynamic-rnn-2-cfv2-tensor-array", "TensorArrays (v1) and TensorLists (v2)",
         "dynamic --steps 2 --control-flow v2 --focus tensor_array",
         "Left v1's TensorArray handles and flows; right v2's TensorLists, values the loop "
         "carries: TensorListGetItem reads X_t, TensorListSetItem returns the list with this "
         "step's output.", "tensor_array", beside="dynamic-rnn-2-tensor-array"),
)

# The growth plot is made by `rnngraph growth` (timings, so not regenerated here).
GROWTH = {"image": "growth.png", "heading": "How the graphs grow with the steps",
          "command": "rnngraph growth --steps 1,2,5,10,20,50,100,200 --cell lstm "
                     "--csv gallery/growth.csv --plot gallery/growth.png",
          "caption": "Node counts, GraphDef size and build and run times of static and dynamic "
                     "graphs against the number of steps: the static graph grows linearly, the "
                     "dynamic one stays the same size."}


# The cost plot is made by `rnngraph growth --run` (timings and memory, so not regenerated here).
GROWTH_RUN = {"image": "growth-run.png", "heading": "What unrolling costs when the graph runs",
              "command": "rnngraph growth --run --neurons 100 --steps 1,10,50,100,200,500,1000 "
                         "--repeats 5 --csv gallery/growth-run.csv --plot gallery/growth-run.png",
              "caption": "Build time, the time of one training pass (forward, backward and Adam) "
                         "and the peak memory the pass held, for static_rnn, dynamic_rnn and "
                         "dynamic_rnn with swap_memory=True, measured on this machine's CPU; the "
                         "README's section on the cost of unrolling reads the figures."}


# What one option adds, drawn by `rnngraph diff A B --format svg` (B coloured: added green,
# changed amber), captioned from the diff's findings: (file stem, heading, A, B).
DIFFS = (
    ("diff-dynamic-vs-seqlen", "What sequence_length adds to dynamic_rnn", "dynamic",
     "dynamic:sequence_length=true"),
    ("diff-dynamic-vs-dropout", "What dropout adds to dynamic_rnn", "dynamic", "dynamic:dropout=0.5"),
)


def _diff_command(name: str, a: str, b: str) -> str:
    return shlex.join(["rnngraph", "diff", a, b, "--format", "svg", "-o", f"gallery/{name}.svg"])


def svg_size(svg: str) -> tuple:
    """Return ``(width px, height px, smallest font px)`` of a Graphviz SVG at 96 dpi."""
    import re  # noqa: PLC0415

    head = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if head is None:
        raise UsageError("not a Graphviz SVG (no width and height in pt)")
    fonts = [float(f) for f in re.findall(r'font-size="([\d.]+)"', svg)]
    px = 96 / 72
    return float(head.group(1)) * px, float(head.group(2)) * px, min(fonts, default=0.0) * px


def slide_text(svg: str) -> str:
    """Return how the figure sits on a 16:9 slide: its size and its smallest text there."""
    width, height, font = svg_size(svg)
    scale = min(1.0, SLIDE[0] / width, SLIDE[1] / height)
    size = f"{width:.0f}×{height:.0f} px"
    if font * scale >= SLIDE_TEXT_PX:
        return f"{size}: fits a {SLIDE[0]}×{SLIDE[1]} slide with text of {font * scale:.0f} px or more."
    return (f"{size}: scaled onto a {SLIDE[0]}×{SLIDE[1]} slide its smallest text would be "
            f"{font * scale:.0f} px; show it in parts (--focus, or --format html).")


def figure_args(figure: Figure):
    """Return the parsed ``rnngraph render`` arguments of ``figure``."""
    from .cli import build_parser  # noqa: PLC0415

    return build_parser().parse_args(["render", *figure.args, "-o", f"{figure.name}.svg"])


def figure_dot(figure: Figure, build: Optional[Callable] = None) -> tuple:
    """Return ``(spec, walked graph, DOT text)`` of ``figure`` (``build``: spec -> BuiltGraph)."""
    from .commands.common import spec_from_args  # noqa: PLC0415
    from .commands.render import drawing_options, title_of  # noqa: PLC0415
    from .graphdef.walk import walk  # noqa: PLC0415
    from .draw.dot import to_dot  # noqa: PLC0415

    if build is None:
        from .model.builder import build_graph as build  # noqa: PLC0415 (imports TensorFlow)
    args = figure_args(figure)
    spec = spec_from_args(args)
    graph = walk(build(spec))
    return spec, graph, to_dot(graph, drawing_options(args, graph, title_of(spec, graph)))


def caption(figure: Figure, spec, graph, build: Callable) -> str:
    """Return the figure's caption: what to look at, then ``explain``'s words on its topic."""
    from .graphdef.walk import top_level_nodes  # noqa: PLC0415

    counts = f"{len(top_level_nodes(graph))} nodes, {graph.number_of_edges()} edges."
    try:
        from .explain import explain  # noqa: PLC0415

        expl = explain(figure.topic or "rnn", spec, build=build)
    except (ImportError, RnnGraphError):
        return f"{figure.look} {counts}"
    from .explain.formats import shown  # noqa: PLC0415

    expl = shown(expl)  # function-body nodes by their display names
    overview = expl.sections[0].paragraphs[:1]
    detail = [p for p in (expl.sections[1].paragraphs if len(expl.sections) > 1 else [])
              if isinstance(p, str)][:2]
    if detail and detail[-1].endswith(":"):  # an equation or list follows that is not kept
        detail = detail[:-1]
    return "\n\n".join([" ".join([figure.look, *overview]), *detail])


def readme_text(entries: list, diffs: tuple = ()) -> str:
    """Return gallery/README.md: ``entries`` are ``(figure, caption)`` pairs, ``diffs`` ``(DIFFS row, caption)``."""
    lines = ["# Gallery", "",
             "Every picture here is drawn from the graph TensorFlow really builds, by the command "
             "under it. Regenerate them all (SVG and DOT) with:", "",
             "    rnngraph gallery --out gallery/", "",
             "A test (`tests/test_gallery.py`) checks that the committed `.dot` files are what "
             "these commands produce today. Open any `.svg` in a browser; hover a box for its "
             "details. For an interactive page add `--format html`.", "",
             "Under each picture: its size at 96 dpi and the smallest text it would have on a "
             f"{SLIDE[0]}×{SLIDE[1]} (16:9) slide. The topic views (`--focus`) are drawn for "
             f"slides, text at least {SLIDE_TEXT_PX} px (a test reads every SVG's size and "
             "fonts: each fits, the loops' views drawn as one row per loop variable or around the "
             "loop-variable tuple, with the cell folded into one box saying what it computes); the "
             "full views keep the loop and the cell open, close the machinery around them and "
             "leave out the initializers, and are best shown as the interactive page.", ""]
    commands = {figure.name: figure.command for figure, _ in entries}
    for figure, text in entries:
        image = f"![{figure.heading}]({figure.name}.svg)"
        if figure.beside:  # v1 and v2 of the same model, side by side
            image = ("| control flow v1 | control flow v2 |\n|---|---|\n"
                     f"| ![control flow v1]({figure.beside}.svg) | {image} |")
        command = figure.command
        if figure.beside in commands:
            command = f"{commands[figure.beside]}\n{figure.command}"
        lines += [f"## {figure.heading}", "", image, "", text, "", "```", command, "```", ""]
    for (name, heading, a, b), text in diffs:
        lines += [f"## {heading}", "", f"![{heading}]({name}.svg)", "", text, "", "```",
                  _diff_command(name, a, b), "```", ""]
    for plot in (GROWTH, GROWTH_RUN):
        lines += [f"## {plot['heading']}", "", f"![{plot['heading']}]({plot['image']})", "",
                  plot["caption"], "", "```", plot["command"], "```", ""]
    return "\n".join(lines)


def write_gallery(out: str, build: Optional[Callable] = None, draw: bool = True,
                  log: Callable[[str], None] = lambda line: None) -> list:
    """Write every figure's .dot (and .svg unless ``draw`` is false) and README.md into ``out``.

    Returns the paths written.
    """
    from .draw.output import run_graphviz  # noqa: PLC0415
    from .files import write_atomic

    folder = Path(out)
    if not folder.is_dir():
        raise UsageError(f"gallery folder {out} does not exist (create it, or pass --out DIR)")
    if build is None:
        from .model.builder import build_graph as build  # noqa: PLC0415 (imports TensorFlow)
    cache: dict = {}

    def cached(spec):
        if spec not in cache:
            cache[spec] = build(spec)
        return cache[spec]

    written, entries = [], []
    for figure in FIGURES:
        spec, graph, dot = figure_dot(figure, cached)
        written.append(write_atomic(folder / f"{figure.name}.dot", dot))
        text = caption(figure, spec, graph, cached)
        svg_path = folder / f"{figure.name}.svg"
        if draw:
            svg = run_graphviz(dot, "svg")
            written.append(write_atomic(svg_path, svg))
            text += "\n\n" + slide_text(svg.decode("utf-8"))
        elif svg_path.exists():  # --dot-only: the size of the picture already there
            text += "\n\n" + slide_text(svg_path.read_text(encoding="utf-8"))
        entries.append((figure, text))
        log(figure.command)
    diffs = []
    for row in DIFFS if draw else ():
        picture, text = _diff_figure(row, cached)
        written.append(write_atomic(folder / f"{row[0]}.svg", picture))
        diffs.append((row, text))
        log(_diff_command(row[0], row[2], row[3]))
    written.append(write_atomic(folder / "README.md", readme_text(entries, tuple(diffs))))
    return written


def _diff_figure(row: tuple, build: Callable) -> tuple:
    """Return (SVG bytes, caption) of one DIFFS row."""
    from .commands.compare import parse_side  # noqa: PLC0415
    from .commands.diff import draw_diff  # noqa: PLC0415
    from .commands.render import title_of  # noqa: PLC0415
    from .explain.diff import diff_caption  # noqa: PLC0415
    from .graphdef.walk import walk  # noqa: PLC0415
    from .model.spec import ModelSpec  # noqa: PLC0415

    sides = []
    for text in row[2:]:
        spec = parse_side(text, ModelSpec())[1]
        graph_def = build(spec).graph_def()
        sides += [graph_def, title_of(spec, walk(graph_def))]
    picture, report = draw_diff(*sides, "svg")
    return picture, diff_caption(report)
