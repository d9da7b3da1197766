"""UMAP and t-SNE on a GPU (or the CPU) through TorchDR, an optional backend.

TorchDR (``pip install torchdr``; pure PyTorch, so it runs wherever supviz's torch does) computes
the affinities and the gradient descent of UMAP and t-SNE as torch tensors on ``device``. It is
another implementation of the two methods, not the one the study's pictures use: umap-learn and
openTSNE stay the default, and ``backend="torchdr"`` is for point sets that are slow on the CPU.
Its pictures differ from umap-learn's and openTSNE's in their random numbers and optimiser
details, so compare them by invariants (:mod:`supviz.metrics`), not coordinates.

**Seeds.** TorchDR draws from torch's *global* generator and, given a ``random_state``, reseeds
every global generator (Python's, NumPy's, torch's, CUDA's) and sets ``PYTHONHASHSEED``. supviz
never reseeds globally, so it passes no ``random_state``: the call runs inside
:func:`_isolated_rng`, which seeds torch's global generators from supviz's own seed and restores
every global random state (and the environment) afterwards. Equal seeds give equal layouts on one
device (tested on the CPU).

**CPU.** On the CPU the call runs on one torch thread: with torch's default threads two t-SNE
calls with equal seeds gave different layouts (its scatter-adds are not ordered across threads),
and on two loaded cores a 60-point t-SNE took 6.8 s instead of 0.37 s (OpenMP threads waiting for
a core).

**GPU.** No GPU was lent to the session that wrote this backend: it is tested on the CPU, and its
speed on CUDA against umap-learn and openTSNE is not measured (``docs/benchmarks.md``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
from collections.abc import Iterator
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, int_seed
from supviz.core.validation import check_choice, check_float, check_int
from supviz.errors import SupvizError

log = logging.getLogger(__name__)

METHODS = ("umap", "tsne")
#: Fewest points (distinct points, when some coincide) TorchDR lays out.
MIN_POINTS = 4


@contextlib.contextmanager
def _isolated_rng(seed: int, device: str) -> Iterator[None]:
    """Seed torch's global generators for the block only; restore every global random state after it."""
    import torch

    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    py_state = random.getstate()
    np_state = np.random.get_state()
    env = os.environ.get("PYTHONHASHSEED")
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
            if env is None:
                os.environ.pop("PYTHONHASHSEED", None)
            else:
                os.environ["PYTHONHASHSEED"] = env


def torchdr_layout(
    X: Any,
    method: str,
    *,
    device: str = "cpu",
    random_state: SeedLike = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    perplexity: float = 30.0,
    max_iter: int | None = None,
    n_components: int = 2,
) -> Any:
    """A UMAP or t-SNE layout computed by TorchDR on ``device``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Finite points (brought to unit scale first, as every supviz layout).
    method : {"umap", "tsne"}
    device : str, default "cpu"
        ``"cpu"`` or ``"cuda[:N]"``.
    random_state : int, Generator, SeedSequence or None
        Seeds torch's generators for this call only (see the module docstring).
    n_neighbors, min_dist : UMAP's (``n_neighbors`` clamped to ``N - 1``, noted).
    perplexity : t-SNE's (clamped to ``(N - 1) / 3``, noted).
        Coincident points (equal up to rounding) are one point, laid out once with each copy at its
        point's place (:mod:`supviz.dr._coincident`, as the default backends do): the clamps then count
        the distinct points.
    max_iter : int, optional
        Optimiser iterations (TorchDR's default when omitted).
    n_components : int, default 2

    Returns
    -------
    supviz.dr.Layout
        ``params["backend"] = "torchdr"``; ``info["collapsed"]`` as every layout's;
        ``info["distinct_points"]``: how many distinct points were laid out.

    Raises
    ------
    SupvizError
        A bad parameter, fewer than 4 points (or distinct points), ``n_components`` not below the
        distinct points, a CUDA device this torch cannot use, or TorchDR not installed.
    """
    from supviz.dr._coincident import find_coincident
    from supviz.dr.base import Layout, add_note, check_layout_input, note_if_collapsed

    method = check_choice("method", method, METHODS)
    device = str(device)
    if not (device == "cpu" or device.startswith("cuda")):
        raise SupvizError(f"`device` must be 'cpu' or 'cuda[:N]'; got {device!r}.")
    try:
        import torchdr
    except ImportError:
        raise SupvizError("`backend` 'torchdr' needs the torchdr package: pip install torchdr.") from None
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SupvizError(f"`device` {device!r} needs CUDA, which this machine's torch cannot use.")
    notes: list[str] = []
    pts = check_layout_input(X, method=method, min_points=MIN_POINTS, notes=notes)
    n = pts.shape[0]
    n_components = check_int("n_components", n_components, min_value=1, max_value=n - 1)
    # coincident points are one spot, as in umap_layout and tsne_layout: TorchDR lays out the distinct points
    merge = find_coincident(pts, precomputed=False)
    if merge is not None:
        merge.note(notes, method, "as umap-learn's unique=True")
        if merge.n_distinct < MIN_POINTS:
            raise SupvizError(
                f"`X` must hold at least {MIN_POINTS} distinct points for TorchDR's {method}; got "
                f"{merge.n_distinct} among its {n} rows (coincident points are one point); use the default backend."
            )
        merge.check_n_components(n_components, method=f"TorchDR's {method}", min_points=MIN_POINTS)
        pts, n = merge.distinct(pts, precomputed=False), merge.n_distinct
    counted = "N" if merge is None else "distinct points"
    seed = (
        int_seed(random_state) if random_state is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    )
    kw: dict[str, Any] = {"n_components": n_components, "device": device, "backend": None, "verbose": False}
    if max_iter is not None:
        kw["max_iter"] = check_int("max_iter", max_iter, min_value=1)
    if method == "umap":
        k = check_int("n_neighbors", n_neighbors, min_value=2)
        if k > n - 1:
            add_note(notes, "n_neighbors %d clamped to %s - 1 = %d", k, counted, n - 1)
            k = n - 1
        md = check_float("min_dist", min_dist, min_value=0.0)
        model = torchdr.UMAP(n_neighbors=k, min_dist=md, **kw)
        params = {"n_neighbors": k, "min_dist": md}
    else:
        perp = check_float("perplexity", perplexity, min_value=0.0, min_inclusive=False)
        hi = (n - 1) / 3.0
        if perp > hi:
            add_note(notes, "perplexity %g clamped to (%s - 1) / 3 = %g", perp, counted, hi)
            perp = hi
        model = torchdr.TSNE(perplexity=perp, **kw)
        params = {"perplexity": perp}
    # TorchDR computes in float32, and its UMAP and t-SNE are Euclidean (translation invariant): centred at unit
    # scale, the points keep float32's 7 digits of their spread, whatever their offset (G + 1e13, at unit scale
    # 1 +- 1e-13, rounded to one float32 point and TorchDR refused it as one sample: break test 5, F0)
    centred = pts - pts.mean(axis=0)
    peak = float(np.abs(centred).max())
    single = (centred / peak if peak > 0 else centred).astype(np.float32)
    if np.unique(single, axis=0).shape[0] < n:
        raise SupvizError(
            f"`X` must have points that float32 tells apart for TorchDR's {method}; got {n} distinct points, of which "
            f"{n - np.unique(single, axis=0).shape[0]} coincide in float32 (relative to their spread); use the "
            "default backend (float64)."
        )
    threads = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(1)  # deterministic (and, on 2 loaded cores, 18x faster than the default threads)
    try:
        with _isolated_rng(seed, device):
            emb = model.fit_transform(torch.as_tensor(single, device=device))
    finally:
        torch.set_num_threads(threads)
    embedding = np.asarray(emb.detach().cpu().numpy() if hasattr(emb, "detach") else emb, dtype=np.float64)
    if not np.isfinite(embedding).all():
        raise SupvizError(
            f"TorchDR's {method} gave a non-finite layout on {device}; try more points or the default backend."
        )
    collapsed = note_if_collapsed(embedding, notes, method)
    return Layout(
        embedding=embedding if merge is None else merge.expand(embedding),
        method=method,
        params={
            **params,
            "backend": "torchdr",
            "device": device,
            "seed": seed,
            "n_components": n_components,
            **({"max_iter": kw["max_iter"]} if "max_iter" in kw else {}),
        },
        info={
            "collapsed": collapsed,
            "deterministic": random_state is not None,
            "torchdr": torchdr.__version__,
            "distinct_points": n,
        },
        notes=notes,
    )
