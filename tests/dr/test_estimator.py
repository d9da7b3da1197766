"""supviz.dr.SMACOF, the scikit-learn estimator (issue 14 item 1).

scikit-learn's own estimator checks, then the estimator against the function it wraps, against
scikit-learn's MDS, and its parameters, seeds and repr.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from supviz.dr import SMACOF, mds_layout
from supviz.dr.smacof import layout_stress
from supviz.errors import SupvizError
from supviz.metrics import pairwise_distances

#: With dissimilarity="precomputed" the estimator is tagged pairwise. scikit-learn's checks then
#: hand it the Gram matrix X X^T of their random data instead of a dissimilarity matrix (their
#: ``_is_pairwise_metric`` recognises only a parameter named ``metric``); a Gram matrix has a
#: non-zero diagonal (and, of centred data, negative entries), which no dissimilarity has, and the
#: one check of dissimilarities every method shares (``supviz.core.validation.check_dissimilarity_matrix``)
#: refuses it. The checks that only pass such matrices are expected to fail for this variant; the
#: same behaviours are checked on the other variants, and tests below fit it on real dissimilarities.
_GRAM_NOT_DISSIMILARITY = (
    "scikit-learn passes a Gram matrix X X^T (non-zero diagonal, negative entries) to a pairwise estimator "
    "whose parameter is not named `metric`; a dissimilarity matrix has neither, so SMACOF refuses it"
)
_GRAM_CHECKS = (
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_pipeline_consistency",
)


def _expected_failed_checks(estimator):
    if estimator.dissimilarity == "precomputed":
        return dict.fromkeys(_GRAM_CHECKS, _GRAM_NOT_DISSIMILARITY)
    return {}


@parametrize_with_checks(
    [
        SMACOF(),
        SMACOF(metric_type="interval"),
        SMACOF(metric_type="ordinal", n_init=2, random_state=0),
        SMACOF(dissimilarity="precomputed"),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def points():
    return np.random.default_rng(14).normal(size=(25, 6))


@pytest.mark.parametrize("metric_type", ["ratio", "interval", "ordinal"])
def test_estimator_is_the_function(points, metric_type):
    est = SMACOF(metric_type=metric_type).fit(points)
    lay = mds_layout(points, metric_type=metric_type)
    np.testing.assert_array_equal(est.embedding_, lay.embedding)
    assert est.stress_ == lay.info["smacof_stress"] and est.n_iter_ == lay.info["n_iter"]
    assert est.converged_ and est.layout_.params["metric_type"] == metric_type
    assert est.n_features_in_ == 6 and est.embedding_.shape == (25, 2)
    # the returned stress is a recomputation from the returned layout (never below it: the
    # recomputation also rescales the layout optimally)
    again = layout_stress(pairwise_distances(points), est.embedding_, metric_type=metric_type)
    assert again == pytest.approx(est.stress_, abs=1e-4) and again <= est.stress_ + 1e-12
    np.testing.assert_array_equal(SMACOF(metric_type=metric_type).fit_transform(points), est.embedding_)


def test_precomputed_is_euclidean(points):
    a = SMACOF(metric_type="interval").fit(points)
    b = SMACOF(metric_type="interval", dissimilarity="precomputed").fit(pairwise_distances(points))
    np.testing.assert_allclose(b.embedding_, a.embedding_, atol=1e-10)
    assert b.n_features_in_ == 25


def test_ratio_stress_equal_or_lower_than_scikit_learn_mds(points):
    from sklearn.manifold import MDS

    delta = pairwise_distances(points)
    ours = SMACOF(metric_type="ratio").fit(points)
    sk = MDS(
        n_components=2,
        metric_mds=True,
        metric="euclidean",
        init="classical_mds",
        n_init=1,
        max_iter=1000,
        eps=1e-6,
        random_state=0,
    ).fit_transform(points)
    # One definition for both: Kruskal stress-1 after optimal ratio scaling of each layout.
    s_ours, s_sk = layout_stress(delta, ours.embedding_), layout_stress(delta, sk)
    assert ours.stress_ == pytest.approx(s_ours, abs=1e-5)
    assert s_ours <= s_sk + 1e-9, (s_ours, s_sk)


def test_parameters_checked_in_one_place(points):
    with pytest.raises(
        InvalidParameterError,
        match=r"The 'max_iter' parameter of SMACOF must be an int in the range \[1, inf\)\. Got 0 instead\.",
    ):
        SMACOF(max_iter=0).fit(points)
    with pytest.raises(InvalidParameterError, match=r"The 'metric_type' parameter of SMACOF must be a str among"):
        SMACOF(metric_type="nominal").fit(points)
    with pytest.raises(InvalidParameterError, match=r"The 'dissimilarity' parameter of SMACOF"):
        SMACOF(dissimilarity="cosine").fit(points)
    with pytest.raises(TypeError, match="unexpected keyword argument 'perplexity'"):
        SMACOF(perplexity=5)  # type: ignore[call-arg]


def test_bad_dissimilarities_are_supviz_errors():
    D = np.abs(np.random.default_rng(0).normal(size=(5, 5)))
    np.fill_diagonal(D, 0.0)
    with pytest.raises(SupvizError, match="`X` must be symmetric"):
        SMACOF(dissimilarity="precomputed").fit(D)
    with pytest.raises(SupvizError, match=r"must be square \(a dissimilarity matrix"):
        SMACOF(dissimilarity="precomputed").fit(D[:, :4])
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        SMACOF().fit(np.ones((1, 3)))


def test_equal_seeds_equal_fits(points):
    fit = lambda rs: SMACOF(init="random", n_init=3, random_state=rs).fit(points).embedding_  # noqa: E731
    np.testing.assert_array_equal(fit(7), fit(7))
    assert not np.allclose(fit(7), fit(8))
    np.testing.assert_array_equal(fit(np.random.default_rng(1)), fit(np.random.default_rng(1)))
    np.testing.assert_array_equal(fit(np.random.RandomState(2)), fit(np.random.RandomState(2)))
    # the Torgerson start needs no seed
    np.testing.assert_array_equal(SMACOF().fit(points).embedding_, SMACOF(random_state=5).fit(points).embedding_)


def test_init_array_and_repr(points):
    start = np.random.default_rng(3).normal(size=(25, 2))
    est = SMACOF(init=start, max_iter=1)
    assert repr(est) == "SMACOF(init=<array (25, 2)>, max_iter=1)"
    est.fit(points)
    assert est.n_iter_ == 1
    assert repr(SMACOF()) == "SMACOF()" and repr(SMACOF(3, eps=1e-9)) == "SMACOF(eps=1e-09, n_components=3)"
    text = repr(SMACOF(metric_type="interval").fit(points))
    assert text.startswith("SMACOF(metric_type='interval')  # fitted: N=25, k=2, stress_=") and "\n" not in text


def test_bad_points_are_one_line_supviz_errors():
    # break test 6, F9: scikit-learn's raw ValueErrors, several lines (the complex case printed the whole array)
    X = np.random.default_rng(0).normal(size=(6, 3))
    for bad, what in ((np.nan, "contains NaN"), (np.inf, "contains infinity"), (1j, "Complex data not supported")):
        Xb = X.astype(complex) if bad == 1j else X.copy()
        Xb[2, 1] = Xb[2, 1] + bad if bad == 1j else bad
        with pytest.raises(SupvizError, match=what) as err:
            SMACOF().fit(Xb)
        assert "\n" not in str(err.value) and str(err.value).startswith("`X` must be finite real numbers")
