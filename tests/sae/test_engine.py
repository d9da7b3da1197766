"""The batched engine: an instance gets its alone result bit for bit, seeds reproduce, sources give
exactly the toy models' stream, the input scale folds back exactly.

Exact and within a tolerance (issue 18): alone == batched holds bit for bit by construction (one
product call per instance and shape, by the implementation the machine's table gives the shape,
nothing reducing across instances) and is tested with every product implementation forced in turn
(``supviz.runtime.products``: torch/MKL, numpy/OpenBLAS, numba), since another CPU's table picks
others. Two implementations (two CPUs) agree within float32 rounding amplified by training: the
2e-5 stated below, which the fused CPU kernels also meet against CUDA's torch ops.
"""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.runtime import products
from supviz.sae import ARCHITECTURES, ArraySource, FeatureStream, SAEConfig, SAEJob, train_saes
from supviz.sae.sources import random_directions, sharkey_probabilities

RNG = np.random.default_rng(0)
Q6 = np.linalg.qr(RNG.standard_normal((6, 6)))[0].astype(np.float32)
X = RNG.standard_normal((90, 6)).astype(np.float32)


def _cfg(arch, **kw):
    extra = {"dead_after": 64} if arch in ("topk", "batchtopk", "matryoshka_batchtopk") else {}  # AuxK switches on
    return SAEConfig(
        architecture=arch,
        d_sae=kw.pop("d_sae", 12),
        steps=kw.pop("steps", 40),
        batch_size=32,
        log_every=15,
        **extra,
        **kw,
    )


def _jobs():
    s1 = FeatureStream(Q6[:5], 0.2, seed=1)
    s2 = FeatureStream(Q6, np.linspace(0.05, 0.3, 6), seed=2)  # per-feature probabilities
    s3 = ArraySource(X, seed=3)
    jobs = []
    for a, arch in enumerate(ARCHITECTURES):
        jobs += [
            SAEJob(s1, _cfg(arch), seed=10 * a),
            SAEJob(s2, _cfg(arch), seed=10 * a + 1),  # same group as the one above
            SAEJob(s3, _cfg(arch, lr=1e-3), seed=10 * a + 2),  # another lr: still the same group
            SAEJob(s2, _cfg(arch, d_sae=9), seed=10 * a + 3),  # another shape, shares s2's batches
        ]
    return jobs


@pytest.fixture(scope="module")
def batched():
    jobs = _jobs()
    return jobs, train_saes(jobs, threads=2, progress=False)


def _same(a, b):
    for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if a.threshold is not None or b.threshold is not None:
        np.testing.assert_array_equal(a.threshold, b.threshold)


def _forced(impl, fn):
    if impl == "auto":
        return fn()
    with products.forced(impl):
        return fn()


@pytest.fixture(scope="module")
def batched_by_impl(batched):
    jobs, res = batched
    out = {"auto": res}
    for impl in products.IMPLEMENTATIONS:
        out[impl] = _forced(impl, lambda: train_saes(jobs, threads=2, progress=False))
    return jobs, out


@pytest.mark.parametrize("impl", ["auto", *products.IMPLEMENTATIONS])
def test_every_instance_gets_its_alone_result_bit_for_bit(batched_by_impl, impl):
    jobs, by_impl = batched_by_impl
    res = by_impl[impl]
    assert res.info["groups"] >= 10 and res.info["threads"] == 2
    for i in range(0, len(jobs), 3):  # every architecture, every kind of source, both shapes
        alone = _forced(impl, lambda: train_saes([jobs[i]], threads=1, progress=False))
        _same(alone[0], res[i])
        np.testing.assert_array_equal(alone.losses[0], res.losses[i])


#: Architectures whose forward pass selects latents (a top-k, a batch threshold, a jump): a last-bit
#: difference at a near-tie can flip a selection, and then the latents involved get other gradients.
SELECTING = ("topk", "batchtopk", "jumprelu", "matryoshka_batchtopk")


def _latents_apart(a, b, atol=2e-5):
    """Latents of two SAEs whose encoder column, decoder row or biases differ by more than ``atol``."""
    apart = np.zeros(a.W_enc.shape[1], dtype=bool)
    apart |= (np.abs(a.W_enc - b.W_enc) > atol).any(axis=0)
    apart |= (np.abs(a.W_dec - b.W_dec) > atol).any(axis=1)
    apart |= np.abs(a.b_enc - b.b_enc) > atol
    return apart


def _check_within_rounding(a, b, arch, label):
    """The promise of README's "what is exact" table between two product implementations."""
    if arch not in SELECTING:  # continuous in its weights: float32 rounding amplified by training
        for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=2e-5, err_msg=(label, name))
        return
    # selecting: every latent whose selections never flipped agrees within the same 2e-5; a flip
    # (a near-tie) moves only the latents it involves, a few of them
    apart = _latents_apart(a, b)
    assert apart.mean() <= 0.1, (label, int(apart.sum()), apart.size)
    np.testing.assert_allclose(a.W_enc[:, ~apart], b.W_enc[:, ~apart], rtol=0, atol=2e-5, err_msg=label)
    np.testing.assert_allclose(a.W_dec[~apart], b.W_dec[~apart], rtol=0, atol=2e-5, err_msg=label)
    np.testing.assert_allclose(a.b_dec, b.b_dec, rtol=0, atol=2e-5, err_msg=label)  # measured: 3.7e-7 with a flip


def test_product_implementations_agree_within_float32_rounding(batched_by_impl):
    # measured (AMD EPYC, 40 steps, every architecture): at most 2.4e-6 apart (BatchTopK), 2.4e-7
    # elsewhere; stated: the 2e-5 of the CUDA-path comparison below, per latent for the selecting ones
    jobs, by_impl = batched_by_impl
    for impl in ("numpy", "numba", "auto"):
        for job, a, b in zip(jobs, by_impl["torch"].saes, by_impl[impl].saes):
            _check_within_rounding(a, b, job.config.architecture, impl)


def test_a_flipped_selection_moves_only_the_latents_it_involves():
    # The break test's case: BatchTopK, 80 latents on 20 features of per-feature probability 0.02-0.3.
    # numba's products against torch's flipped a batch threshold at a near-tie on a Xeon: 32 of 1600
    # encoder weights 1.1e-4 apart, every other weight within 2.4e-7. A flat 2e-5 over all weights is
    # not a bound for a selecting architecture; per latent it is.
    rng = np.random.default_rng(5)
    Q = np.linalg.qr(rng.standard_normal((20, 20)))[0].astype(np.float32)
    job = SAEJob(
        FeatureStream(Q, np.linspace(0.02, 0.3, 20), seed=2),
        SAEConfig(architecture="batchtopk", d_sae=80, steps=40, batch_size=128, log_every=50, dead_after=64),
        seed=203,
    )
    by_impl = {
        impl: _forced(impl, lambda: train_saes([job], threads=1, progress=False)[0]) for impl in ("torch", "numba")
    }
    _check_within_rounding(by_impl["torch"], by_impl["numba"], "batchtopk", "numba")


def test_a_source_shared_by_groups_on_different_threads_is_read_race_free():
    """Six groups on two worker threads read one small array (a new epoch every 3 steps): each must
    see its own epoch's permutation, whatever step the other thread is at."""
    src = ArraySource(X[:50], seed=7)
    jobs = [
        SAEJob(src, SAEConfig(architecture="relu_l1", d_sae=4 + i, steps=150, batch_size=16), seed=i) for i in range(6)
    ]
    together = train_saes(jobs, threads=2, progress=False)
    assert together.info["threads"] == 2
    for i in (0, 3, 5):
        _same(train_saes([jobs[i]], threads=1, progress=False)[0], together[i])


def test_same_seed_same_weights_other_seed_other_weights(batched):
    jobs, res = batched
    again = train_saes(jobs[:8], threads=1, progress=False)
    for a, b in zip(again.saes, res.saes[:8]):
        _same(a, b)
    other = train_saes([SAEJob(jobs[0].source, jobs[0].config, seed=99)], progress=False)
    assert not np.array_equal(other[0].W_dec, res[0].W_dec)


def test_it_learns_and_logs(batched):
    jobs, res = batched
    assert res.losses.shape == (len(jobs), 3)  # windows of 15, 15, 10 steps
    np.testing.assert_array_equal(res.loss_steps, [15, 30, 40])
    assert np.isfinite(res.losses).all()
    assert (res.terms["mse"][:, -1] < res.terms["mse"][:, 0]).mean() > 0.8
    topk = [i for i, j in enumerate(jobs) if j.config.architecture == "topk"]
    assert np.isfinite(res.terms["auxk"][topk]).all() and np.isnan(res.terms["auxk"][0]).all()
    assert res[0].architecture == "relu_l1" and res[0].activation == "relu"
    assert res[12].architecture == "batchtopk" and res[12].activation == "jumprelu"  # a threshold at inference
    assert np.all(res[12].threshold == res[12].threshold[0]) and res[12].threshold[0] > 0
    nested = [i for i, j in enumerate(jobs) if j.config.architecture == "matryoshka_batchtopk"]
    assert np.isfinite(res.terms["matryoshka"][nested]).all() and np.isnan(res.terms["matryoshka"][: nested[0]]).all()
    assert res[nested[0]].architecture == "matryoshka_batchtopk" and res[nested[0]].activation == "jumprelu"


def test_input_scale_folds_back_exactly():
    """Training normalises inputs to E||x||^2 = d; scaling the data by 4 (exact in floating point)
    must give the same training and weights that encode 4 X to exactly 4 f(X)."""
    cfg = SAEConfig(architecture="jumprelu", d_sae=10, steps=30, batch_size=32)
    a = train_saes([SAEJob(ArraySource(X, seed=5), cfg, seed=1)], progress=False)[0]
    b = train_saes([SAEJob(ArraySource(4 * X, seed=5), cfg, seed=1)], progress=False)[0]
    np.testing.assert_array_equal(a.W_enc, b.W_enc)
    np.testing.assert_array_equal(a.W_dec, b.W_dec)
    np.testing.assert_array_equal(4 * a.b_enc, b.b_enc)
    np.testing.assert_array_equal(4 * a.encode(X), b.encode(4 * X))
    np.testing.assert_array_equal(4 * a.reconstruct(X), b.reconstruct(4 * X))
    assert b.info["input_scale"] == pytest.approx(a.info["input_scale"] / 4)


def test_feature_stream_is_exactly_the_toy_models_stream():
    from supviz.toy import sparse_batch
    from supviz.toy.data import data_key

    W = RNG.standard_normal((7, 3)).astype(np.float32)
    s = FeatureStream(W, 0.3, seed=4)
    for step in (0, 5):
        x_toy = sparse_batch(7, 0.3, 16, key=data_key(4), step=step)
        np.testing.assert_array_equal(s.codes(16, step=step, eval_stream=False), x_toy)
        h = s.batch(step, 16, "cpu").numpy()
        np.testing.assert_allclose(h, x_toy @ W, rtol=1e-5, atol=1e-6)
    # per-feature probabilities use the same uniforms: equal probabilities give the same codes
    s_each = FeatureStream(W, np.full(7, 0.3), seed=4)
    s_mixed = FeatureStream(W, np.r_[np.full(6, 0.3), 0.31], seed=4)
    np.testing.assert_array_equal(s_each.codes(16), s.codes(16))
    assert not s_mixed.constant_probability
    np.testing.assert_array_equal(s_mixed.codes(16)[:, :6], s.codes(16)[:, :6])
    np.testing.assert_array_equal(s_mixed.batch(2, 8, "cpu").numpy(), s_mixed.batch(2, 8, "cpu").numpy())
    # the evaluation sample never repeats training batches
    assert not np.array_equal(s.codes(16, eval_stream=True), s.codes(16, step=0, eval_stream=False))


def test_mean_squared_norm_is_exact():
    D = random_directions(9, 4, seed=0)
    p = sharkey_probabilities(9, mean_active=2.0)
    s = FeatureStream(D, p, seed=0)
    h, x = s.evaluation(60000)
    est = (h.astype(np.float64) ** 2).sum(1)
    assert s.mean_sq_norm() == pytest.approx(est.mean(), abs=4 * est.std() / np.sqrt(len(est)))
    assert p.sum() == pytest.approx(2.0) and p[1] / p[0] == pytest.approx(0.99)


def test_array_source_epochs_are_permutations_and_pure_in_the_step():
    src = ArraySource(np.arange(20, dtype=np.float32)[:, None], seed=1)
    rows = np.concatenate([src.batch(t, 5, "cpu").numpy()[:, 0] for t in range(4)])
    np.testing.assert_array_equal(np.sort(rows), np.arange(20))  # one epoch = every row once
    second = np.concatenate([src.batch(t, 5, "cpu").numpy()[:, 0] for t in range(4, 8)])
    assert not np.array_equal(rows, second)  # reshuffled
    np.testing.assert_array_equal(src.batch(2, 5, "cpu").numpy(), rows[10:15, None])  # any order of calls


def test_batch_larger_than_the_data_is_clamped_and_recorded():
    res = train_saes(
        [SAEJob(ArraySource(X[:10], seed=0), SAEConfig(architecture="relu_l1", steps=3), seed=0)], progress=False
    )
    assert res[0].info["batch_size"] == 10
    assert "clamped" in res[0].info["notes"][0]


def test_bad_jobs_are_one_line_errors():
    src = ArraySource(X, seed=0)
    with pytest.raises(SupvizError, match="at least one SAE"):
        train_saes([])
    with pytest.raises(SupvizError, match=r"`jobs\[0\]` must be an SAEJob"):
        train_saes([src])
    with pytest.raises(SupvizError, match="one `log_every`"):
        train_saes([SAEJob(src, SAEConfig(log_every=5)), SAEJob(src, SAEConfig(log_every=6))])
    with pytest.raises(SupvizError, match=r"job 0: `k` must be <= d_sae; got k=9, d_sae=6"):
        train_saes([SAEJob(src, SAEConfig(architecture="topk", k=9, expansion_factor=1.0))])
    with pytest.raises(SupvizError, match="`X` must hold only finite values"):
        ArraySource(np.full((3, 2), np.nan))
    with pytest.raises(SupvizError, match="`probability` must be"):
        FeatureStream(Q6, 0.0)


def test_the_torch_code_path_of_cuda_matches_the_cpu_kernels(monkeypatch):
    """Without a GPU, run the torch ops CUDA uses (topk, the JumpReLU autograd sums, the stream in torch
    int64 arithmetic) on the CPU and compare with the numba kernels."""
    from supviz.sae.architectures import base

    jobs = [j for i, j in enumerate(_jobs()) if i % 4 != 2][::2]  # every architecture, streams only
    fast = train_saes(jobs, progress=False)
    monkeypatch.setattr(base, "FUSED_CPU_KERNELS", False)
    ref = train_saes(jobs, progress=False)
    for a, b in zip(fast.saes, ref.saes):
        for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=2e-5, err_msg=name)
    for s in (jobs[0].source, jobs[1].source):  # one probability, and one per feature
        in_torch = s.batch(3, 8, "cpu").numpy()
        monkeypatch.setattr(base, "FUSED_CPU_KERNELS", True)
        np.testing.assert_array_equal(s.batch(3, 8, "cpu").numpy(), in_torch)  # the same stream, bit for bit
        monkeypatch.setattr(base, "FUSED_CPU_KERNELS", False)


def test_array_jobs_accept_numpy_or_torch_and_a_stack():
    import torch

    from supviz.sae import array_jobs

    stack = np.stack([X, 2 * X])
    jobs = array_jobs(torch.from_numpy(stack), SAEConfig(architecture="relu_l1", steps=5, batch_size=16), seed=1)
    assert [j.label for j in jobs] == ["X[0]", "X[1]"] and jobs[1].source.d_in == 6
    res = train_saes(jobs, progress=False)
    alone = train_saes(array_jobs(X, SAEConfig(architecture="relu_l1", steps=5, batch_size=16), seed=1), progress=False)
    np.testing.assert_array_equal(res[0].W_dec, alone[0].W_dec)  # slice 0 of a stack = that array alone
    with pytest.raises(SupvizError, match=r"must be an array \[N, d\] or \[k, N, d\]"):
        array_jobs(X[0])


def test_divergence_names_the_saes_and_the_step():
    # issue 9 follow-up, 6: lr 1e30 gave "`W_enc` must hold only finite values" (exit 2, as if bad
    # input) from the saving code; now a TrainingDiverged (exit status 1) at the first log window.
    from supviz.toy.train import TrainingDiverged

    src = ArraySource(X, seed=0)
    ok = SAEJob(src, SAEConfig(architecture="relu_l1", steps=12, log_every=4), seed=0, label="calm")
    wild = SAEJob(src, SAEConfig(architecture="relu_l1", steps=12, log_every=4, lr=1e30), seed=0, label="wild")
    with pytest.raises(TrainingDiverged) as info:
        train_saes([ok, wild], progress=False, threads=1)
    exc = info.value
    assert exc.exit_status == 1 and exc.instances == [1] and exc.step == 4
    assert str(exc) == (
        "SAE training diverged: 1 SAE(s) had non-finite loss or weights by step 4 (#1 wild); lower `lr` (got 1e+30)."
    )
    res = train_saes([ok], progress=False)  # the calm one alone trains to a finite loss
    assert np.isfinite(res.losses).all()
