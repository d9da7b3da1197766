# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # supviz on your own data
#
# This notebook takes one array of feature directions (the weights of a model) or of activations,
# and walks through what supviz does with it:
#
# 1. load the array,
# 2. measure its geometry (norms, superposition, which features are represented),
# 3. draw it with MDS, UMAP and t-SNE,
# 4. measure how faithful each picture is,
# 5. train a sparse autoencoder on activations and score it against the true features.
#
# It makes its own data (a small toy model of superposition, trained in a second) so that it runs
# anywhere; to use yours, replace the file in step 1 with your own `.npz`, `.npy` or
# `.safetensors` file. Open it with `jupytext --to ipynb docs/tutorial.py`, or run it as a script.
# It runs top to bottom in the test suite (`tests/docs/test_tutorial.py`).

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import supviz
from supviz.dr import SMACOF, mds_layout, tsne_layout, umap_layout
from supviz.metrics import layout_metrics
from supviz.toy import TrainConfig, diagnostics, load_grid, train_grid

print("supviz", supviz.__version__)

# %% [markdown]
# ## 1. An array of feature directions
#
# A toy model of superposition (Elhage et al. 2022) stores `n = 20` sparse features in `m = 5`
# hidden dimensions; row `i` of its weight matrix `W [n, m]` is feature `i`'s direction. We train
# two models: dense features (p = 1, no superposition) and sparse ones (p = 0.02), with
# importance `0.8 ** i`, and save their weights as a plain `.npz` file, as your own weights would
# come.

# %%
grid = train_grid(
    TrainConfig(
        n_features=20, hidden=(5,), probabilities=(1.0, 0.02), importances=("geometric:0.8",), steps=2000, seed=0
    ),
    progress=False,
)
grid

# %%
grid.to_frame()

# %%
workdir = Path(tempfile.mkdtemp())
np.savez(workdir / "my_weights.npz", W=grid.weights[1])

# Your own data: any [n, m] (one model) or [k, n, m] (k models) array in .npz/.npy/.safetensors.
mine = load_grid(workdir / "my_weights.npz")
W = mine.weights[0].astype(np.float64)
importance = 0.8 ** np.arange(W.shape[0])
W.shape

# %% [markdown]
# ## 2. Geometry: norms, superposition, represented features
#
# `diagnostics` gives one row per feature: its norm `||W_i||`, how much it overlaps the others
# (superposition `sum_{j != i} (W_i_hat . W_j)^2`), its dimensionality `D_i` (1: a dimension of
# its own; 1/2: shares one with another feature), and whether the model represents it. The
# definitions travel with the table in `df.attrs`.

# %%
diag = diagnostics(W, importance=importance)
print(diag)
features = diag.to_frame()
features.head(8)

# %%
features.attrs["definitions"]["dimensionality"]

# %% [markdown]
# ## 3. Pictures: MDS, UMAP, t-SNE
#
# Each method returns a `Layout`: the 2-D points, the parameters it actually used, what it fitted,
# and notes for anything it had to adjust. MDS is supviz's own SMACOF (R smacof's semantics;
# interval MDS as in the study), UMAP and t-SNE are umap-learn and openTSNE. With 20 points the
# neighbourhood sizes are small (`n_neighbors=5`, `perplexity=5`).

# %%
layouts = {
    "MDS (interval)": mds_layout(W, metric_type="interval", random_state=0),
    "UMAP": umap_layout(W, n_neighbors=5, random_state=0),
    "t-SNE": tsne_layout(W, perplexity=5, random_state=0),
}
layouts["MDS (interval)"]

# %% [markdown]
# `supviz.plot` draws them with the report's own panel functions (the same marker sizes, the
# method's stress or KL under the title, equal axes for MDS), so a picture you make here is the
# picture the report would make. `supviz.plot.interactive` has the same functions in plotly, with
# hover text.

# %%
from supviz.plot import interactive, plot_layout

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), constrained_layout=True)
for ax, (name, lay) in zip(axes, layouts.items()):
    plot_layout(lay, color=diag.norms, ax=ax, title=name, color_label="‖W_i‖" if ax is axes[-1] else "")
plt.show()

# %%
interactive.plot_layout(
    layouts["t-SNE"],
    color=diag.norms,
    hover={"feature": np.arange(len(W)), "norm": diag.norms},
    title="t-SNE (hover for each feature)",
)

# %% [markdown]
# The same MDS as a scikit-learn estimator, for pipelines and grid searches: `SMACOF` takes
# `metric_type` "ratio", "interval" or "ordinal" and `dissimilarity` "euclidean" or
# "precomputed", and its `stress_` is the stress SMACOF minimised.

# %%
est = SMACOF(metric_type="interval").fit(W)
est

# %% [markdown]
# ## 4. How faithful is each picture?
#
# `layout_metrics` scores a layout against the points it pictures: stress-1 after optimal ratio
# scaling (`stress1_ratio`, the same formula for every method), Shepard's rank correlation,
# trustworthiness and continuity (false neighbours and tears), and k-NN recall. A metric that is
# undefined for the input is NaN, and `nan_reasons` says why (here: no ground-truth space and no
# baseline were given).

# %%
table = pd.concat([layout_metrics(W, lay, k=5).to_frame(name) for name, lay in layouts.items()])
table

# %% [markdown]
# Two stresses, two names. The MDS layout also carries `info["smacof_stress"]`, the number SMACOF
# itself minimised: stress-1 against the disparities of its own `metric_type` (interval:
# `a + b * delta`). `stress1_ratio` allows the scale factor `b` only, so for interval MDS
# `smacof_stress <= stress1_ratio`; for ratio MDS they agree. (`supviz.plot` writes the first as
# "SMACOF stress" under an MDS panel, the report writes the second as "stress-1".)
#
# How far apart they are depends on the fitted intercept `a`. For this model's W it is about 0, so
# the two agree to four decimals. Where every distance sits on a floor, a negative intercept
# subtracts the floor, interval MDS only has to show the small differences above it, and the two
# differ: the study's orthogonal baseline (each feature in a dimension of its own, every distance
# about sqrt(2)), here with a little noise so that the points are not all tied.


# %%
def two_stresses(X, name):
    lay = mds_layout(X, metric_type="interval", random_state=0)
    shepard = lay.info["result"].shepard()
    b, a = np.polyfit(shepard.dissimilarity, shepard.disparity, 1)  # the fitted disparities a + b * delta
    s1 = layout_metrics(X, lay, k=5)["stress1_ratio"]
    print(f"{name}: intercept a = {a:+.3f}")
    print(f"  smacof_stress (interval disparities) = {lay.info['smacof_stress']:.4f}")
    print(f"  stress1_ratio (ratio disparities)    = {s1:.4f}")
    assert lay.info["smacof_stress"] <= s1 + 1e-6
    return lay.info["smacof_stress"], s1


two_stresses(W, "this model's W")
noisy_baseline = np.eye(20) + 0.05 * np.random.default_rng(0).standard_normal((20, 20))
smacof_s, ratio_s = two_stresses(noisy_baseline, "orthogonal baseline + noise")
assert ratio_s - smacof_s > 0.05  # the intercept matters here: two different numbers

# %% [markdown]
# ## 5. A sparse autoencoder on the activations
#
# The model's hidden activations are `h = x W` for sparse feature vectors `x`. Given only `h`,
# can a sparse autoencoder find the 20 feature directions? We draw inputs from the same stream the
# model was trained on (`sparse_batch`), train a TopK SAE with the scikit-learn estimator, and
# score its decoder against the true directions (the rows of `W`): MMCS (mean over true features
# of the best cosine with any latent), recovery rate, fraction of variance unexplained, ...

# %%
from supviz.sae import SparseAutoencoder, score
from supviz.toy.data import sparse_batch

spec = grid.specs[1]
x = sparse_batch(spec.n_features, spec.probability, 8192, seed=spec.seed, step=10_000).astype(np.float64)
H = x @ W  # activations [N, m]
sae = SparseAutoencoder(architecture="topk", d_sae=40, k=2, steps=800, batch_size=256, random_state=0).fit(H)
scores = score([sae.sae_], H, features=W, feature_masks=diag.represented_norm, true_codes=x)
scores

# %%
scores.to_frame()

# %% [markdown]
# ## Where to go next
#
# - `supviz run` reproduces the whole study (Hamblin 2022) into `results/report.html`.
# - `docs/architecture.md` lists every engine's API; `docs/benchmarks.md` their measured speed.
