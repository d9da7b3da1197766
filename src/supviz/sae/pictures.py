"""Pictures of one SAE: its decoder directions and its codes, with MDS, UMAP or t-SNE and per-point trust.

Two pictures, the two the study draws in its section E:

* :func:`picture_decoder`: the rows of ``W_dec`` as SAELens holds it (latent j's direction in the input space;
  :attr:`supviz.sae.SAE.saelens_W_dec`, so the lengths of a TopK / BatchTopK training folder with
  ``rescale_acts_by_decoder_norm`` are the file's, not the folded unit rows), as the
  study pictures feature directions: by default as unit vectors (``W_dec_j / ||W_dec_j||``, the
  directions the recovery scores compare; section E2 pictures them so), or as they are
  (``unit=False``: length included, as section C pictures the rows of ``W``). The picture's trust is
  measured against the pictured directions themselves.
* :func:`picture_codes`: the codes ``f(x) [N, d_sae]`` of activations ``x [N, d_in]`` that the user
  passes (as section E3 pictures the codes of ``h``). With ``reference`` (the activations themselves,
  or the true features where they are known, as E3 measures against ``x``) each point gets its own
  trust against it.

Both lay out with :func:`supviz.datapoints.datapoint_layout` (the study's data-point layouts: full
SMACOF up to 1,000 points, landmark SMACOF beyond, UMAP and t-SNE with their libraries' defaults;
so a picture of the study's codes here is the study's picture, the same bits at the same seed) and
measure with :func:`supviz.metrics.pointwise.pointwise_trust` (Venna and Kaski's trustworthiness and
continuity split per point). :meth:`SAEPicture.plot` draws with :func:`supviz.plot.plot_layout`.

The ``sae`` argument is anything :func:`supviz.sae.model.as_sae` takes: a supviz :class:`~supviz.sae.SAE`,
a SAELens SAE object (duck-typed: ``cfg.to_dict()`` and ``state_dict()``; SAELens is never imported) or
the path of a folder in SAELens' layout (:func:`supviz.sae.load`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.seeding import SeedLike
from supviz.core.validation import check_array, check_bool, check_int, check_keywords
from supviz.errors import SupvizError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from supviz.dr.base import Layout
    from supviz.metrics.pointwise import PointTrust
    from supviz.sae.model import SAE

logger = logging.getLogger(__name__)

__all__ = ["MIN_POINTS", "SAEPicture", "picture_codes", "picture_decoder"]

#: Fewest points a picture takes: UMAP, t-SNE and every neighbourhood measure need three.
MIN_POINTS = 3


@dataclass(eq=False)
class SAEPicture:
    """One 2-D picture of an SAE's decoder directions or codes.

    Attributes
    ----------
    layout : supviz.dr.Layout
        The picture, ``embedding [n, 2]`` float64 (compare pictures by invariants, not coordinates).
    points : np.ndarray [n, d] float64
        What was pictured: unit (or raw) decoder rows ``[n, d_in]``, or codes ``[N, d_sae]``.
    kind : {"decoder", "codes"}
    index : np.ndarray [n] int
        Row i of the picture is latent ``index[i]`` (decoder) or activation row ``index[i]`` (codes).
    columns : dict[str, np.ndarray [n]]
        Per-point values to colour or hover by: ``"latent"`` and ``"decoder norm"`` (decoder; the row norms
        of :attr:`SAE.saelens_W_dec <supviz.sae.SAE.saelens_W_dec>`, SAELens' ``W_dec`` as its file holds it);
        ``"active latents"`` (the code's L0) and ``"strongest latent"`` (argmax; -1 where no latent
        fires) (codes).
    sae : SAE
        The SAE pictured (converted from a SAELens object or read from a folder).
    reference : np.ndarray [n, d_ref] or None
        The space trust was measured against: the pictured directions (decoder), the user's
        ``reference`` (codes) or None.
    trust : PointTrust or None
        Per-point trustworthiness and continuity of ``layout`` against ``reference`` at ``k``
        neighbours; NaN with :attr:`PointTrust.reasons` where undefined (a collapsed picture,
        ``k > n - 2``).
    k : int
    notes : list[str]
        Dead latents, left-out decoder rows, collapsed codes, and the layout's own notes.
    """

    layout: "Layout"
    points: np.ndarray
    kind: str
    index: np.ndarray
    columns: dict[str, np.ndarray]
    sae: "SAE"
    reference: np.ndarray | None = None
    trust: "PointTrust | None" = None
    k: int = 10
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        t = "" if self.trust is None else f", mean trust={float(np.mean(self.trust.trust)):.4g}"
        return f"SAEPicture({self.kind} of {self.sae!r}, {self.layout.method}, n={len(self.index)}{t})"

    def plot(self, color: Any = None, ax: "Axes | None" = None, *, interactive: bool = False, **kwargs: Any) -> Any:
        """Draw the picture with :func:`supviz.plot.plot_layout` (or, ``interactive=True``, with
        :func:`supviz.plot.interactive.plot_layout`: every column of :attr:`columns` and the trust scores in the
        hover).

        ``color`` is a name of :attr:`columns` (its values, its name on the colour bar), ``"trust"``
        (each point's trust, :attr:`trust`: the 0..1 scale, T and C or why they are undefined in the
        corner, as ``plot_layout(..., color="trust", reference=...)`` draws it, not computed again) or
        what ``plot_layout`` takes; other keyword arguments go to ``plot_layout`` (those it takes: others
        are refused by name). ``hover`` (interactive only) is a dict of name -> one value per point, added
        to the columns.

        Returns
        -------
        matplotlib Axes, or a plotly Figure with ``interactive=True``.

        Raises
        ------
        SupvizError
            ``color="trust"`` on a picture without trust (:func:`picture_codes` without ``reference``);
            ``interactive`` not a bool; a keyword ``plot_layout`` does not take; ``hover`` not a dict.
        """
        import inspect

        from supviz.dr.base import METHOD_NAMES
        from supviz.plot import interactive as iplot
        from supviz.plot import plot_layout
        from supviz.plot.trust import TRUST_SCALE, hover_columns, trust_corner

        interactive = check_bool("interactive", interactive)
        target = iplot.plot_layout if interactive else plot_layout
        valid = set(inspect.signature(target).parameters) - {"layout", "color", "ax"}
        check_keywords("SAEPicture.plot" + (" (interactive)" if interactive else ""), kwargs, valid)
        extra_hover = kwargs.pop("hover", None)
        if extra_hover is not None and not isinstance(extra_hover, dict):
            raise SupvizError(
                f"`hover` must be a dict of name -> one value per point; got {type(extra_hover).__name__}."
            )

        if isinstance(color, str) and color in self.columns:
            kwargs.setdefault("color_label", color)
            color = self.columns[color]
        elif isinstance(color, str) and color == "trust":
            if self.trust is None:
                raise SupvizError(
                    "`color='trust'` needs a picture with trust: pass `reference` to picture_codes (the activations)."
                )
            color = self.trust.trust
            kwargs.setdefault("color_label", TRUST_SCALE.label)
            kwargs.setdefault("corner", trust_corner(self.trust))
            kwargs.setdefault("vmin", TRUST_SCALE.vmin)
            kwargs.setdefault("vmax", TRUST_SCALE.vmax)
            kwargs.setdefault("cmap", TRUST_SCALE.cmap)
        what = "decoder directions" if self.kind == "decoder" else "codes"
        kwargs.setdefault("title", f"{METHOD_NAMES.get(self.layout.method, self.layout.method)} of the SAE's {what}")
        if interactive:
            if ax is not None:
                raise SupvizError("`ax` is a matplotlib Axes: it does not go with `interactive=True`.")
            hover = {"latent" if self.kind == "decoder" else "row": self.index, **self.columns}
            hover.update(
                hover_columns(self.trust.columns(), next(iter(self.trust.reasons.values()), ""))
                if self.trust is not None
                else {}
            )
            return iplot.plot_layout(self.layout, color, hover={**hover, **(extra_hover or {})}, **kwargs)
        return plot_layout(self.layout, color, ax, **kwargs)


def picture_decoder(
    sae: Any,
    *,
    method: str = "mds",
    unit: bool = True,
    k: int = 10,
    random_state: SeedLike = None,
    **params: Any,
) -> SAEPicture:
    """A 2-D picture of an SAE's decoder directions (the rows of ``W_dec``), with their per-point trust.

    Parameters
    ----------
    sae : SAE, SAELens SAE object or folder path
        Anything :func:`supviz.sae.model.as_sae` takes.
    method : {"mds", "umap", "tsne"}, default "mds"
    unit : bool, default True
        Picture the directions ``W_dec_j / ||W_dec_j||`` (distances are then ``sqrt(2 - 2 cos)``); a
        latent whose decoder row is zero has no direction and is left out (a note says which). False
        pictures the rows as they are, lengths included. The rows are SAELens' ``W_dec`` as its file
        holds it (:attr:`SAE.saelens_W_dec <supviz.sae.SAE.saelens_W_dec>`): where supviz folded
        ``rescale_acts_by_decoder_norm`` into the encoder (its :attr:`~supviz.sae.SAE.W_dec` rows then
        unit length), the lengths pictured and the ``"decoder norm"`` column are the file's row norms.
    k : int, default 10
        Neighbourhood size of the trust scores.
    random_state : int, Generator, SeedSequence or None
        Seeds the layout (:func:`supviz.datapoints.datapoint_layout`); equal seeds give equal pictures.
    **params
        Method parameters, over :data:`supviz.datapoints.DEFAULT_PARAMS`.

    Returns
    -------
    SAEPicture
        ``kind="decoder"``, ``index`` the latents pictured, trust against the pictured directions.

    Raises
    ------
    SupvizError
        What :func:`~supviz.sae.model.as_sae` refuses, a bad ``method`` or ``k``, or fewer than
        :data:`MIN_POINTS` latents to picture (a single latent; all but two decoder rows zero).
    """
    from supviz.datapoints.layouts import datapoint_layout
    from supviz.sae.model import as_sae

    model = as_sae(sae)
    k = check_int("k", k, min_value=1)
    unit = check_bool("unit", unit)
    W = np.asarray(model.saelens_W_dec, dtype=np.float64)  # [d_sae, d_in], as SAELens holds it
    norms = np.linalg.norm(W, axis=1)
    notes: list[str] = []
    keep = np.flatnonzero(norms > 0) if unit else np.arange(model.d_sae)
    if unit and keep.size < model.d_sae:
        zero = np.flatnonzero(norms <= 0)
        notes.append(
            f"{zero.size} latent(s) with a zero decoder row have no direction and are left out (latents {_few(zero)})."
        )
    if keep.size < MIN_POINTS:
        raise SupvizError(
            f"a picture of the decoder needs at least {MIN_POINTS} latents"
            f"{' with a nonzero decoder row' if unit else ''}; got {keep.size} (d_sae={model.d_sae})."
        )
    points = W[keep] / norms[keep, None] if unit else W.copy()
    layout = datapoint_layout(points, method, random_state=random_state, **params)
    trust = _trust(points, layout, k)
    return _picture(
        layout,
        points,
        "decoder",
        keep,
        {"latent": keep.astype(np.float64), "decoder norm": norms[keep]},
        model,
        points,
        trust,
        k,
        notes,
    )


def picture_codes(
    sae: Any,
    activations: Any,
    *,
    method: str = "mds",
    reference: Any = None,
    k: int = 10,
    random_state: SeedLike = None,
    device: str = "cpu",
    **params: Any,
) -> SAEPicture:
    """A 2-D picture of an SAE's codes ``f(x) [N, d_sae]`` of activations ``x [N, d_in]``, with per-point trust.

    Parameters
    ----------
    sae : SAE, SAELens SAE object or folder path
        Anything :func:`supviz.sae.model.as_sae` takes.
    activations : array [N, d_in] (numpy or torch)
        The inputs to encode (:meth:`supviz.sae.SAE.encode`, float32, as the study encodes ``h``).
    method : {"mds", "umap", "tsne"}, default "mds"
    reference : array [N, d_ref], optional
        The space each point's trust is measured against: the activations themselves (does the picture
        of the codes keep the activations' neighbourhoods?) or the true features where they are known
        (the study's E3 measures against ``x``). Without it no trust is computed.
    k : int, default 10
        Neighbourhood size of the trust scores.
    random_state : int, Generator, SeedSequence or None
        Seeds the layout (:func:`supviz.datapoints.datapoint_layout`); equal seeds give equal pictures.
    device : str, default "cpu"
        Torch device of the encoding.
    **params
        Method parameters, over :data:`supviz.datapoints.DEFAULT_PARAMS`.

    Returns
    -------
    SAEPicture
        ``kind="codes"``; ``index`` is ``arange(N)``. Codes that are all the same (every latent dead on
        these inputs, or identical activations) give a one-spot picture, its trust NaN with the reason,
        and a note.

    Raises
    ------
    SupvizError
        What :func:`~supviz.sae.model.as_sae` or the encoder refuses (a width other than ``d_in``,
        NaN), fewer than :data:`MIN_POINTS` rows, a ``reference`` whose row count is not N, a bad
        ``method`` or ``k``.
    """
    from supviz.datapoints.layouts import datapoint_layout
    from supviz.sae.model import as_sae

    model = as_sae(sae)
    k = check_int("k", k, min_value=1)
    codes = np.asarray(model.encode(activations, device=device, name="activations"), dtype=np.float64)  # [N, d_sae]
    n = codes.shape[0]
    if n < MIN_POINTS:
        raise SupvizError(f"`activations` must hold at least {MIN_POINTS} rows to picture; got {n}.")
    ref = None
    if reference is not None:
        ref = check_array("reference", reference, ndim=2)
        if ref.shape[0] != n:
            raise SupvizError(
                f"`reference` must have one row per activation row: {n} rows; got shape {list(ref.shape)}."
            )
    notes: list[str] = []
    fired = codes != 0
    dead = np.flatnonzero(~fired.any(axis=0))
    if dead.size:
        notes.append(f"{dead.size} of {model.d_sae} latent(s) never fire on these activations (latents {_few(dead)}).")
    if not (codes != codes[0]).any():
        why = "every latent is dead on these activations" if not fired.any() else "every code is the same"
        notes.append(f"{why}: all {n} points of the picture coincide, and their trust is undefined.")
    layout = datapoint_layout(codes, method, random_state=random_state, **params)
    trust = None if ref is None else _trust(ref, layout, k)
    strongest = np.where(fired.any(axis=1), np.argmax(np.abs(codes), axis=1), -1)
    columns = {"active latents": fired.sum(axis=1).astype(np.float64), "strongest latent": strongest.astype(np.float64)}
    return _picture(layout, codes, "codes", np.arange(n), columns, model, ref, trust, k, notes)


def _trust(reference: np.ndarray, layout: Any, k: int) -> "PointTrust":
    """:func:`~supviz.metrics.pointwise.pointwise_trust` of ``layout`` against ``reference`` at ``k``; NaN with the
    reason (:func:`supviz.metrics.undefined.k_reason`) where ``k > n - 2`` (a small SAE at the default ``k``),
    which ``pointwise_trust`` refuses as a bad argument."""
    from supviz.metrics.pointwise import PointTrust, pointwise_trust
    from supviz.metrics.undefined import k_reason

    n = layout.n_points
    why = k_reason(k, n)
    if why is None:
        return pointwise_trust(reference, layout, k=k)
    logger.info("per-point trust undefined (NaN): %s.", why)
    nan = np.full(n, np.nan)
    return PointTrust(nan, nan.copy(), nan.copy(), nan.copy(), k, {"trustworthiness": why, "continuity": why})


def _picture(
    layout: Any,
    points: np.ndarray,
    kind: str,
    index: np.ndarray,
    columns: dict[str, np.ndarray],
    model: Any,
    reference: np.ndarray | None,
    trust: Any,
    k: int,
    notes: list[str],
) -> SAEPicture:
    for note in notes:
        logger.info("%s picture: %s", kind, note)
    return SAEPicture(
        layout=layout,
        points=points,
        kind=kind,
        index=np.asarray(index, dtype=np.int64),
        columns=columns,
        sae=model,
        reference=reference,
        trust=trust,
        k=k,
        notes=[*notes, *layout.notes],
    )


def _few(idx: np.ndarray, most: int = 8) -> str:
    """``"0, 3, 7"`` or ``"0, 3, ... (12 in all)"``."""
    head = ", ".join(str(int(i)) for i in idx[:most])
    return head if idx.size <= most else f"{head}, ... ({idx.size} in all)"
