"""The spaces a data point is pictured in, by their machine names and by the names a reader reads: one home.

``SPACES`` are the data's keys (the ``space`` column of the tables; :mod:`supviz.datapoints.experiment` defines each
space). :data:`SPACE_NAMES` are the reader's names: the report's sentences and tables read them through
:func:`supviz.report.words.space_words`, the panel titles of :mod:`supviz.datapoints.plots` directly; the appendix
gives each name with its key once. A leaf module: it imports nothing of supviz.
"""

from __future__ import annotations

__all__ = ["SPACES", "SPACE_NAMES", "SPACE_MEANINGS"]

SPACES = ("x", "x_rep", "h", "h_rep", "xhat")
#: Each space as a reader names it (without an article: "the " is the sentence's).
SPACE_NAMES = {
    "x": "inputs x",
    "x_rep": "inputs on the represented features",
    "h": "latent codes h = Wᵀx",
    "h_rep": "codes of the represented features",
    "xhat": "outputs x̂ = ReLU(Wh + b)",
}
#: What each name means, said once (the appendix's definitions).
SPACE_MEANINGS = {
    "x": "the sparse inputs themselves",
    "x_rep": "the inputs with every feature the model does not represent set to 0: what a model that kept the same "
    "features without superposition would show",
    "h": "the model's hidden codes h = Wᵀx of the inputs",
    "h_rep": "the inputs on the represented features sent through W's rows of those features: superposition among "
    "the kept features alone, with the same information as the inputs on the represented features",
    "xhat": "the model's reconstruction ReLU(Wh + b)",
}
