"""Options: no abbreviations, the nearest option suggested for a typo, defaults shown in --help."""

from __future__ import annotations

import argparse

import pytest

from rnngraph.cli import build_parser, main


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    return err[0]


@pytest.mark.parametrize("argv, suggested", [
    (["render", "dynamic", "--septs", "2"], "--steps"),
    (["explain", "lstm", "--nuerons", "7"], "--neurons"),
    (["train", "series", "--iteratons", "3"], "--iterations"),
    (["inspect", "x.pb", "--jsn"], "--json"),
])
def test_a_typo_gets_the_nearest_option(argv, suggested, capsys):
    assert main(argv) == 2
    line = _error(capsys)
    assert "unrecognized arguments" in line and f"(did you mean {suggested}?)" in line


def test_no_suggestion_when_nothing_is_close(capsys):
    assert main(["render", "dynamic", "--zzzzzz"]) == 2
    assert "did you mean" not in _error(capsys)


@pytest.mark.parametrize("argv", [["render", "dynamic", "--step", "3"],
                                  ["explain", "gru", "--neuron", "7"]])
def test_abbreviations_are_refused(argv, capsys):
    assert main(argv) == 2
    assert "unrecognized arguments" in _error(capsys)


def _parsers(parser, name="rnngraph"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from _parsers(child, f"{name} {sub}")


def test_every_parser_refuses_abbreviations_and_shows_defaults():
    for name, parser in _parsers(build_parser()):
        assert parser.allow_abbrev is False, name
        text = parser.format_help()
        for action in parser._actions:
            if (action.option_strings and action.default not in (None, False, argparse.SUPPRESS)
                    and action.nargs != 0 and action.help != argparse.SUPPRESS):
                assert action.help, f"{name} {action.option_strings[0]} has no help"
                assert "default" in parser._get_formatter()._get_help_string(action).lower(), \
                    f"{name} {action.option_strings[0]}"
        if name == "rnngraph render":
            assert "(default: tanh)" in " ".join(text.split())
