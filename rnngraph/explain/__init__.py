"""Recognised structures -> a lesson in prose (text, markdown or JSON), and ``--verify``.

``topics.py`` assembles an explanation from one module per subject (``cells``,
``loops``, ``arrays``, ``tensors``, ``returns``: what the RNN returns, its initial
state, dropout and dense layers); every sentence formats a recognised finding.
``formats.py`` writes it out; ``verify.py`` runs the graph (built, or a SavedModel /
frozen GraphDef given with ``--file``) and checks the printed equations against NumPy.
"""

from .formats import render_json, render_markdown, render_text
from .prose import Explanation, Section
from .topics import FORMATS, TOPICS, explain, explain_file, spec_for_topic

__all__ = ["TOPICS", "FORMATS", "Section", "Explanation", "spec_for_topic", "explain", "explain_file", "render_text",
           "render_markdown", "render_json"]
