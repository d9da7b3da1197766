"""One SAE per toy cell in one job: scores against each cell's represented features, codes of given
inputs, seeds tied to the cell (not to what trains beside it)."""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.sae import SAEConfig, encode_cells, train_cell_saes
from supviz.sae.cells import study_config
from supviz.toy import TrainConfig, train_grid

CFG = SAEConfig(architecture="topk", k=2, d_sae=12, steps=60, batch_size=64)


@pytest.fixture(scope="module")
def grid():
    return train_grid(
        TrainConfig(
            n_features=6,
            hidden=(2, 4),
            probabilities=(1.0, 0.1),
            importances=("uniform",),
            steps=300,
            batch_size=256,
            seed=0,
        ),
        progress=False,
    )


@pytest.fixture(scope="module")
def cells(grid):
    inputs = [np.random.default_rng(i).random((7, grid.specs[i].n_hidden)).astype(np.float32) for i in range(len(grid))]
    return train_cell_saes(grid, config=CFG, seed=3, n_eval=512, inputs=inputs), inputs


def test_every_cell_is_trained_and_scored(grid, cells):
    c, inputs = cells
    assert len(c) == 4 and c.indices == [0, 1, 2, 3]
    assert [s.d_in for s in c.saes] == [2, 2, 4, 4] and all(s.d_sae == 12 for s in c.saes)
    assert [len(f) for f in c.features] == [6] * 4
    np.testing.assert_array_equal(c.represented[3], np.linalg.norm(grid.weights[3], axis=1) > 0.5)
    assert list(c.scores.n_true) == [int(m.sum()) for m in c.represented]
    df = c.to_frame()
    assert list(df.columns[:6]) == ["index", "label", "m", "p", "importance", "n_represented"]
    assert len(df) == 4 and df["p"].tolist() == [1.0, 0.1, 1.0, 0.1]
    # codes of the given inputs are the SAEs' encodings of them
    assert [f.shape for f in c.codes] == [(7, 12)] * 4
    for f, sae, x in zip(c.codes, c.saes, inputs):
        np.testing.assert_array_equal(f, sae.encode(x))
    np.testing.assert_array_equal(encode_cells(c, inputs)[2], c.codes[2])


def test_a_cell_alone_gets_the_weights_it_gets_in_the_grid(grid, cells):
    c, _ = cells
    alone = train_cell_saes(grid, [2], config=CFG, seed=3, n_eval=512)
    np.testing.assert_array_equal(alone.saes[0].W_dec, c.saes[2].W_dec)
    np.testing.assert_array_equal(alone.scores.mmcs, c.scores.mmcs[2:3])
    other = train_cell_saes(grid, [2], config=CFG, seed=4, n_eval=512)
    assert not np.array_equal(other.saes[0].W_dec, c.saes[2].W_dec)


def _reordered(grid, order):
    from supviz.toy.grid import TrainedGrid

    return TrainedGrid(
        [grid.specs[i] for i in order],
        [grid.weights[i] for i in order],
        [grid.biases[i] for i in order],
        grid.losses[order],
        loss_steps=grid.loss_steps,
        labels=[grid.labels[i] for i in order],
    )


def test_a_cells_seed_comes_from_the_cell_not_its_position(grid, cells):
    """Cell 2 at position 0 of a reordered grid, beside other neighbours, trains the same SAE; a cell with
    other parameters at position 2 does not."""
    from supviz.sae.cells import cell_seed_key

    c, _ = cells
    moved = _reordered(grid, [2, 3, 0])
    assert cell_seed_key(moved, 0) == cell_seed_key(grid, 2)
    assert len({cell_seed_key(grid, i) for i in range(len(grid))}) == len(grid)
    again = train_cell_saes(moved, config=CFG, seed=3, n_eval=512)
    np.testing.assert_array_equal(again.saes[0].W_dec, c.saes[2].W_dec)
    np.testing.assert_array_equal(again.saes[2].W_dec, c.saes[0].W_dec)
    np.testing.assert_array_equal(again.scores.mmcs, c.scores.mmcs[[2, 3, 0]])
    # what sits at index 2 now is cell 0: its SAE is cell 0's, not the one cell 2 had
    assert not np.array_equal(again.saes[2].W_dec, c.saes[2].W_dec)


def test_cells_without_a_probability(tmp_path):
    from supviz.toy import load_grid

    np.save(tmp_path / "w.npy", np.random.default_rng(0).standard_normal((2, 5, 2)).astype(np.float32))
    ext = load_grid(tmp_path / "w.npy")
    with pytest.raises(SupvizError, match="has no feature probability"):
        train_cell_saes(ext, config=CFG)
    c = train_cell_saes(ext, [1], config=CFG.replace(steps=5), probability=0.2, n_eval=64)
    assert c.cells[0]["p"] == pytest.approx(0.2)


def test_study_config():
    cfg = study_config(60)
    assert cfg.d_sae == 120 and cfg.architecture == "topk"
    assert study_config(60, steps=10).steps == 10
