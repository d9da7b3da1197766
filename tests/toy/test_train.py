"""Training: batched == alone, bit-for-bit determinism, fast engine == reference, and the physics
(two features in one dimension; the paper's n = 20, m = 5 sweep).

What is exact and what is within a tolerance (issue 18): an instance alone and inside any grid, on
any number of threads, gets the same bits *by construction* (one product call per instance, of the
same shape, at the same 64-byte alignment, by the implementation the machine's table gives that
shape; own kernels elsewhere), and each test of it runs once per product implementation
(``supviz.runtime.products``: torch/MKL, numpy/OpenBLAS, numba), each forced in turn, so a CPU
whose table picks another implementation runs a path tested here. Across implementations (hence
across CPUs) the weights agree only within float32 rounding amplified by training: the tolerance is
the one the fast engine meets against the autograd reference, whose arithmetic differs in every
product and in the loss.
"""

import math

import numpy as np
import pytest
import torch

from supviz.errors import SupvizError
from supviz.runtime import products
from supviz.toy import TrainConfig, learning_rates, represented_mask, train_grid, train_instances
from supviz.toy.model import init_std, init_weights

# a small grid that still mixes every kind of instance: small and large m (both factorisations),
# m > n, dense and sparse p, two importance curves
SMALL = TrainConfig(
    n_features=12,
    hidden=(2, 5, 12, 15),
    probabilities=(1.0, 0.3, 0.02),
    importances=("uniform", "geometric:0.8"),
    steps=40,
    batch_size=64,
    log_every=15,
)


@pytest.fixture(scope="module")
def small_grid():
    return train_grid(SMALL, progress=False)


def test_shapes_and_loss_curves(small_grid):
    g = small_grid
    assert len(g) == 24
    assert [w.shape for w in g.weights[:4]] == [(12, 2)] * 3 + [(12, 5)]
    assert all(w.dtype == np.float32 for w in g.weights) and g.biases[0].shape == (12,)
    assert g.losses.shape == (24, 3)  # windows of 15, 15, 10 steps
    np.testing.assert_array_equal(g.loss_steps, [15, 30, 40])
    assert np.isfinite(g.losses).all() and (g.losses >= 0).all()
    assert (g.losses[:, -1] < g.losses[:, 0]).mean() > 0.8  # it learns
    assert g.select(n_hidden=5, importance_name="uniform") == [3, 4, 5]
    assert g.select(probability=0.3) == [1, 4, 7, 10, 13, 16, 19, 22]


IMPLS = ["auto", *products.IMPLEMENTATIONS]


def _with(impl, fn):
    """``fn()`` with every product served by ``impl`` ("auto": the machine's table)."""
    if impl == "auto":
        return fn()
    with products.forced(impl):
        return fn()


@pytest.fixture(scope="module")
def grids_by_impl(small_grid):
    """SMALL trained with each product implementation forced (and the machine's choice)."""
    out = {"auto": small_grid}
    for impl in products.IMPLEMENTATIONS:
        out[impl] = _with(impl, lambda: train_grid(SMALL, progress=False))
    return out


@pytest.mark.parametrize("impl", IMPLS)
def test_each_instance_gets_its_alone_result_bit_for_bit(grids_by_impl, impl):
    grid = grids_by_impl[impl]
    for i in (0, 7, 11, 23):  # m = 2, 12 (= n), 15 (> n) and a geometric-importance instance
        alone = _with(impl, lambda: train_instances([grid.specs[i]], SMALL, progress=False))
        np.testing.assert_array_equal(alone.weights[0], grid.weights[i])
        np.testing.assert_array_equal(alone.biases[0], grid.biases[i])
        np.testing.assert_array_equal(alone.losses[0], grid.losses[i])


@pytest.mark.parametrize("impl", IMPLS)
def test_alone_equals_batched_when_buffers_are_not_whole_cache_lines(impl):
    # batch 7 x n 12 = 84 floats per instance, W slots of 24 and 60 floats: instances then train in
    # blocks of one and W slots are padded to 16 floats, so every operand keeps its 64-byte alignment
    cfg = SMALL.replace(hidden=(2, 5), probabilities=(1.0, 0.3, 0.02), batch_size=7, steps=12, log_every=6)
    grid = _with(impl, lambda: train_grid(cfg, progress=False))
    for i in (1, 4):
        alone = _with(impl, lambda: train_instances([grid.specs[i]], cfg, progress=False))
        np.testing.assert_array_equal(alone.weights[0], grid.weights[i])
        np.testing.assert_array_equal(alone.biases[0], grid.biases[i])


def test_product_implementations_agree_within_float32_rounding(grids_by_impl):
    # Measured (AMD EPYC, 40 steps): at most 6e-8 apart (one ulp at |w| ~ 1). Stated: the 2e-5 that
    # the fast engine meets against the autograd reference below, whose arithmetic differs more.
    base = grids_by_impl["torch"]
    for impl in ("numpy", "numba", "auto"):
        other = grids_by_impl[impl]
        for a, b in zip(base.weights + base.biases, other.weights + other.biases):
            np.testing.assert_allclose(a, b, rtol=0, atol=2e-5, err_msg=impl)
        np.testing.assert_allclose(base.losses, other.losses, rtol=1e-5)


def test_same_seed_same_bits_any_thread_count(small_grid):
    before = torch.get_num_threads()
    again = train_grid(SMALL.replace(threads=1), progress=False)
    assert torch.get_num_threads() == before  # restored
    for a, b in zip(small_grid.weights + small_grid.biases, again.weights + again.biases):
        np.testing.assert_array_equal(a, b)
    other = train_grid(SMALL.replace(seed=1), progress=False)
    assert not np.array_equal(other.weights[0], small_grid.weights[0])


def test_fast_engine_matches_the_torch_reference(small_grid):
    ref = train_grid(SMALL.replace(engine="torch"), progress=False)
    assert ref.info["engine"] == "torch" and small_grid.info["engine"] == "numba"
    for a, b in zip(small_grid.weights + small_grid.biases, ref.weights + ref.biases):
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-5)  # float32 rounding over 40 steps
    np.testing.assert_allclose(small_grid.losses, ref.losses, rtol=1e-5)


def test_init_is_per_instance():
    specs = SMALL.instances()
    w = init_weights(specs[0])  # n = 12, m = 2
    assert w.shape == (12, 2)
    assert init_std(60, 20) == pytest.approx(math.sqrt(2 / 80))
    assert init_std(60, 20, "reference") == pytest.approx(math.sqrt(2 / (20 * 66)))
    # the reference rule is what xavier_normal_ does on the notebook's [6, n, m] tensor
    t = torch.empty(6, 60, 20)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(t)
    assert math.sqrt(2 / (fan_in + fan_out)) == pytest.approx(init_std(60, 20, "reference"))
    # empirical std over many instances of one shape
    big = TrainConfig(
        n_features=60, hidden=(20,), probabilities=tuple(np.linspace(0.05, 1, 50)), importances=("uniform",)
    )
    ws = torch.stack([init_weights(s) for s in big.instances()])
    assert ws.std().item() == pytest.approx(math.sqrt(2 / 80), rel=0.03)
    assert not torch.equal(ws[0], ws[1])


def test_learning_rate_schedules():
    c = TrainConfig(steps=10, lr=1.0)
    np.testing.assert_allclose(learning_rates(c), np.ones(10))
    np.testing.assert_allclose(learning_rates(c.replace(schedule="linear")), 1 - np.arange(10) / 10)
    cos = learning_rates(c.replace(schedule="cosine"))
    assert cos[0] == 1.0 and cos[5] == pytest.approx(0.5) and np.all(np.diff(cos) < 0)
    warm = learning_rates(c.replace(warmup_steps=4, schedule="linear"))
    np.testing.assert_allclose(warm[:4], [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(warm[4:], 1 - np.arange(6) / 6)


def test_schedule_reaches_training():
    base = SMALL.replace(hidden=(3,), importances=("uniform",), steps=20)
    a = train_grid(base, progress=False)
    b = train_grid(base.replace(schedule="cosine"), progress=False)
    assert not np.array_equal(a.weights[0], b.weights[0])


def test_two_features_one_dimension():
    """Dense: one feature (the more important), the other dropped. Sparse: the antipodal pair.

    The antipodal pair is one of two optima at p = 0.1: with the instance seeds of issue 13 it forms
    at root seeds 1, 2, 7, 8, 9 of 0-9 (after 3,000 or 10,000 steps); at the others the sparse
    model keeps feature 0 with feature 1 at ~0.3 along it. Seed 2 shows both cases within 3,000 steps."""
    cfg = TrainConfig(
        n_features=2,
        hidden=(1,),
        probabilities=(1.0, 0.1),
        importances=("geometric:0.7",),
        steps=3000,
        seed=2,
        threads=1,
    )
    g = train_grid(cfg, progress=False)
    dense, sparse = g.weights
    norms = np.abs(dense[:, 0])
    assert norms[0] > 0.9 and norms[1] < 0.2
    assert sparse[0, 0] * sparse[1, 0] < 0  # W = [a, -a]
    gram = sparse @ sparse.T
    assert gram[0, 1] < -0.8 and np.all(np.abs(sparse) > 0.9)


def test_superposition_grows_with_sparsity():
    """The paper's n = 20, m = 5, importance 0.7^i: 5 features at p = 1, at least 12 at p = 0.001.

    Reference recipe elsewhere: 5 at p = 1 and 13-15 at p = 0.001; here 4000 steps (of 10,000)
    give 5 and 13 at this seed, and >= 12 at 9 of root seeds 0-9 (seed 0 gives 11; instance seeds
    of issue 13)."""
    cfg = TrainConfig(
        n_features=20,
        hidden=(5,),
        probabilities=(1.0, 0.001),
        importances=("geometric:0.7",),
        steps=4000,
        seed=1,
        threads=1,
    )
    g = train_grid(cfg, progress=False)
    dense, sparse = (int(represented_mask(w, rule="norm", threshold=0.5).sum()) for w in g.weights)
    assert dense == 5
    assert sparse >= 12


def test_progress_bar(capsys):
    train_grid(SMALL.replace(hidden=(2,), steps=5), progress=True)
    err = capsys.readouterr().err
    assert "train 6 models" in err and "loss=" in err
    train_grid(SMALL.replace(hidden=(2,), steps=5), progress=False)
    assert capsys.readouterr().err == ""


def test_bad_specs():
    spec = SMALL.instances()[0]
    with pytest.raises(SupvizError, match="at least one instance"):
        train_instances([], SMALL)
    other = TrainConfig(n_features=5, hidden=(2,), probabilities=(1.0,), importances=("uniform",)).instances()[0]
    with pytest.raises(SupvizError, match=r"must share `n_features`; got \[5, 12\]"):
        train_instances([spec, other], SMALL)
    with pytest.raises(SupvizError, match="CUDA"):
        if torch.cuda.is_available():
            raise SupvizError("CUDA present: nothing to test")
        train_grid(SMALL.replace(device="cuda"), progress=False)


# -- divergence: found at the first loss window where it appears, named, never returned silently ----------

BLOWUP = TrainConfig(
    n_features=5,
    hidden=(2, 3),
    probabilities=(0.5, 1.0),
    importances=("geometric:0.9",),
    steps=60,
    batch_size=16,
    lr=1e10,
    log_every=10,
)


@pytest.mark.parametrize("engine", ["numba", "torch"])
def test_divergence_raises_naming_instances_and_step(engine):
    from supviz.toy.train import TrainingDiverged

    # Which instances overflow first at lr=1e10 depends on the CPU's rounding (CI saw the p=1 pair, this box the
    # p=0.5 pair), so the test pins the format and that the message names exactly the instances reported.
    with pytest.raises(
        TrainingDiverged,
        match=r"training diverged: \d of 4 instance\(s\) had non-finite loss or weights "
        r"by step 10 \(m=[23] p=(0\.5|1) geometric:0\.9.*lower `lr` \(got 1e\+10\)",
    ) as info:
        train_grid(BLOWUP.replace(engine=engine), progress=False)
    assert info.value.step == 10 and info.value.instances and info.value.exit_status == 1
    named = str(info.value).split("by step 10 (")[1].split(");")[0]
    listed, _, more = named.partition(" and ")
    n_named = len(listed.split(", ")) + (int(more.split()[0]) if more else 0)
    assert n_named == len(info.value.instances) == int(str(info.value).split("diverged: ")[1].split(" of")[0])


@pytest.mark.parametrize("engine", ["numba", "torch"])
def test_divergence_marked_on_request(engine):
    g = train_grid(BLOWUP.replace(engine=engine), progress=False, on_divergence="mark")
    bad = g.diverged
    assert bad and (g.diverged_at[bad] % 10 == 0).all() and (g.diverged_at[bad] >= 10).all()
    for i in range(len(g)):  # marked exactly where the numbers are non-finite
        finite = np.isfinite(g.weights[i]).all() and np.isfinite(g.biases[i]).all() and np.isfinite(g.losses[i]).all()
        assert (g.diverged_at[i] < 0) == finite
    healthy = train_grid(BLOWUP.replace(lr=1e-3), progress=False)
    assert healthy.diverged == [] and (healthy.diverged_at == -1).all()


def test_diverged_grid_is_not_saved(tmp_path):
    from supviz.toy import save_grid

    g = train_grid(BLOWUP, progress=False, on_divergence="mark")
    with pytest.raises(SupvizError, match=r"`grid` has \d instance\(s\) with non-finite weights .*not saved"):
        save_grid(g, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"steps": 3},
            "`config` must be a TrainConfig (e.g. TrainConfig(**settings) or TrainConfig.from_dict(settings)); got "
            "dict.",
        ),
        (
            "small",
            "`config` must be a TrainConfig (e.g. TrainConfig(**settings) or TrainConfig.from_dict(settings)); got "
            "str.",
        ),
    ],
)
def test_train_grid_names_a_wrong_config(config, message):
    with pytest.raises(SupvizError) as info:
        train_grid(config)
    assert str(info.value) == message
    with pytest.raises(SupvizError, match="`on_divergence` must be one of 'raise', 'mark'; got 'ignore'"):
        train_grid(BLOWUP, on_divergence="ignore")


@pytest.mark.parametrize("impl", IMPLS)
def test_a_cell_alone_is_the_same_cell_inside_a_larger_grid(impl):
    """Issue 13 item 4: a cell's seed comes from its own (n, m, p, importance) and the root seed, so
    m = 3, p = 0.1, power:10 trained alone and inside a larger grid gets the same weights, bit for
    bit (by construction, with every product implementation: module docstring)."""
    from supviz.toy import instance_seed

    alone_cfg = TrainConfig(
        n_features=12,
        hidden=(3,),
        probabilities=(0.1,),
        importances=("power:10",),
        steps=30,
        batch_size=32,
        log_every=10,
        seed=5,
    )
    big_cfg = alone_cfg.replace(hidden=(2, 3, 7), probabilities=(1.0, 0.1, 0.02), importances=("uniform", "power:10"))
    alone = _with(impl, lambda: train_grid(alone_cfg, progress=False))
    big = _with(impl, lambda: train_grid(big_cfg, progress=False))
    (i,) = big.select(n_hidden=3, probability=0.1, importance_name="power:10")
    assert i != 0 and big.specs[i].seed == alone.specs[0].seed
    assert alone.specs[0].seed == instance_seed(5, n_features=12, n_hidden=3, probability=0.1, importance="power:10")
    np.testing.assert_array_equal(big.weights[i], alone.weights[0])
    np.testing.assert_array_equal(big.biases[i], alone.biases[0])
    np.testing.assert_array_equal(big.losses[i], alone.losses[0])
    # every parameter, the replicate index and the root seed each give another seed
    base = dict(n_features=12, n_hidden=3, probability=0.1, importance="power:10")
    seeds = {instance_seed(5, **base)}
    for change in (
        {"n_features": 13},
        {"n_hidden": 4},
        {"probability": 0.1000001},
        {"importance": "power:11"},
        {"replicate": 1},
    ):
        seeds.add(instance_seed(5, **(base | change)))
    seeds.add(instance_seed(6, **base))
    explicit = list(np.linspace(1, 0.1, 12))
    seeds.add(instance_seed(5, **(base | {"importance": explicit})))
    assert len(seeds) == 8
    assert instance_seed(5, **(base | {"importance": explicit})) == instance_seed(
        5, **(base | {"importance": tuple(explicit)})
    )
    with pytest.raises(SupvizError, match="`replicate` must be an int >= 0"):
        instance_seed(5, **base, replicate=-1)


def test_sparse_kernel_alone_equals_batched_and_agrees_with_the_dense_products(small_grid, monkeypatch):
    """Sparse instances train with the fused kernel that skips the zeros of x (``_engine.use_sparse``):
    the same bits alone and in the grid; the dense products' results within the same float32
    tolerance as the product implementations (a different summation order of the same products)."""
    from supviz.toy import _engine

    sparse = [i for i, s in enumerate(small_grid.specs) if _engine.use_sparse(s.n_features, s.n_hidden, s.probability)]
    assert sparse  # m = 2 at p = 0.02, both importance variants
    for i in sparse:
        alone = train_instances([small_grid.specs[i]], SMALL, progress=False)
        np.testing.assert_array_equal(alone.weights[0], small_grid.weights[i])
        np.testing.assert_array_equal(alone.biases[0], small_grid.biases[i])
        np.testing.assert_array_equal(alone.losses[0], small_grid.losses[i])
    monkeypatch.setattr(_engine, "SPARSE", False)
    dense = train_grid(SMALL, progress=False)
    for a, b in zip(small_grid.weights + small_grid.biases, dense.weights + dense.biases):
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-5)
    np.testing.assert_allclose(small_grid.losses, dense.losses, rtol=1e-5)


def test_sparse_kernel_step_equals_the_dense_step_within_float32_rounding():
    """One step of ``sparse_gram_step`` against the dense kernels and products it replaces (n = 60,
    as in the study; the rows of M and A padded to 64 inside the kernel)."""
    from supviz.toy import _kernels as K

    rng = np.random.default_rng(0)
    k, B, n = 2, 64, 60
    keys = np.array([11, 12], np.uint64)
    for p in (0.05, 0.3, 1.0):
        probs = np.full(k, p, np.float32)
        W = (rng.standard_normal((k, n, 20)) * 0.2).astype(np.float32)
        M = (W @ W.transpose(0, 2, 1)).astype(np.float32)
        bias = (rng.standard_normal((k, n)) * 0.1).astype(np.float32)
        imp = np.ones((k, n), np.float32)
        coef = (2 * imp / B).astype(np.float32)
        X = np.empty((k, B * n), np.float32)
        K.fill_sparse_batch(X, keys, probs, 3)
        X = X.reshape(k, B, n)
        Z = (X.astype(np.float64) @ M).astype(np.float32)
        G, gb, loss = np.empty_like(Z), np.empty((k, n), np.float32), np.zeros(k)
        K.relu_mse_grad(Z, X, bias, coef, imp, G, gb, loss)
        A = X.transpose(0, 2, 1).astype(np.float64) @ G
        A2, gb2, loss2 = np.empty((k, n, n), np.float32), np.empty((k, n), np.float32), np.zeros(k)
        K.sparse_gram_step(keys, probs, 3, B, M, bias, coef, imp, A2, gb2, loss2)
        bound = 2 * n * 2.0**-24 * (np.abs(X).transpose(0, 2, 1) @ np.abs(G)) + 1e-6 * np.abs(A).max()
        assert np.all(np.abs(A2 - A) <= bound), p
        np.testing.assert_allclose(gb2, gb, rtol=0, atol=1e-5)
        np.testing.assert_allclose(loss2, loss, rtol=1e-5)
