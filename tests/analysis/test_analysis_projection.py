"""Projections: PCA exactness, t-SNE streaming and cancellation, placing new latents."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.analysis import Cancelled, ProjectionResult, project, trustworthiness
from napari_latent.analysis.synthetic import synthetic_latents

# small t-SNE settings: a few dozen iterations on a few hundred points take well under a second
FAST_TSNE = {"early_exaggeration_iter": 20, "n_iter": 30, "n_jobs": 1}


@pytest.fixture(scope="module")
def syn():
    return synthetic_latents(400, 16, seed=3)


def test_pca_transform_of_training_points_equals_fit_coordinates(syn):
    res = project(syn.latents, "pca")
    assert isinstance(res, ProjectionResult)
    assert res.coords.shape == (400, 2) and res.coords.dtype == np.float32
    np.testing.assert_allclose(res.transform(syn.latents), res.coords, atol=1e-5)
    np.testing.assert_allclose(res.transform(syn.latents[7]), res.coords[7], atol=1e-5)  # (D,) -> (2,)
    assert res.placement == "linear"
    assert sum(res.info["explained_variance_ratio"]) > 0


def test_pca_matches_sklearn_and_inverse_stays_in_plane(syn):
    from sklearn.decomposition import PCA

    res = project(syn.latents, "pca")
    ref = PCA(2).fit(syn.latents)
    np.testing.assert_allclose(np.abs(res.coords), np.abs(ref.transform(syn.latents)), rtol=1e-3, atol=1e-4)
    back = res.inverse_transform(res.coords[:5])
    np.testing.assert_allclose(res.transform(back), res.coords[:5], atol=1e-4)


def test_tsne_streams_intermediate_layouts(syn):
    seen = []
    res = project(syn.latents, "tsne", callback=lambda i, c: seen.append((i, c.copy())), callback_every=10, **FAST_TSNE)
    iterations = [i for i, _ in seen]
    assert iterations == list(range(10, 51, 10))  # counted across both phases
    assert all(c.shape == (400, 2) and c.dtype == np.float32 for _, c in seen)
    assert not np.allclose(seen[0][1], seen[-1][1])  # the layout moves
    assert res.info["n_iter"] == 50 and res.method == "tsne"
    assert res.params["negative_gradient_method"] == "fft" and res.params["initialization"] == "pca"
    assert trustworthiness(syn.latents, res.coords, sample=200) > 0.8


def test_tsne_should_stop_cancels_with_partial_layout(syn):
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(Cancelled) as info:
        project(syn.latents, "tsne", should_stop=should_stop, callback_every=5, **FAST_TSNE)
    assert isinstance(info.value, InterruptedError)
    partial = info.value.partial
    assert partial is not None and partial.info["cancelled"] is True
    assert partial.coords.shape == (400, 2) and 0 < partial.info["n_iter"] < 50
    np.testing.assert_allclose(partial.transform(syn.latents[9]), partial.coords[9], atol=1e-5)


def test_cancel_before_start_has_no_partial(syn):
    with pytest.raises(Cancelled) as info:
        project(syn.latents, "pca", should_stop=lambda: True)
    assert info.value.partial is None


def test_knn_placement_puts_training_point_on_its_own_coordinates(syn):
    res = project(syn.latents, "tsne", **FAST_TSNE)
    assert res.placement == "knn"
    np.testing.assert_allclose(res.transform(syn.latents[:20]), res.coords[:20], atol=1e-5)
    # a slightly edited latent lands near the original point, relative to the map's size
    edited = syn.latents[5] + 0.01 * np.random.default_rng(0).normal(size=syn.latents.shape[1])
    spread = np.ptp(res.coords, axis=0).max()
    assert np.linalg.norm(res.transform(edited) - res.coords[5]) < 0.1 * spread


def test_native_tsne_placement_lands_in_the_map(syn):
    res = project(syn.latents, "tsne", placement="native", **FAST_TSNE)
    placed = res.transform(syn.latents[:3])
    assert placed.shape == (3, 2)
    lo, hi = res.coords.min(axis=0), res.coords.max(axis=0)
    assert ((placed >= lo - 0.1 * (hi - lo)) & (placed <= hi + 0.1 * (hi - lo))).all()


def test_trustworthiness_pca_of_low_rank_latents_is_high():
    rng = np.random.default_rng(0)
    z = (rng.normal(size=(300, 2)) @ rng.normal(size=(2, 10))).astype(np.float32)
    res = project(z, "pca")
    assert trustworthiness(z, res.coords, sample=None) > 0.99
    assert trustworthiness(z, rng.normal(size=(300, 2)), sample=100) < 0.7


def test_optional_methods_fail_with_install_hint(syn, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name in ("pacmap", "umap"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install pacmap"):
        project(syn.latents, "pacmap")
    with pytest.raises(ImportError, match="pip install umap-learn"):
        project(syn.latents, "umap")


def test_bad_arguments(syn):
    with pytest.raises(ValueError, match="unknown projection method"):
        project(syn.latents, "isomap")
    with pytest.raises(ValueError, match="NaN"):
        project(np.full((10, 3), np.nan), "pca")
    with pytest.raises(ValueError, match="native"):
        project(syn.latents, "pca", placement="native")


def test_knn_placement_on_pca_map_for_many_vectors(syn):
    res = project(syn.latents, "pca", placement="knn")
    assert res.placement == "knn"
    np.testing.assert_allclose(res.transform(syn.latents[:100]), res.coords[:100], atol=1e-5)  # batched path
    with pytest.raises(NotImplementedError):
        project(syn.latents[:50], "tsne", **FAST_TSNE).inverse_transform(np.zeros(2))
