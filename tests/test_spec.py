"""ModelSpec validation (no TensorFlow)."""

import pytest

from rnngraph.errors import SpecError, UsageError
from rnngraph.model.spec import ModelSpec, parse_devices


def test_defaults_are_the_reference_example():
    spec = ModelSpec()
    assert (spec.kind, spec.cell, spec.steps, spec.inputs, spec.neurons, spec.layers) == \
        ("dynamic", "rnn", 2, 3, 5, 1)
    assert spec.dropout is None and spec.projection is None and spec.control_flow == "v1"
    assert spec.slug() == "dynamic-rnn-2"


@pytest.mark.parametrize("field,value,message", [
    ("steps", 0, r"steps must be an integer from 1 to 100000, got 0"),
    ("steps", 2.5, r"steps must be an integer"),
    ("neurons", 0, r"neurons must be an integer from 1"),
    ("inputs", -3, r"inputs must be an integer from 1"),
    ("layers", 0, r"layers must be an integer from 1"),
    ("cell", "lstmm", r"unknown cell 'lstmm' \(choose one of: gru, lstm, lstm-peephole, rnn\)"),
    ("kind", "unrolled", r"unknown kind 'unrolled' \(choose one of: dynamic, static\)"),
    ("activation", "gelu", r"unknown activation 'gelu'"),
    ("dropout", 0.0, r"keep probability must be in \(0, 1\], got 0.0"),
    ("dropout", 1.5, r"keep probability must be in \(0, 1\], got 1.5"),
    ("projection", 0, r"projection must be an integer from 1"),
    ("control_flow", "v3", r"unknown control flow 'v3' \(choose one of: v1, v2\)"),
    ("head", "imagenet", r"unknown head 'imagenet'"),
    ("static_inputs", "dict", r"unknown static input mode 'dict'"),
])
def test_invalid_values_name_the_value_and_the_range(field, value, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec(**{field: value})


def test_spec_error_is_a_usage_error_and_a_value_error():
    with pytest.raises(UsageError):
        ModelSpec(steps=0)
    with pytest.raises(ValueError):
        ModelSpec(steps=0)


def test_devices_one_per_layer():
    spec = ModelSpec(layers=2, devices=("/cpu:0", "/gpu:0"))
    assert spec.devices == ("/cpu:0", "/gpu:0")
    assert ModelSpec(layers=2, devices="/cpu:0, /device:GPU:1").devices == ("/cpu:0", "/device:GPU:1")
    with pytest.raises(SpecError, match=r"2 devices given for 3 layer\(s\)"):
        ModelSpec(layers=3, devices=("/cpu:0", "/gpu:0"))
    with pytest.raises(SpecError, match=r"unknown device '/banana:0'"):
        ModelSpec(devices=("/banana:0",))
    with pytest.raises(SpecError, match="empty device list"):
        parse_devices(" , ")


def test_series_head_projects_to_one_output():
    assert ModelSpec(head="series").projection == 1
    assert ModelSpec(head="series", projection=3).projection == 3


def test_slug_names_the_variant():
    assert ModelSpec(kind="static", cell="lstm", steps=20, layers=3).slug() == "static-lstm-20-x3"
    assert ModelSpec(control_flow="v2").slug() == "dynamic-rnn-2-cfv2"
