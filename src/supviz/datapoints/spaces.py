"""The spaces a data point is pictured in, by their machine names and by the names a reader reads: one home.

``SPACES`` are the data's keys (the ``space`` column of the tables; :mod:`supviz.datapoints.experiment` defines each
space). :data:`SPACE_NAMES` are the reader's names: the report's sentences and tables read them through
:func:`supviz.report.words.space_words`, the panel titles of :mod:`supviz.datapoints.plots` directly; the appendix
gives each name with its key once. A leaf module: it imports nothing of supviz.
"""

from __future__ import annotations

__all__ = ["SPACES", "SPACE_NAMES", "SPACE_MEANINGS", "RULE_SPACES", "under_rule", "split_rule"]

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
#: The spaces that depend on which features count as represented (the represented rule).
RULE_SPACES = ("x_rep", "h_rep")
_RULE_SEP = "@"


def under_rule(space: str, rule: str) -> str:
    """The key of ``space`` (one of :data:`RULE_SPACES`) under a second represented rule, e.g.
    ``under_rule("h_rep", "mean_abs") -> "h_rep@mean_abs"``: how a cell result keys its pictures under the other rule
    (its tables split the key into ``space`` and ``rule``, :func:`split_rule`)."""
    return f"{space}{_RULE_SEP}{rule}"


def split_rule(key: str) -> tuple[str, str]:
    """``(space, rule)`` of a key of :func:`under_rule`; ``(key, "")`` for a plain space."""
    space, _, rule = key.partition(_RULE_SEP)
    return space, rule
