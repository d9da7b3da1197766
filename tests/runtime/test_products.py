"""supviz.runtime.products: every implementation on every layout, what is exact and what is within a
stated tolerance, and how the choice is made, kept and forced (issue 18).

Exact (bit for bit): one implementation on one instance, alone or in any batch (each instance is its
own call: ``torch.bmm`` in a batch of 3 rounds a ``(9 x 128) @ (128 x 10)`` product differently
from alone, which is why supviz never calls it on the CPU), and supviz's own kernel against the
obvious triple loop on every CPU. Within a tolerance: two implementations (hence two CPUs). The
bound is the classical one for a dot product of length K in precision u (Higham, *Accuracy and
Stability of Numerical Algorithms*, eq. 3.13): ``|fl(a.b) - a.b| <= gamma_K sum_l |a_l b_l|`` with
``gamma_K = K u / (1 - K u)``; two implementations differ by at most twice that. It is never a
bound on the difference of two BLAS calls of different shapes, which nothing here compares.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from supviz.errors import SupvizError
from supviz.runtime import products
from supviz.runtime._product_kernels import kernel, reference_bmm

DTYPES = {"float32": (torch.float32, 2.0**-24), "float64": (torch.float64, 2.0**-53)}
SHAPES = [(7, 13, 5), (1, 40, 3), (64, 9, 1), (33, 128, 10), (5, 3, 60)]


@pytest.fixture(autouse=True)
def _own_table(tmp_path, monkeypatch):
    """Every test starts from an empty table of its own (no machine state leaks in or out)."""
    monkeypatch.setenv(products.CACHE_ENV, str(tmp_path))
    monkeypatch.delenv(products.ENV, raising=False)
    products.reset(disk=True)
    yield
    products.reset(disk=True)


def _operands(m, k, n, ta, tb, dtype, batch=3, seed=0):
    rng = np.random.default_rng(seed)
    a = torch.from_numpy(rng.standard_normal((batch, k, m) if ta else (batch, m, k))).to(dtype)
    b = torch.from_numpy(rng.standard_normal((batch, n, k) if tb else (batch, k, n))).to(dtype)
    return (a.transpose(1, 2) if ta else a), (b.transpose(1, 2) if tb else b)


def _bound(a, b, u):
    """Twice gamma_K times sum_l |a_rl b_lc|, elementwise (float64)."""
    k = a.shape[2]
    gamma = k * u / (1 - k * u)
    return 2 * gamma * (a.abs().double() @ b.abs().double())


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("impl", products.IMPLEMENTATIONS)
def test_every_implementation_is_within_twice_gamma_k_of_the_exact_product(impl, ta, tb, dtype):
    torch_dtype, u = DTYPES[dtype]
    for m, k, n in SHAPES:
        a, b = _operands(m, k, n, ta, tb, torch_dtype)
        with products.forced(impl):
            got = products.bmm(a, b)
            acc = products.bmm(a, b, torch.ones(a.shape[0], m, n, dtype=torch_dtype), accumulate=True)
        exact = a.double() @ b.double()
        bound = _bound(a, b, u)
        assert got.dtype == torch_dtype and got.shape == (a.shape[0], m, n)
        assert bool(((got.double() - exact).abs() <= bound).all()), (impl, m, k, n)
        # accumulate adds the finished product: one more rounding of the sum
        assert bool(((acc.double() - 1 - exact).abs() <= bound + 2 * u * (1 + exact.abs())).all()), (impl, m, k, n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_own_kernel_is_the_triple_loop_bit_for_bit(ta, tb, dtype):
    # a fixed order of summation (l = 0, 1, ..., K - 1, no FMA): the same bits on every CPU
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((1, 9, 17)).astype(dtype), rng.standard_normal((1, 17, 6)).astype(dtype)
    out = np.empty((9, 6), dtype)
    kernel()(
        np.ascontiguousarray(a[0].T) if ta else a[0], np.ascontiguousarray(b[0].T) if tb else b[0], out, ta, tb, False
    )
    np.testing.assert_array_equal(out, reference_bmm(a, b)[0])


def _moved(t, transposed, position, batch=2, pad=5):
    """A batch of ``batch`` with ``t`` at ``position``, in slots ``pad`` floats longer than ``t`` (another
    batch stride, another alignment), in the same layout (stored transposed or not)."""
    store = t.transpose(0, 1) if transposed else t
    rows, cols = store.shape
    buf = torch.zeros(batch, rows * cols + pad, dtype=t.dtype)
    view = buf[:, : rows * cols].view(batch, rows, cols)
    view[position].copy_(store)
    return view.transpose(1, 2) if transposed else view


@pytest.mark.parametrize("impl", products.IMPLEMENTATIONS)
@pytest.mark.parametrize(
    ("m", "k", "n", "ta", "tb"),
    [(9, 128, 10, True, False), (1024, 60, 5, False, False), (60, 1024, 5, True, False), (128, 9, 10, False, True)],
)
def test_an_instance_alone_and_in_a_batch_gets_the_same_bits(impl, m, k, n, ta, tb):
    a, b = _operands(m, k, n, ta, tb, torch.float32, batch=3, seed=2)
    with products.forced(impl):
        batched = products.bmm(a, b)[1]
        alone = products.bmm(a[1:2], b[1:2])[0]
        # at another place of another batch (another batch stride, operands and result unaligned)
        out = torch.zeros(2, m * n + 3)[:, : m * n].view(2, m, n)
        products.bmm(_moved(a[1], ta, 1), _moved(b[1], tb, 1), out)
    assert torch.equal(batched, alone) and torch.equal(batched, out[1])


def test_a_strided_out_is_written_in_place():
    a, b = _operands(6, 5, 4, False, False, torch.float32)
    buf = torch.zeros(3, 4, 6)
    out = buf.transpose(1, 2)  # (3, 6, 4), column-major per instance
    products.bmm(a, b, out)
    assert torch.allclose(buf.transpose(1, 2), a @ b, atol=1e-6)


@pytest.mark.parametrize("impl", products.IMPLEMENTATIONS)
def test_matmul_gradients_agree_with_torch_within_the_bound(impl):
    a, b = _operands(33, 20, 7, False, False, torch.float64, seed=3)
    a.requires_grad_(True)
    b.requires_grad_(True)
    w = torch.from_numpy(np.random.default_rng(4).standard_normal((3, 33, 7)))
    with products.forced(impl):
        (products.matmul(a, b) * w).sum().backward()
    ga, gb = a.grad.clone(), b.grad.clone()
    a.grad, b.grad = None, None
    (torch.bmm(a, b) * w).sum().backward()
    u = 2.0**-53
    assert bool(((ga - a.grad).abs() <= _bound(w, b.detach().transpose(1, 2), u)).all())
    assert bool(((gb - b.grad).abs() <= _bound(a.detach().transpose(1, 2), w, u)).all())


def test_the_choice_is_measured_once_written_and_read_back(tmp_path):
    name = products.choice(64, 60, 5)
    assert name in products.IMPLEMENTATIONS
    (row,) = products.table()
    assert row["key"] == "float32:64x60x5:NN" and row["source"] == "measured" and row["implementation"] == name
    assert set(row["us"]) == set(products.available()) and all(v > 0 for v in row["us"].values())
    path = products.table_path()
    assert path.parent == tmp_path and path.name.startswith("supviz-products-")
    data = json.loads(path.read_text())
    assert data["choices"]["float32:64x60x5:NN"]["impl"] == name and data["machine"]["numpy"] == np.__version__
    # a fresh process (here: a fresh state) reads the choice instead of measuring again
    products.reset(disk=True)
    assert products.choice(64, 60, 5) == name
    assert products.table()[0]["source"] == "table"


def test_a_worker_adopts_its_parents_choices_without_measuring(monkeypatch):
    """prepare returns the choices made here (forced ones included); adopt serves them in another process (here:
    a fresh state whose table could not be read) in place of its own, and measures nothing."""
    shapes = [(64, 60, 5, False, False, "float32"), (60, 64, 5, True, False, "float32")]
    with products.forced("torch"):
        chosen = products.prepare(shapes)
    assert chosen == {"float32:64x60x5:NN": "torch", "float32:60x64x5:TN": "torch"}
    products.reset(disk=True)
    monkeypatch.setenv(products.CACHE_ENV, "/dev/null/unwritable")
    monkeypatch.setattr(products, "measure", lambda key: pytest.fail(f"measured {key} in the worker"))
    products.adopt({**chosen, "float32:8x8x8:NN": "custom"})  # a custom callable cannot travel: left out
    assert products.prepare(shapes) == chosen
    assert {r["key"]: r["source"] for r in products.table()} == dict.fromkeys(chosen, "parent")


def test_an_entry_on_disk_wins_over_a_new_measurement(tmp_path):
    # two processes measuring one shape at once: the first entry written is the one both keep
    key = products.product_key(32, 16, 3)
    other = "torch" if products.pick(products.measure(key)) != "torch" else "numpy"
    products.table_path().write_text(
        json.dumps(
            {"format": products.FORMAT, "machine": products.fingerprint(), "choices": {key: {"impl": other, "us": {}}}}
        )
    )
    products.reset(disk=True)
    assert products.choice(32, 16, 3) == other


@pytest.mark.parametrize(
    "machine, us",
    [
        ("other", {"torch": 1.0}),  # another machine's table under this machine's file name
        ("this", "fast"),  # malformed timings: listing the table crashed on them
        ("this", {"torch": "slow"}),
        ("this", {"torch": float("nan")}),
        ("this", {"gpu": 1.0}),
        ("this", {"torch": True}),
    ],
)
def test_a_foreign_or_malformed_entry_is_measured_again(machine, us):
    key = products.product_key(32, 16, 3)
    fp = products.fingerprint() if machine == "this" else {**products.fingerprint(), "model": "AMD EPYC 9R14"}
    other = "torch" if products.pick(products.measure(key)) != "torch" else "numpy"
    products.table_path().write_text(
        json.dumps({"format": products.FORMAT, "machine": fp, "choices": {key: {"impl": other, "us": us}}})
    )
    products.reset(disk=True)
    products.choice(32, 16, 3)
    (row,) = products.table()
    assert row["source"] == "measured"  # not read from the file
    assert set(row["us"]) == set(products.available()) and all(v > 0 for v in row["us"].values())
    products.format_table()  # and the table prints


def test_a_near_tie_goes_to_the_preferred_implementation():
    assert products.pick({"torch": 10.0, "numpy": 10.5, "numba": 30.0}) == "numpy"  # within 10%
    assert products.pick({"torch": 10.0, "numpy": 11.5, "numba": 10.9}) == "numba"
    assert products.pick({"torch": 10.0, "numpy": 12.0, "numba": 30.0}) == "torch"


def test_forcing_by_environment_and_by_block(monkeypatch):
    a, b = _operands(8, 4, 3, False, False, torch.float32)
    monkeypatch.setenv(products.ENV, "numba")
    products.bmm(a, b)
    assert products.table(used_only=True)[0]["implementation"] == "numba"
    with products.forced("torch"):  # a block beats the environment
        assert products.choice(8, 4, 3) == "torch"
    monkeypatch.setenv(products.ENV, "mkl")
    with pytest.raises(
        SupvizError,
        match=r"^`SUPVIZ_PRODUCTS` must be one of 'auto', 'torch', 'numpy', 'numba'; "
        r"got 'mkl'\.$",
    ):
        products.bmm(a, b)
    with pytest.raises(
        SupvizError, match=r"^`impl` must be one of 'torch', 'numpy', 'numba' or a callable; got 'mkl'\.$"
    ):
        with products.forced("mkl"):
            pass


def test_a_callable_serves_every_product_and_the_table_says_so():
    calls = []

    def doubled(a, b):
        calls.append(tuple(a.shape))
        return 2 * torch.bmm(a, b)

    a, b = _operands(5, 4, 3, False, True, torch.float64)
    with products.forced(doubled):
        got = products.bmm(a, b)
    assert calls == [(3, 5, 4)] and torch.allclose(got, 2 * (a @ b))
    row = products.table(used_only=True)[0]
    assert row["implementation"] == "custom" and row["source"] == "forced"
    assert "float64 (5x4)@(4x3) b^T" in products.format_table()


def test_cuda_and_other_dtypes_go_to_torch():
    a = torch.ones(2, 3, 4, dtype=torch.bfloat16)
    b = torch.ones(2, 4, 5, dtype=torch.bfloat16)
    assert products.bmm(a, b).dtype == torch.bfloat16 and products.table() == []


def test_the_table_does_not_depend_on_what_else_the_process_imported():
    # scipy brings a second OpenBLAS; the fingerprint names numpy's own BLAS as built, so every
    # process of the machine finds the same table
    path = products.table_path()
    import scipy.sparse.linalg  # noqa: F401

    products.fingerprint.cache_clear()
    assert products.table_path() == path
    assert products.fingerprint()["numpy_blas"]


@pytest.mark.parametrize("impl", products.IMPLEMENTATIONS)
@pytest.mark.parametrize("aligned", [True, False])
def test_a_fixed_product_is_bmm_bit_for_bit_and_sees_its_buffers_change(impl, aligned):
    pad = 0 if aligned else 3  # instance slots of 3 x 16 floats, or 51 (every instance but the first unaligned)
    buf_a = torch.zeros(2, 48 + pad)
    a = buf_a[:, :48].view(2, 16, 3)
    b = torch.from_numpy(np.random.default_rng(5).standard_normal((2, 5, 3))).float().transpose(1, 2)  # b^T layout
    out = torch.zeros(2, 80 + pad)[:, :80].view(2, 16, 5)
    with products.forced(impl):
        fixed = products.Product(a, b, out)
        acc = products.Product(a, b, out, accumulate=True)
        for step in range(2):  # the buffers change in place between calls
            a.copy_(torch.from_numpy(np.random.default_rng(step).standard_normal((2, 16, 3))).float())
            fixed()
            want = products.bmm(a, b)
            assert torch.equal(out, want)
        acc()
        assert torch.equal(out, products.bmm(a, b, want.clone(), accumulate=True))
