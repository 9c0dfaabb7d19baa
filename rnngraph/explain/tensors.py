"""Sections about sequence_length, concat and strided_slice."""

from __future__ import annotations

from typing import Optional

from ..recognise import Findings
from .prose import Section, dims

__all__ = ['sequence_length', 'concats', 'slices']


def sequence_length(found: Findings) -> Optional[Section]:
    if not found.sequence_length:
        return None
    seq = found.sequence_length[0]
    return Section("sequence_length", [
        f"The graph takes sequence_length from {seq.length}. Each step compares time with it "
        f"({seq.compare}, one flag per sequence in the batch) and selects: "
        f"{', '.join(seq.zero_outputs) or 'no Select'} output zeros where a sequence has ended, "
        f"so outputs past each sequence's length are zeros; {', '.join(seq.copy_state) or 'none'}"
        " keep the previous state there, so the state is copied through and the final state is "
        "the state at each sequence's last real step."])


def concats(found: Findings) -> Section:
    return Section("concat", [
        "ConcatV2 joins tensors along one axis (its last input); all other dimensions must "
        "match. In an RNN graph it does two different jobs: joining data ([X_t, h_(t−1)] on "
        "axis 1) and assembling shape vectors and permutations out of small int32 pieces "
        "(axis 0)."], [
        f"{c.name}, axis {c.axis}: "
        + ", ".join(f"{i['name']} ({dims(i['shape'])})" for i in c.inputs)
        + f" → {dims(c.shape)}; {c.meaning}" for c in found.concats])


def slices(found: Findings) -> Section:
    bullets = []
    for s in found.strided_slices:
        masks = ", ".join(f"{k}={v}" for k, v in s.masks.items() if v) or "no masks"
        bullets.append(f"{s.name} = {s.slice}: begin {s.begin}, end {s.end}, strides {s.strides}, "
                       f"{masks}" + (f" → {s.meaning}" if s.meaning else ""))
    return Section("strided_slice", [
        "tf.strided_slice is what Python indexing x[...] becomes. begin, end and strides give "
        "one entry per indexed axis; five bit masks say how to read them: bit k of begin_mask "
        "or end_mask means 'ignore begin[k] / end[k]' (an empty side of ':'), "
        "shrink_axis_mask means 'take the single element begin[k] and drop the axis' "
        "(x[0] rather than x[0:1]), new_axis_mask inserts an axis (None) and ellipsis_mask "
        "marks '...'. RNN graphs use it mostly to read one dimension of a Shape: the batch "
        "size or the number of steps, which are only known at run time."], bullets)
