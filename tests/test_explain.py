"""explain: golden text per topic, numbers read from the graph, --verify against NumPy."""

from __future__ import annotations

import json

import pytest

from rnngraph.cli import main
from rnngraph.explain import TOPICS, explain, render_json, render_markdown, render_text, spec_for_topic
from rnngraph.errors import UsageError
from rnngraph.model.spec import ModelSpec

pytestmark = pytest.mark.tf
_DEFAULTS = ModelSpec().as_dict()


def _flat(text: str) -> str:
    """The text with line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def build(built):
    """spec -> BuiltGraph through the session cache (explain builds several graphs)."""
    def get(spec):
        changed = {k: v for k, v in spec.as_dict().items() if v != _DEFAULTS[k]}
        return built(**changed)
    return get


@pytest.mark.parametrize("topic", TOPICS)
def test_golden_text(topic, build, golden):
    golden(f"explain-{topic}.txt", render_text(explain(topic, ModelSpec(), build=build)))


def test_numbers_come_from_the_graph(build):
    text = _flat(render_text(explain("lstm", ModelSpec(neurons=7, inputs=4), build=build)))
    assert "kernel of shape (11, 28) = (n_inputs + n_neurons, 4·n_neurons) = (4 + 7, 4·7)" in text
    assert "(8, 20)" not in text
    assert "i = columns 0–6" in text and "o = columns 21–27" in text
    default = _flat(render_text(explain("lstm", ModelSpec(), build=build)))
    assert "(8, 20)" in default and "i = columns 0–4" in default


def test_sequence_length_is_read_from_the_graph(build):
    text = _flat(render_text(explain("while_loop", ModelSpec(sequence_length=True), build=build)))
    assert "rnn/while/Select output zeros" in text
    assert "rnn/while/Select_1 keep the previous state" in text


def test_markdown_and_json(build):
    expl = explain("gru", ModelSpec(), build=build)
    md = render_markdown(expl)
    assert md.startswith("# rnngraph explain gru") and "## The GRU cell" in md and "```" in md
    data = json.loads(render_json(expl))
    assert data["findings"]["cells"][0]["kind"] == "gru"
    assert data["findings"]["cells"][0]["candidate"]["kernel_shape"] == [8, 5]


def test_topic_and_cell_conflict():
    with pytest.raises(UsageError, match=r"topic 'lstm' .* --cell gru"):
        spec_for_topic("lstm", ModelSpec(cell="gru"))
    assert spec_for_topic("lstm", ModelSpec(cell="lstm-peephole")).cell == "lstm-peephole"
    assert spec_for_topic("static", ModelSpec()).kind == "static"


@pytest.mark.parametrize("topic, spec", [
    ("rnn", {}),
    ("lstm", {}),
    ("gru", {}),
    ("static", {"cell": "lstm", "sequence_length": True}),
    ("dynamic", {"cell": "lstm-peephole", "layers": 2, "sequence_length": True,
                 "control_flow": "v2"}),
])
def test_verify(topic, spec, build):
    result = explain(topic, ModelSpec(**spec), build=build, verify=True).verify
    assert result["ok"] and result["max_abs_diff"] < 1e-5
    assert len(result["rows"]) == ModelSpec(**spec).steps + 1


def test_verify_catches_a_wrong_equation(build):
    from rnngraph.graphdef.walk import walk
    from rnngraph.recognise import recognise
    from rnngraph.explain.verify import verify

    built_graph = build(ModelSpec(cell="lstm"))
    found = recognise(walk(built_graph))
    found.cells[0].forget_bias = 0.0  # pretend the recogniser missed the forget bias
    result = verify(built_graph, found)
    assert not result["ok"] and result["max_abs_diff"] > 1e-3


def test_cli_verify_prints_and_fails(monkeypatch, capsys):
    import rnngraph.explain.verify

    def fake(built, found, **_):
        return {"summary": "s", "rows": ["step 0: x"], "max_abs_diff": 0.5, "tolerance": 1e-5,
                "ok": False, "batch": 4, "seed": 0}

    monkeypatch.setattr(rnngraph.explain.verify, "verify", fake)
    assert main(["explain", "concat", "--verify"]) == 1
    out, err = capsys.readouterr()
    assert "largest absolute difference: 0.5 (NOT below 1e-05)" in out
    assert err.strip().count("\n") == 0 and "verification failed" in err


def test_cli_usage_error(capsys):
    assert main(["explain", "gru", "--cell", "lstm"]) == 2
    assert capsys.readouterr().err.startswith("rnngraph: error: topic 'gru'")
