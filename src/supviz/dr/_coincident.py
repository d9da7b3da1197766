"""Coincident points laid out once: their groups, the distinct points, and each copy put back at its point's place.

The rule every neighbour-embedding engine of supviz follows (:func:`~supviz.dr.umap_layout.umap_layout`,
:func:`~supviz.dr.tsne_layout.tsne_layout`; SMACOF merges copies in its own way, with pair weights): points that
coincide (equal up to rounding, :func:`supviz.core.geometry.coincident_groups`, the rule every engine and metric
uses) are one point, laid out once, and every copy gets that point's place, so the picture draws them as one spot.
Left to the libraries, identical inputs get identical affinity rows that fill each other's neighbour lists, and
the repulsion (t-SNE) or the negative samples (UMAP) push them apart: a ring or a blob of copies that are in
truth one point, i.e. structure that is not there.

This module only finds the groups and moves rows in and out; each engine decides what its distinct points mean
for its own parameters (a perplexity, a neighbour count) and says so in its docstring. It imports nothing from
its siblings but :mod:`supviz.dr.base`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from supviz.core.validation import fail
from supviz.dr.base import Layout, add_note


@dataclass(frozen=True)
class CoincidentPoints:
    """The groups of coincident points of an input of N rows.

    Attributes
    ----------
    first : numpy.ndarray of int, shape (n_distinct,)
        The row of the input that stands for each distinct point (the first of its group), in ascending order.
    inverse : numpy.ndarray of int, shape (N,)
        The distinct point of each row: ``distinct[inverse]`` are the N rows again.
    counts : numpy.ndarray of int, shape (n_distinct,)
        How many rows each distinct point stands for (1 for a point without copies).
    """

    first: np.ndarray
    inverse: np.ndarray
    counts: np.ndarray

    @property
    def n_points(self) -> int:
        """N, the rows of the input."""
        return int(self.inverse.size)

    @property
    def n_distinct(self) -> int:
        """How many distinct points the N rows hold."""
        return int(self.first.size)

    @property
    def n_coincident(self) -> int:
        """Rows that coincide with another row (every member of a group of two or more)."""
        return int(self.counts[self.counts > 1].sum())

    @property
    def n_groups(self) -> int:
        """Groups of two or more coincident rows."""
        return int((self.counts > 1).sum())

    def distinct(self, pts: np.ndarray, *, precomputed: bool) -> np.ndarray:
        """The distinct points: rows ``first`` of ``pts`` [N, d], or the ``first x first`` block of
        dissimilarities [N, N] (``precomputed``)."""
        return pts[np.ix_(self.first, self.first)] if precomputed else pts[self.first]

    def distinct_start(self, init: Any, *, method: str) -> Any:
        """A start configuration for the distinct points: a named start (a str) as it is, an array's rows
        ``first`` (its shape was checked against all N rows by the caller), refused where those rows all coincide
        (:func:`supviz.dr.base.check_distinct_start`: SupvizError)."""
        if isinstance(init, str):
            return init
        from supviz.dr.base import check_distinct_start

        start = np.asarray(init, dtype=np.float64)[self.first]
        return check_distinct_start(start, method=method, n=len(self.inverse))

    def expand(self, embedding: np.ndarray) -> np.ndarray:
        """The layout of all N rows [N, k] from the layout of the distinct points [n_distinct, k]: each copy at its
        point's place, bit for bit."""
        return np.asarray(embedding)[self.inverse]

    def expanded(self, sub: Layout, notes: list[str]) -> Layout:
        """The layout of all N rows from ``sub``, the method's layout of the distinct points: each copy at its
        point's place (:meth:`expand`), ``sub``'s notes after ``notes`` (the merge's own), and
        ``info["distinct_points"]``; ``sub``'s method and params."""
        for line in sub.notes:
            add_note(notes, "%s", line)
        info = {**sub.info, "distinct_points": self.n_distinct}
        embedding = self.expand(sub.embedding)
        return Layout(embedding=embedding, method=sub.method, params=sub.params, info=info, notes=notes)

    def two_spots(self, n_components: int, distance: float) -> np.ndarray:
        """The layout [N, n_components] of two distinct points: ``distance`` apart on the first axis, centred on
        the mean of all N rows (nothing to optimise: every neighbour embedding of two points is one distance)."""
        embedding = np.zeros((self.n_points, n_components))
        embedding[self.inverse == 1, 0] = float(distance)
        return embedding - embedding.mean(axis=0)

    def note(self, notes: list[str], method: str, rule: str) -> None:
        """Record the merge in ``notes`` (and the log): how many rows coincide, in how many groups, how many
        distinct points are laid out; ``rule`` names what the merge corresponds to in the method's library."""
        add_note(
            notes,
            "%s: %d of %d points coincide with another (%d groups): the %d distinct points laid out, each copy at its "
            "point's place (%s).",
            method,
            self.n_coincident,
            self.n_points,
            self.n_groups,
            self.n_distinct,
            rule,
        )

    def check_n_components(self, n_components: int, *, method: str, min_points: int) -> None:
        """Refuse an output dimension the distinct points cannot span (``n_components <= n_distinct - 1``), once
        there are enough distinct points to lay out (``min_points``; fewer are placed by rule, not optimised).

        Raises
        ------
        SupvizError
            Naming both counts: the N rows and their distinct points.
        """
        n_u = self.n_distinct
        if n_u >= min_points and n_components > n_u - 1:
            raise fail(
                "n_components",
                f"an int in [1, {n_u - 1}]: {method} lays out the {n_u} distinct points of these {self.n_points} "
                "(coincident points are one point)",
                n_components,
            )


def find_coincident(pts: np.ndarray, *, precomputed: bool) -> CoincidentPoints | None:
    """The groups of coincident points of ``pts``, or ``None`` when there is nothing to merge: no two rows coincide,
    or all do (one point; each engine lays that out as one spot itself).

    Parameters
    ----------
    pts : numpy.ndarray, shape (N, d), or (N, N) dissimilarities with ``precomputed``
        Checked points (:func:`supviz.dr.base.check_layout_input`), so rows that coincide up to rounding are equal.
    precomputed : bool
        Whether ``pts`` are dissimilarities (zero dissimilarity: the same point).

    Returns
    -------
    CoincidentPoints or None
        Groups numbered by first appearance (:func:`supviz.core.geometry.coincident_groups`).
    """
    from supviz.core.geometry import coincident_groups

    labels = coincident_groups(pts, precomputed=precomputed)
    _, first, inverse, counts = np.unique(labels, return_index=True, return_inverse=True, return_counts=True)
    if first.size in (1, pts.shape[0]):
        return None
    return CoincidentPoints(first=first, inverse=inverse.ravel(), counts=counts)
