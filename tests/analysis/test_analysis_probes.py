"""Probes and phenotype directions on synthetic latents with known linear structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_latent.analysis import (
    Direction,
    infer_kind,
    order_by_importance,
    order_by_variance,
    phenotype_direction,
    probe,
    probe_subgroup,
    probe_table,
    traverse,
)
from napari_latent.analysis.synthetic import synthetic_latents


@pytest.fixture(scope="module")
def syn():
    return synthetic_latents(800, 24, noise=0.3, seed=1)


@pytest.fixture(scope="module")
def age_probe(syn):
    return probe(syn.latents, syn.table["age"])


def test_probe_recovers_encoded_continuous_factor(syn, age_probe):
    res = age_probe
    assert res.kind == "continuous" and res.metric == "r2" and res.name == "age"
    assert res.score > 0.8
    assert res.y_true.shape == res.y_pred.shape == (800,)
    assert np.corrcoef(res.y_true, res.y_pred)[0, 1] > 0.9
    assert res.coef.shape == (24,) and res.n == 800 and res.n_dropped == 0
    # coefficients in latent units reproduce the fitted pipeline's predictions
    np.testing.assert_allclose(res.decision_function(syn.latents), res.predict(syn.latents), rtol=1e-6, atol=1e-6)


def test_probe_of_independent_column_is_near_zero(syn):
    res = probe(syn.latents, syn.table["unrelated"])
    assert res.score <= 0.1


def test_probe_binary_condition_auroc(syn):
    res = probe(syn.latents, syn.table["hypertension"])
    assert res.kind == "binary" and res.metric == "auroc"
    assert res.score > 0.9 and 0 <= res.metrics["accuracy"] <= 1
    assert res.proba.shape == (800, 2) and res.positive == True  # noqa: E712
    # the latent-unit log-odds agree with the fitted model's probabilities
    logit = res.decision_function(syn.latents[:10])
    np.testing.assert_allclose(1 / (1 + np.exp(-logit)), res.predict_proba(syn.latents[:10])[:, 1], rtol=1e-6)


def test_probe_string_binary_and_categorical(syn):
    sex = probe(syn.latents, syn.table["sex"])
    assert sex.kind == "binary" and list(sex.classes) == ["F", "M"] and sex.score > 0.9
    tertile = pd.Series(pd.qcut(syn.table["age"], 3, labels=["young", "mid", "old"]).astype(str), name="age_band")
    cat = probe(syn.latents, tertile)
    assert cat.kind == "categorical" and cat.proba.shape == (800, 3) and cat.coef.shape == (3, 24)
    assert cat.score > 0.85


def test_missing_targets_are_dropped_and_counted(syn):
    target = syn.table["age"].copy()
    target.iloc[:37] = np.nan
    res = probe(syn.latents, target)
    assert res.n_dropped == 37 and res.n == 763 and not res.used[:37].any() and res.used[37:].all()
    assert res.score > 0.8


def test_infer_kind():
    assert infer_kind(pd.Series([1.0, 2.0, 3.5])) == "continuous"
    assert infer_kind(pd.Series([0, 1, 1, 0])) == "binary"
    assert infer_kind(pd.Series([True, False, None])) == "binary"
    assert infer_kind(pd.Series(["a", "b", "c"])) == "categorical"


def test_probe_errors(syn):
    with pytest.raises(ValueError, match="single class"):
        probe(syn.latents, np.ones(800, dtype=bool))
    with pytest.raises(ValueError, match="800 latents"):
        probe(syn.latents, np.arange(10.0))


def test_probe_table_one_row_per_column_and_space(syn):
    spaces = {"fused": syn.latents, "noise": np.random.default_rng(0).normal(size=syn.latents.shape)}
    done = []
    table = probe_table(spaces, syn.table, ["age", "hypertension"], folds=3, progress=lambda i, n: done.append((i, n)))
    assert list(table.columns) == ["column", "space", "kind", "metric", "value", "n", "n_dropped", "error"]
    assert len(table) == 4 and done[-1] == (4, 4)
    by = table.set_index(["column", "space"])["value"]
    assert by["age", "fused"] > 0.8 and by["age", "noise"] < 0.1
    assert by["hypertension", "fused"] > 0.9 and by["hypertension", "noise"] < 0.7
    with pytest.raises(InterruptedError):
        probe_table(spaces, syn.table, ["age"], should_stop=lambda: True)


def test_probe_subgroup_uses_out_of_fold_predictions(syn, age_probe):
    old = syn.table["age"].to_numpy() > 70
    out = probe_subgroup(syn.latents, syn.table["age"], old, result=age_probe)
    assert list(out.index) == ["group", "rest", "all"]
    assert out.loc["group", "n"] == old.sum() and out.loc["rest", "n"] == (~old).sum()
    assert out.loc["all", "r2"] == pytest.approx(age_probe.score)
    # R² within an age-restricted group is lower (restricted range) but the error is similar
    assert out.loc["group", "r2"] < out.loc["all", "r2"]
    assert out.loc["group", "mae"] == pytest.approx(out.loc["rest", "mae"], rel=0.5)
    binary = probe_subgroup(syn.latents, syn.table["hypertension"], ~old, folds=3)
    assert {"auroc", "accuracy", "n"} <= set(binary.columns)


def test_phenotype_direction_matches_true_mixing_column(syn, age_probe):
    d = phenotype_direction(syn.latents, syn.table["age"], result=age_probe)
    assert isinstance(d, Direction)
    assert np.linalg.norm(d.vector) == pytest.approx(1.0)
    assert abs(d.vector @ syn.true_direction("age")) > 0.9
    assert d.vector @ syn.true_direction("age") > 0  # older = positive direction


def test_traversal_moves_prediction_by_advertised_amount(syn, age_probe):
    d = phenotype_direction(syn.latents, syn.table["age"], result=age_probe)
    values = np.array([-10.0, -1.0, 0.0, 1.0, 5.0, 20.0])  # years
    z0 = syn.latents[11]
    pts = traverse(z0, d, values)
    assert pts.shape == (6, 24)
    pred = age_probe.predict(pts)
    assert np.all(np.diff(pred) > 0)
    np.testing.assert_allclose(pred - age_probe.predict(z0[None])[0], values, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(pts[-1] - z0), 20 * d.step_per_unit, rtol=1e-5)
    assert d.label(5) == "+5"
    # latent units and plain vectors
    np.testing.assert_allclose(traverse(z0, d.vector * 3, [2.0])[0], z0 + 2 * d.vector, rtol=1e-5)
    np.testing.assert_allclose(traverse(z0, d, [0.5], units="latent")[0], z0 + 0.5 * d.vector, rtol=1e-5)


def test_binary_direction_is_in_log_odds(syn):
    d = phenotype_direction(syn.latents, syn.table["prior_mi"], folds=3)
    assert d.kind == "binary" and d.unit == "log-odds" and d.positive == True  # noqa: E712
    logit = d.probe.decision_function(traverse(syn.latents[0], d, [0.0, 1.0, 2.0]))
    np.testing.assert_allclose(np.diff(logit), 1.0, atol=1e-6)
    assert abs(d.vector @ syn.true_direction("prior_mi")) > 0.8
    # choosing the other class flips the direction
    flipped = phenotype_direction(syn.latents, syn.table["prior_mi"], positive=False, folds=3)
    assert flipped.vector @ d.vector < -0.99
    with pytest.raises(ValueError, match="positive"):
        tertile = pd.qcut(syn.table["age"], 3, labels=["a", "b", "c"]).astype(str)
        phenotype_direction(syn.latents, tertile, folds=3)


def test_dimension_orderings(syn, age_probe):
    z = np.random.default_rng(0).normal(size=(500, 6)) * np.array([1.0, 5.0, 0.1, 3.0, 2.0, 0.5])
    np.testing.assert_array_equal(order_by_variance(z), [1, 3, 4, 0, 5, 2])
    imp = order_by_importance(age_probe)
    assert imp[0] == np.argmax(np.abs(age_probe.model[-1].coef_))
    np.testing.assert_array_equal(order_by_importance(np.array([0.1, -3.0, 2.0])), [1, 2, 0])
    np.testing.assert_array_equal(order_by_importance(np.array([1.0, 1.0]), scale=np.array([1.0, 5.0])), [1, 0])


@pytest.mark.parametrize(("n", "d"), [(300, 20), (40, 60)])
def test_gram_ridge_matches_sklearn_ridgecv(n, d):
    from sklearn.linear_model import RidgeCV

    from napari_latent.analysis._ridge import GramRidgeCV
    from napari_latent.analysis.probes import DEFAULT_ALPHAS

    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, d) + rng.normal(size=d)
    y = x[:, :3].sum(axis=1) + 2 * rng.normal(size=n) + 5
    ours, ref = GramRidgeCV().fit(x, y), RidgeCV(alphas=DEFAULT_ALPHAS).fit(x, y)
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.predict(x), ref.predict(x), atol=1e-8)
