"""Findings and networkx -> pictures: level of detail, DOT text, tiles, focus notes, the HTML page.

``layout`` decides the boxes, ``statements`` and ``dot`` write DOT text, ``tile``
lays out unrolled copies for ``--full``, ``focus`` adds notes, ``html`` builds the
offline page, ``output`` runs Graphviz.  Text is built apart from side effects.
"""
