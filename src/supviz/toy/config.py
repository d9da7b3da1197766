"""The training configuration of a grid of toy models: :class:`TrainConfig`.

Every field has a docstring; :func:`field_docs` reads them back so that ``supviz train --help``
says exactly what this file says. A config is checked once, in ``__post_init__`` (single fields,
then the checks that involve two fields), and is saved beside every trained grid.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import math
import os
import re
import textwrap
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.validation import check_choice, check_float, check_int, check_probability, fail
from supviz.errors import SupvizError
from supviz.toy.importance import check_importance_spec, feature_probabilities, importance_curve, importance_name

SCHEDULES = ("constant", "linear", "cosine")
INITS = ("xavier", "reference")
ENGINES = ("auto", "numba", "torch")

#: Instances per model in the reference notebook (one per probability); ``init="reference"`` uses it.
REFERENCE_INSTANCES = 6

if TYPE_CHECKING:  # pragma: no cover
    from supviz.toy.grid import InstanceSpec

_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def keyword_checked(cls: type) -> type:
    """Make a dataclass refuse unknown keyword arguments with a :class:`SupvizError` naming the valid ones.

    The generated ``__init__`` raises a bare ``TypeError`` ("unexpected keyword argument") that
    lists nothing; a typo in a config field should say which fields exist.
    """
    from supviz.core.validation import check_keywords

    init = cls.__init__
    valid = tuple(f.name for f in dataclasses.fields(cls) if f.init)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        check_keywords(cls.__name__, kwargs, valid)
        init(self, *args, **kwargs)

    cls.__init__ = __init__  # type: ignore[method-assign]
    return cls


@keyword_checked
@dataclass(frozen=True)
class TrainConfig:
    """How to train a grid of toy models: importance variants x hidden sizes x probabilities.

    The defaults are the study's grid and recipe (SPEC section 0): n = 60, m in {3, 5, 10, 20,
    30, 40}, six probabilities ``20 ** -linspace(0, 1, 6)``, importance uniform and ``0.9 ** i``,
    AdamW (lr 1e-3, weight decay 0.01 as in ``torch.optim.AdamW``'s default, which the reference
    notebook used), batch 1024, 10,000 steps, constant learning rate. Sequences may be given as
    lists; they are stored as tuples.
    """

    n_features: int = 60
    """Number of ground-truth features n (the input and output size of every model)."""
    hidden: tuple[int, ...] = (3, 5, 10, 20, 30, 40)
    """Hidden sizes m, one grid row each (m >= n_features is valid: the no-superposition control)."""
    probabilities: tuple[float, ...] = tuple(float(p) for p in feature_probabilities(6, 20.0))
    """Feature probabilities p in (0, 1]: each feature is present independently with probability p
    (default 20 ** -linspace(0, 1, 6))."""
    importances: tuple[str | tuple[float, ...], ...] = ("uniform", "geometric:0.9")
    """Importance variants: 'uniform', 'geometric:<r>' (r ** i), 'power:<k>' (k ** -linspace(0, 1, n)) or an explicit
    list of n numbers."""
    steps: int = 10_000
    """Optimiser steps; every step draws a fresh batch."""
    batch_size: int = 1024
    """Samples per step and instance."""
    lr: float = 1e-3
    """Peak AdamW learning rate."""
    weight_decay: float = 0.01
    """AdamW decoupled weight decay (0.01 = torch.optim.AdamW's default, which the reference notebook used); applies to
    W and b."""
    betas: tuple[float, float] = (0.9, 0.999)
    """AdamW (beta1, beta2)."""
    eps: float = 1e-8
    """AdamW epsilon."""
    schedule: str = "constant"
    """Learning-rate schedule after warm-up: 'constant', 'linear' (to 0 at the last step) or 'cosine'
    (half cosine to 0)."""
    warmup_steps: int = 0
    """Steps of linear warm-up from 0 to lr before the schedule starts."""
    init: str = "xavier"
    """Initial W: 'xavier' (per instance, std = sqrt(2 / (n + m))) or 'reference' (std = sqrt(2 / (m * (n + 6))), what
    xavier_normal_ on the notebook's [6, n, m] tensor gives). b starts at 0."""
    seed: int = 0
    """Root seed; each instance trains from a seed derived from it and the instance's own n, m, p and importance curve
    (`instance_seed`), so a cell gets the same weights in any grid."""
    device: str = "cpu"
    """Torch device: 'cpu' or 'cuda[:N]'."""
    engine: str = "auto"
    """'numba' (fused CPU kernels, the fast path), 'torch' (autograd reference, any device) or 'auto' (numba on CPU,
    torch elsewhere)."""
    threads: int = 0
    """CPU worker threads of the numba engine (each trains its share of the instances); 0 = one per available CPU."""
    log_every: int = 100
    """Loss-curve resolution: each point is the mean training loss over this many steps."""

    def __post_init__(self) -> None:
        set_ = functools.partial(object.__setattr__, self)
        # single fields
        n = check_int("n_features", self.n_features, min_value=1)
        set_("n_features", n)
        set_("hidden", _int_tuple("hidden", self.hidden, min_value=1))
        probs = _seq("probabilities", self.probabilities, "a non-empty list of probabilities in (0, 1]")
        set_("probabilities", tuple(check_probability(f"probabilities[{i}]", p) for i, p in enumerate(probs)))
        _no_repeats("probabilities", self.probabilities)
        imps = self.importances
        if isinstance(imps, (str, np.ndarray)) or (
            isinstance(imps, Sequence) and imps and all(_is_number(v) for v in imps)
        ):
            imps = (imps,)  # one variant given bare
        if not isinstance(imps, Sequence) or not imps:
            raise fail("importances", "a non-empty list of importance specs", self.importances)
        set_("importances", tuple(check_importance_spec(f"importances[{i}]", s, n) for i, s in enumerate(imps)))
        _no_repeats("importances", self.importances)
        set_("steps", check_int("steps", self.steps, min_value=1))
        set_("batch_size", check_int("batch_size", self.batch_size, min_value=1))
        set_("lr", check_float("lr", self.lr, min_value=0.0, min_inclusive=False))
        set_("weight_decay", check_float("weight_decay", self.weight_decay, min_value=0.0))
        betas = _float_tuple("betas", self.betas)
        if len(betas) != 2:
            raise fail("betas", "two numbers (beta1, beta2)", self.betas)
        set_(
            "betas",
            tuple(
                check_float(f"betas[{i}]", b, min_value=0.0, max_value=1.0, max_inclusive=False)
                for i, b in enumerate(betas)
            ),
        )
        set_("eps", check_float("eps", self.eps, min_value=0.0, min_inclusive=False))
        set_("schedule", check_choice("schedule", self.schedule, SCHEDULES))
        set_("warmup_steps", check_int("warmup_steps", self.warmup_steps, min_value=0))
        set_("init", check_choice("init", self.init, INITS))
        set_("seed", check_int("seed", self.seed, min_value=0))
        if not isinstance(self.device, str) or not _DEVICE.match(self.device):
            raise fail("device", "'cpu' or 'cuda[:N]'", self.device)
        set_("engine", check_choice("engine", self.engine, ENGINES))
        set_("threads", check_int("threads", self.threads, min_value=0))
        set_("log_every", check_int("log_every", self.log_every, min_value=1))
        # across fields
        if self.warmup_steps > self.steps:
            raise SupvizError(
                f"`warmup_steps` must be <= `steps`; got warmup_steps={self.warmup_steps}, steps={self.steps}."
            )
        if self.engine == "numba" and self.device != "cpu":
            raise SupvizError(f"`engine` 'numba' runs on the CPU only; got engine='numba', device={self.device!r}.")

    # -- the grid ---------------------------------------------------------------------------

    @property
    def n_instances(self) -> int:
        """Number of instances in the grid."""
        return len(self.importances) * len(self.hidden) * len(self.probabilities)

    @property
    def n_logged(self) -> int:
        """Number of points on each loss curve: ``ceil(steps / log_every)``."""
        return math.ceil(self.steps / self.log_every)

    def importance_names(self) -> list[str]:
        """The name of each importance variant, in order (see :func:`~supviz.toy.importance.importance_name`)."""
        return [importance_name(s, index=i) for i, s in enumerate(self.importances)]

    def instances(self) -> list["InstanceSpec"]:
        """The grid, importance-major, then hidden size, then probability (the study's order).

        Each instance's seed is :func:`instance_seed` of the root ``seed`` and the instance's own
        ``(n_features, m, p, importance)`` (replicate 0): it does not depend on the grid around
        it, so a cell trained alone, in a larger grid or on another worker is the same cell, bit
        for bit (the engines train each instance from its seed alone).
        """
        from supviz.toy.grid import InstanceSpec

        specs = []
        for spec, name in zip(self.importances, self.importance_names()):
            curve = importance_curve(spec, self.n_features)
            curve.setflags(write=False)
            for m in self.hidden:
                for p in self.probabilities:
                    seed = instance_seed(
                        self.seed, n_features=self.n_features, n_hidden=m, probability=p, importance=spec
                    )
                    specs.append(InstanceSpec(self.n_features, m, p, name, curve, seed))
        return specs

    # -- (de)serialisation -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/TOML types (tuples become lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = [list(x) if isinstance(x, tuple) else x for x in v]
            out[f.name] = v
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, base: "TrainConfig | None" = None, source: str = "config"
    ) -> "TrainConfig":
        """Build a config from a mapping; unknown keys are an error. Missing keys keep ``base``'s values."""
        from supviz.core.config import field_names, table_keys

        data = table_keys(source, data, field_names(cls), what="a table of training settings")
        return dataclasses.replace(base or cls(), **data)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str], *, base: "TrainConfig | None" = None) -> "TrainConfig":
        """Read a TOML file: the fields at the top level, or in a ``[train]`` table."""
        p = Path(path)
        if not p.is_file():
            raise SupvizError(f"`--config` must be an existing TOML file; got {str(p)!r}.")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SupvizError(f"could not read {str(p)!r} as TOML: {_one_line(exc)}.") from None
        if "train" in data and isinstance(data["train"], Mapping):
            if len(data) > 1:
                extra = ", ".join(sorted(repr(k) for k in data if k != "train"))
                raise SupvizError(f"{str(p)!r}: put every setting in the [train] table; found also {extra}.")
            data = data["train"]
        return cls.from_dict(data, base=base, source=str(p))

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with some fields changed (and checked again)."""
        return dataclasses.replace(self, **changes)


def instance_seed(
    root: int,
    *,
    n_features: int,
    n_hidden: int,
    probability: float,
    importance: "str | Sequence[float] | np.ndarray",
    replicate: int = 0,
) -> int:
    """The seed of one toy-model instance, derived from the root seed and the instance's own parameters.

    The instance is named by the text ``"n=<n>;m=<m>;p=<p as float.hex>;importance=<token>"``, where
    the token of a named curve is its canonical name (``"uniform"``, ``"geometric:0.9"``,
    ``"power:20"``) and that of an explicit curve is ``"values:"`` plus the SHA-256 of its float64
    little-endian bytes. The first 16 bytes of the SHA-256 of that text, read as four 32-bit words,
    and ``replicate`` address a child of ``root``:
    ``int_seed(child(root, w0, w1, w2, w3, replicate))`` (:mod:`supviz.core.seeding`).

    So the seed depends on nothing else: not the instance's place in a grid, not which other
    instances train beside it, not the worker that trains it. Two grids that share a cell (and the
    root seed and optimiser settings) give it the same weights, and a sweep that adds cells reuses
    the old ones.

    Parameters
    ----------
    root : int
        The root seed (``TrainConfig.seed``), >= 0.
    n_features, n_hidden : int
        n and m.
    probability : float
        p, in (0, 1].
    importance : str or sequence of float
        A named curve (``"uniform"``, ``"geometric:<r>"``, ``"power:<k>"``) or ``n_features`` numbers.
    replicate : int, default 0
        Replicate index: independent instances of the same cell (the seeds of a sweep).

    Returns
    -------
    int
        A 31-bit seed (:func:`supviz.core.seeding.int_seed`).

    Raises
    ------
    SupvizError
        A parameter out of range (the same checks as :class:`TrainConfig`).
    """
    import hashlib

    from supviz.core.seeding import child, int_seed

    root = check_int("seed", root, min_value=0)
    n = check_int("n_features", n_features, min_value=1)
    m = check_int("n_hidden", n_hidden, min_value=1)
    p = check_probability("probability", probability)
    replicate = check_int("replicate", replicate, min_value=0)
    spec = check_importance_spec("importance", importance, n)
    if isinstance(spec, str):
        token = spec
    else:
        token = "values:" + hashlib.sha256(np.asarray(spec, dtype="<f8").tobytes()).hexdigest()
    text = f"n={n};m={m};p={float(p).hex()};importance={token}"
    words = np.frombuffer(hashlib.sha256(text.encode("utf-8")).digest()[:16], dtype="<u4")
    return int_seed(child(root, *(int(w) for w in words), replicate))


@functools.cache
def field_docs(cls: type = TrainConfig) -> dict[str, str]:
    """The docstring under each dataclass field of ``cls`` (used for ``--help``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):  # pragma: no cover - source not shipped
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:]):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _int_tuple(name: str, value: Any, *, min_value: int) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or len(value) == 0:
        raise fail(name, f"a non-empty list of ints >= {min_value}", value)
    out = tuple(check_int(f"{name}[{i}]", v, min_value=min_value) for i, v in enumerate(value))
    _no_repeats(name, out)
    return out


def _seq(name: str, value: Any, what: str) -> tuple[Any, ...]:
    if _is_number(value):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or len(value) == 0:
        raise fail(name, what, value)
    return tuple(value)


def _float_tuple(name: str, value: Any) -> tuple[float, ...]:
    return tuple(check_float(f"{name}[{i}]", v) for i, v in enumerate(_seq(name, value, "a non-empty list of numbers")))


def _no_repeats(name: str, values: tuple[Any, ...]) -> None:
    seen = set()
    for v in values:
        if v in seen:
            raise SupvizError(f"`{name}` must not repeat a value; got {v!r} twice.")
        seen.add(v)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
