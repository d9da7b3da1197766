"""What a trained (or loaded) grid of toy models is: :class:`InstanceSpec` and :class:`TrainedGrid`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.errors import SupvizError
from supviz.runtime.codecs import register_folder_codec

#: ``importance_name`` of weights whose importance curve is not known (external arrays).
UNKNOWN = "unknown"


@dataclass(frozen=True, eq=False)
class InstanceSpec:
    """One toy model of a grid.

    Attributes
    ----------
    n_features : int
        n, the number of features.
    n_hidden : int
        m, the hidden size.
    probability : float or None
        Feature probability p; ``None`` for external weights where it is not known.
    importance_name : str
        ``"uniform"``, ``"geometric:0.9"``, ``"power:20"``, ``"explicit:<i>"`` or ``"unknown"``.
    importance : np.ndarray [n] or None
        The importance curve (read-only); ``None`` where not known.
    seed : int or None
        The instance's own seed (init and data streams derive from it); ``None`` for external weights.
    """

    n_features: int
    n_hidden: int
    probability: float | None
    importance_name: str
    importance: np.ndarray | None
    seed: int | None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InstanceSpec):
            return NotImplemented
        same_imp = (self.importance is None and other.importance is None) or (
            self.importance is not None
            and other.importance is not None
            and np.array_equal(self.importance, other.importance)
        )
        return same_imp and (self.n_features, self.n_hidden, self.probability, self.importance_name, self.seed) == (
            other.n_features,
            other.n_hidden,
            other.probability,
            other.importance_name,
            other.seed,
        )

    __hash__ = None  # type: ignore[assignment]  # holds an array

    @property
    def label(self) -> str:
        """A short human-readable name, e.g. ``"m=20 p=0.166 uniform"``."""
        p = "p=?" if self.probability is None else f"p={self.probability:.3g}"
        return f"m={self.n_hidden} {p} {self.importance_name}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "n_features": self.n_features,
            "n_hidden": self.n_hidden,
            "probability": self.probability,
            "importance_name": self.importance_name,
            "importance": None if self.importance is None else [float(v) for v in self.importance],
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, d: Any, *, where: str = "instance") -> "InstanceSpec":
        """Inverse of :meth:`to_dict`, every field checked (a file can hold anything).

        Raises
        ------
        SupvizError
            ``"{where}: `field` must be ...; got ..."``: ``d`` not a mapping, a missing field, an
            int that is not an int >= 1 (``n_features``, ``n_hidden``) or >= 0 (``seed``), a
            probability outside (0, 1], an importance that is not ``n_features`` finite numbers.
        """
        from supviz.core.validation import check_array, check_int, check_probability

        try:
            if not isinstance(d, dict):
                raise SupvizError(f"must be a table of n_features, n_hidden, probability, ...; got {_short(d)}.")
            missing = [k for k in ("n_features", "n_hidden", "importance_name") if k not in d]
            if missing:
                raise SupvizError(f"has no {missing[0]!r}.")
            n = check_int("n_features", d["n_features"], min_value=1)
            m = check_int("n_hidden", d["n_hidden"], min_value=1)
            p = d.get("probability")
            p = None if p is None else check_probability("probability", p)
            name = d["importance_name"]
            if not isinstance(name, str):
                raise SupvizError(f"`importance_name` must be a string; got {_short(name)}.")
            imp = d.get("importance")
            arr = None
            if imp is not None:
                if not isinstance(imp, list):
                    raise SupvizError(f"`importance` must be a list of {n} numbers; got {_short(imp)}.")
                arr = check_array("importance", imp, ndim=1)
                if arr.shape[0] != n:
                    raise SupvizError(f"`importance` must have one entry per feature ({n}); got {arr.shape[0]}.")
                arr.setflags(write=False)
            seed = d.get("seed")
            seed = None if seed is None else check_int("seed", seed, min_value=0)
        except SupvizError as exc:
            raise SupvizError(f"{where}: {exc}") from None
        return cls(n, m, p, name, arr, seed)


@dataclass(eq=False)
class TrainedGrid:
    """A grid of toy models: their specs, weights, biases and loss curves.

    Attributes
    ----------
    specs : list[InstanceSpec]
        One per instance.
    weights : list[np.ndarray]
        Per instance, ``[n_features, n_hidden]`` float32; row i is feature i's direction.
    biases : list[np.ndarray]
        Per instance, ``[n_features]`` float32 (zeros, with a note in ``info``, where not known).
    losses : np.ndarray [instances, n_logged]
        Per-instance training-loss curve; point j is the mean loss over steps
        ``loss_steps[j-1] .. loss_steps[j] - 1``. ``n_logged`` is 0 for external weights.
    config : TrainConfig or None
        The config that trained the grid (``None`` for external weights).
    loss_steps : np.ndarray [n_logged] int
        The step count at the end of each loss window.
    labels : list[str]
        Per instance, where it came from (``"m=20 p=0.166 uniform"``, ``"60to20[3]"``).
    info : dict
        Timing, device, engine, source file and notes.
    diverged_at : np.ndarray [instances] int64
        Per instance, the step by which its loss or weights were first seen non-finite (training
        checks at the end of every loss window), or -1 where they stayed finite. Only
        ``train_grid(..., on_divergence="mark")`` returns a grid with entries >= 0.
    """

    specs: list[InstanceSpec]
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    losses: np.ndarray
    config: Any = None
    loss_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    labels: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    diverged_at: np.ndarray | None = None

    def __post_init__(self) -> None:
        k = len(self.specs)
        self.diverged_at = (
            np.full(k, -1, dtype=np.int64)
            if self.diverged_at is None
            else np.asarray(self.diverged_at, dtype=np.int64).reshape(k)
        )
        if len(self.weights) != k or len(self.biases) != k:
            raise SupvizError(
                f"a grid needs one weight and one bias per spec; got {k} specs, {len(self.weights)} weights, "
                f"{len(self.biases)} biases."
            )
        self.losses = np.asarray(self.losses, dtype=np.float64).reshape(k, -1) if k else np.zeros((0, 0))
        self.loss_steps = np.asarray(self.loss_steps, dtype=np.int64)
        if self.losses.shape[1] != self.loss_steps.shape[0]:
            raise SupvizError(
                f"`losses` has {self.losses.shape[1]} points per curve but `loss_steps` has {self.loss_steps.shape[0]}."
            )
        for i, (s, w, b) in enumerate(zip(self.specs, self.weights, self.biases)):
            if w.shape != (s.n_features, s.n_hidden) or b.shape != (s.n_features,):
                raise SupvizError(
                    f"instance {i}: weights {w.shape} / bias {b.shape} do not match n_features={s.n_features}, "
                    f"n_hidden={s.n_hidden}."
                )
        if not self.labels:
            self.labels = [s.label for s in self.specs]

    def __len__(self) -> int:
        return len(self.specs)

    def __repr__(self) -> str:
        def values(items: Any) -> str:
            seen = list(
                dict.fromkeys("?" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v)) for v in items)
            )
            return seen[0] if len(seen) == 1 else "{" + ", ".join(seen[:6]) + (", ..." if len(seen) > 6 else "") + "}"

        steps = f"{int(self.loss_steps[-1])} steps" if self.loss_steps.size else "not trained here"
        finals = self.final_losses[np.isfinite(self.final_losses)]
        loss = f", final loss {finals.min():.3g}-{finals.max():.3g}" if finals.size else ""
        diverged = f", {len(self.diverged)} diverged" if self.diverged else ""
        return (
            f"TrainedGrid({len(self)} instances: n={values(s.n_features for s in self.specs)}, "
            f"m={values(s.n_hidden for s in self.specs)}, p={values(s.probability for s in self.specs)}, "
            f"importance={values(s.importance_name for s in self.specs)}; {steps}{loss}{diverged}; "
            ".to_frame() for the table)"
        )

    def to_frame(self, **kwargs: Any) -> Any:
        """One row per instance: spec, seed, final loss, divergence and scalar diagnostics.

        See :func:`supviz.toy.diagnostics.grid_frame` for the columns, their units and
        definitions (also in ``df.attrs["units"]`` / ``df.attrs["definitions"]``).

        Parameters
        ----------
        **kwargs
            ``norm_threshold``, ``mean_abs_fraction`` of the represented-feature rules.

        Returns
        -------
        pandas.DataFrame
        """
        from supviz.toy.diagnostics import grid_frame

        return grid_frame(self, **kwargs)

    def select(
        self,
        n_hidden: int | None = None,
        probability: float | None = None,
        importance_name: str | None = None,
    ) -> list[int]:
        """Indices of the instances matching every given criterion (probability to 1e-9 relative).

        Examples
        --------
        >>> grid.select(n_hidden=20, importance_name="uniform")  # doctest: +SKIP
        [18, 19, 20, 21, 22, 23]
        """
        out = []
        for i, s in enumerate(self.specs):
            if n_hidden is not None and s.n_hidden != n_hidden:
                continue
            if probability is not None and (
                s.probability is None or not math.isclose(s.probability, probability, rel_tol=1e-9, abs_tol=0.0)
            ):
                continue
            if importance_name is not None and s.importance_name != importance_name:
                continue
            out.append(i)
        return out

    def stack(self, indices: Sequence[int] | None = None) -> np.ndarray:
        """The weights of ``indices`` (default: all) as one ``[k, n, m]`` array; they must share a shape."""
        idx = range(len(self)) if indices is None else list(indices)
        ws = [self.weights[i] for i in idx]
        shapes = {w.shape for w in ws}
        if len(shapes) > 1:
            raise SupvizError(
                f"`stack` needs instances of one shape; got shapes {sorted(shapes)} (select one n_hidden first)."
            )
        if not ws:
            raise SupvizError("`stack` needs at least one instance; got none.")
        return np.stack(ws)

    @property
    def diverged(self) -> list[int]:
        """Indices of the instances whose training diverged (see ``diverged_at``)."""
        return [int(i) for i in np.flatnonzero(self.diverged_at >= 0)]

    @property
    def final_losses(self) -> np.ndarray:
        """The last point of each loss curve ``[instances]`` (NaN where there is none)."""
        if self.losses.shape[1] == 0:
            return np.full(len(self), np.nan)
        return self.losses[:, -1].copy()


# A trained grid in a cached value is a `supviz train` run folder of its own (weights.safetensors +
# metadata.json), not a tree of fields.
register_folder_codec(TrainedGrid, "supviz.toy.storage:write_grid_files", "supviz.toy.storage:load_grid")


def _short(value: Any) -> str:
    """``repr(value)``, cut to 60 characters (a file can hold a value of any size)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
