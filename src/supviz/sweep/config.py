"""The configuration of ``supviz sweep``: a grid of toy-model cells and what to measure in each.

A sweep file is TOML with these tables (every key optional but ``[grid]``'s lists; ``supviz sweep
--example`` prints the shipped example, ``supviz/sweep/example.toml``)::

    seed = 0                  # root seed: every cell's seed derives from it and the cell's own parameters
    [grid]                    # cells = n_features x hidden x probabilities x importances x replicates
    [train]                   # the optimiser: supviz.toy.TrainConfig's fields but the grid ones and seed
    [features]                # pictures of the rows of W, measured with layout_metrics
    [datapoints]              # pictures of h = W^T x (and of x, the control) at each point count
    [sae]                     # sparse autoencoders on h, scored against the known features
    [run]                     # n_jobs, scheduler, cache_dir: as a study's [run]

Each check names the TOML key (``grid.hidden[2]``), in the words of :mod:`supviz.core.validation`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from supviz.core.config import document_keys, field_names, from_table, table_keys
from supviz.core.validation import check_choice, check_float, check_int, check_probability
from supviz.errors import SupvizError

METHODS = ("mds", "umap", "tsne")

#: Fields of supviz.toy.TrainConfig that the grid or the root seed sets, not [train].
_GRID_FIELDS = ("n_features", "hidden", "probabilities", "importances", "seed")


def _list(name: str, value: Any, check) -> list:
    if not isinstance(value, (list, tuple)) or not value:
        raise SupvizError(f"`{name}` must be a non-empty list; got {value!r}.")
    out = [check(f"{name}[{i}]", v) for i, v in enumerate(value)]
    seen = set()
    for v in out:
        key = v if not isinstance(v, list) else tuple(v)
        if key in seen:
            raise SupvizError(f"`{name}` must not repeat a value; got {v!r} twice.")
        seen.add(key)
    return out


def _methods(name: str, value: Any, *, allow_empty: bool = True) -> list[str]:
    if isinstance(value, (list, tuple)) and not value and allow_empty:
        return []
    return _list(name, value, lambda n, v: check_choice(n, v, METHODS))


@dataclass
class GridConfig:
    """The cells: every combination of these lists, each trained ``replicates`` times."""

    n_features: list[int] = field(default_factory=lambda: [200])
    """Feature counts n."""
    hidden: list[int] = field(default_factory=lambda: [5, 10, 20, 40])
    """Hidden sizes m."""
    probabilities: list[float] = field(default_factory=lambda: [1.0, 0.3, 0.1, 0.03])
    """Feature probabilities p."""
    importances: list[str] = field(default_factory=lambda: ["uniform", "geometric:0.98"])
    """Importance curves: 'uniform', 'geometric:<r>' or 'power:<k>'."""
    replicates: int = 3
    """Independently seeded instances of every cell (the sweep's seeds)."""

    def __post_init__(self) -> None:
        from supviz.toy.importance import check_importance_spec

        self.n_features = _list("grid.n_features", self.n_features, lambda n, v: check_int(n, v, min_value=2))
        self.hidden = _list("grid.hidden", self.hidden, lambda n, v: check_int(n, v, min_value=1))
        self.probabilities = _list("grid.probabilities", self.probabilities, check_probability)

        def imp(name: str, v: Any) -> str:
            if not isinstance(v, str):
                raise SupvizError(f"`{name}` must be 'uniform', 'geometric:<r>' or 'power:<k>'; got {v!r}.")
            return str(check_importance_spec(name, v, 2))

        self.importances = _list("grid.importances", self.importances, imp)
        self.replicates = check_int("grid.replicates", self.replicates, min_value=1, max_value=1000)

    @property
    def n_cells(self) -> int:
        """Number of trained instances."""
        return (
            len(self.n_features) * len(self.hidden) * len(self.probabilities) * len(self.importances) * self.replicates
        )


@dataclass
class FeaturesConfig:
    """Pictures of the feature directions (the rows of W, n points in m dimensions)."""

    methods: list[str] = field(default_factory=lambda: ["mds", "umap"])
    """Layout methods (any of mds, umap, tsne; [] = none)."""
    k: int = 10
    """Neighbourhood size of trustworthiness, continuity and k-NN recall."""
    mds_type: str = "interval"
    """SMACOF transformation of the MDS pictures (the study's: interval)."""

    def __post_init__(self) -> None:
        self.methods = _methods("features.methods", self.methods)
        self.k = check_int("features.k", self.k, min_value=1)
        self.mds_type = check_choice("features.mds_type", self.mds_type, ("ratio", "interval", "ordinal"))


@dataclass
class DatapointsConfig:
    """Pictures of data points ``h = W^T x`` against the inputs ``x`` (issue 5's measures)."""

    points: list[int] = field(default_factory=lambda: [500])
    """Data-point counts N (each is a column of the grid); [] = no data-point measures."""
    methods: list[str] = field(default_factory=lambda: ["umap"])
    """Layout methods of the pictures of h and x; the exact measures of h itself are always taken."""
    k: int = 10
    """Neighbourhood size."""

    def __post_init__(self) -> None:
        if isinstance(self.points, (list, tuple)) and not self.points:
            self.points = []
        else:
            self.points = _list("datapoints.points", self.points, lambda n, v: check_int(n, v, min_value=10))
        self.methods = _methods("datapoints.methods", self.methods)
        self.k = check_int("datapoints.k", self.k, min_value=1)


@dataclass
class SaeConfig:
    """Sparse autoencoders trained on each cell's ``h`` and scored against its features (``supviz.sae``)."""

    architectures: list[str] = field(default_factory=list)
    """SAE architectures (supviz.sae.ARCHITECTURES); [] = no SAEs."""
    expansion_factors: list[float] = field(default_factory=lambda: [4.0])
    """Dictionary sizes as multiples of n (the number of true features)."""
    steps: int = 1000
    """Training steps of every SAE."""
    n_eval: int = 4096
    """Evaluation samples for the scores."""

    def __post_init__(self) -> None:
        if not isinstance(self.architectures, (list, tuple)):
            raise SupvizError(f"`sae.architectures` must be a list; got {self.architectures!r}.")
        if self.architectures:
            known = _sae_architectures()
            self.architectures = _list("sae.architectures", self.architectures, lambda n, v: check_choice(n, v, known))
        else:
            self.architectures = []
        self.expansion_factors = _list(
            "sae.expansion_factors",
            self.expansion_factors,
            lambda n, v: check_float(n, v, min_value=0.0, min_inclusive=False),
        )
        self.steps = check_int("sae.steps", self.steps, min_value=1)
        self.n_eval = check_int("sae.n_eval", self.n_eval, min_value=16)


def _sae_architectures() -> tuple[str, ...]:
    try:
        from supviz.sae import ARCHITECTURES
    except ImportError:
        raise SupvizError(
            "`sae.architectures` needs supviz.sae, which this installation does not have; set `sae.architectures = []`."
        ) from None
    return tuple(ARCHITECTURES)


@dataclass
class SweepRunConfig:
    """How the sweep executes (as a study's ``[run]``)."""

    n_jobs: int = 2
    """Local worker processes."""
    scheduler: str = ""
    """'' = local processes; 'local:N' = a Dask LocalCluster of N workers; or a Dask scheduler address."""
    cache_dir: str = ""
    """Cache folder; '' = <out>/cache (shared with `supviz run` if you point both at one folder)."""

    def __post_init__(self) -> None:
        from supviz.runtime.cluster import check_scheduler

        self.n_jobs = check_int("run.n_jobs", self.n_jobs, min_value=1, max_value=64)
        self.scheduler = check_scheduler(self.scheduler, "run.scheduler")
        if not isinstance(self.cache_dir, str):
            raise SupvizError(f"`run.cache_dir` must be a string; got {self.cache_dir!r}.")


@dataclass
class SweepConfig:
    """A whole sweep."""

    seed: int = 0
    """Root seed (cells: supviz.toy.instance_seed of it and their own parameters)."""
    grid: GridConfig = field(default_factory=GridConfig)
    train: dict[str, Any] = field(default_factory=lambda: {"steps": 3000})
    """Optimiser settings: supviz.toy.TrainConfig's fields but n_features, hidden, probabilities, importances, seed."""
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    datapoints: DatapointsConfig = field(default_factory=DatapointsConfig)
    sae: SaeConfig = field(default_factory=SaeConfig)
    run: SweepRunConfig = field(default_factory=SweepRunConfig)

    def __post_init__(self) -> None:
        self.seed = check_int("seed", self.seed, min_value=0)
        self.train_config(self.grid.n_features[0])  # checks [train] now, naming its keys

    def train_config(self, n_features: int) -> Any:
        """The :class:`supviz.toy.TrainConfig` of the cells with ``n_features`` (grid fields unused)."""
        import re

        from supviz.toy.config import TrainConfig

        grid_keys = sorted(set(self.train) & set(_GRID_FIELDS)) if isinstance(self.train, dict) else []
        if grid_keys:
            raise SupvizError(f"`train` has no key {grid_keys[0]!r} (the [grid] table or the root seed).")
        table_keys("train", self.train, field_names(TrainConfig, exclude=_GRID_FIELDS))
        try:
            return TrainConfig(
                n_features=n_features,
                hidden=(1,),
                probabilities=(1.0,),
                importances=("uniform",),
                seed=self.seed,
                **self.train,
            )
        except SupvizError as exc:
            raise SupvizError(re.sub(r"^`", "`train.", str(exc), count=1)) from None

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (TOML-ready)."""
        out: dict[str, Any] = {"seed": self.seed}
        for name in ("grid", "train", "features", "datapoints", "sae", "run"):
            value = getattr(self, name)
            out[name] = dict(value) if isinstance(value, dict) else dataclasses.asdict(value)
        return out


_TABLES: dict[str, type] = {
    "grid": GridConfig,
    "features": FeaturesConfig,
    "datapoints": DatapointsConfig,
    "sae": SaeConfig,
    "run": SweepRunConfig,
}


def sweep_from_dict(data: Any) -> SweepConfig:
    """Build and check a :class:`SweepConfig` from a parsed TOML document."""
    data = document_keys(data, {"seed", "train", *_TABLES}, what="sweep config")
    kwargs: dict[str, Any] = {}
    if "seed" in data:
        kwargs["seed"] = data["seed"]
    if "train" in data:
        kwargs["train"] = data["train"]
    for name, cls in _TABLES.items():
        if name in data:
            kwargs[name] = from_table(cls, data[name], name)
    return SweepConfig(**kwargs)


def example_toml_text() -> str:
    """The shipped example sweep (``supviz sweep --example``)."""
    return resources.files("supviz.sweep").joinpath("example.toml").read_text(encoding="utf-8")


def load_sweep(path: str | Path | None, *, name: str = "CONFIG") -> SweepConfig:
    """The sweep of the TOML file ``path`` (``None``: the shipped example); every failure one line."""
    if path is None:
        return sweep_from_dict(tomllib.loads(example_toml_text()))
    from supviz.core.config import read_toml

    data = read_toml(path, name=name)
    grid = data.get("grid")
    if not isinstance(grid, dict):
        raise SupvizError(
            f"`{name}` {str(path)!r} has no [grid] table: a sweep names its cells (n_features, hidden, "
            "probabilities, importances); `supviz sweep --example` prints one."
        )
    missing = [key for key in _GRID_LISTS if key not in grid]
    if missing:
        raise SupvizError(
            f"`{name}` [grid] must list {', '.join(missing)} (a sweep file names every axis of its cells; "
            "`supviz sweep --example` prints one)."
        )
    return sweep_from_dict(data)


#: The [grid] keys a sweep file must give (the shipped example's values are no silent default for them).
_GRID_LISTS = ("n_features", "hidden", "probabilities", "importances")


def dump_sweep(config: SweepConfig) -> str:
    """The config as TOML text (loads back to an equal config)."""
    import tomli_w

    return tomli_w.dumps(config.to_dict())
