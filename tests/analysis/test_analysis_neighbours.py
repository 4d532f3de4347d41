"""Nearest neighbours and cross-modal retrieval."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from napari_latent.analysis import NeighbourIndex, nearest, retrieval_accuracy, retrieval_ranks


@pytest.fixture(scope="module")
def z():
    return np.random.default_rng(0).normal(size=(2000, 32)).astype(np.float32)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nearest_matches_sklearn_for_single_and_batched_queries(z, metric):
    index = NeighbourIndex(z, metric)
    queries = z[:100] + 0.05
    ref_dist, ref_idx = NearestNeighbors(metric=metric, algorithm="brute").fit(z).kneighbors(queries, 8)
    for q in (queries[:3], queries):  # few queries: one matrix product; many: scikit-learn
        idx, dist = index.query(q, 8)
        np.testing.assert_array_equal(idx, ref_idx[: len(q)])
        np.testing.assert_allclose(dist, ref_dist[: len(q)], rtol=1e-4, atol=1e-5)
    idx, dist = nearest(z, queries[0], k=5, metric=metric)
    assert idx.shape == dist.shape == (5,) and np.all(np.diff(dist) >= 0)
    np.testing.assert_array_equal(idx, ref_idx[0, :5])


def test_query_with_an_indexed_point_finds_it_at_distance_zero(z):
    index = NeighbourIndex(z)
    idx, dist = nearest(index, z[42], k=3)
    assert idx[0] == 42 and dist[0] == 0.0
    others, d = index.neighbours_of(42, k=3)
    np.testing.assert_array_equal(others, idx[1:3].tolist() + [nearest(index, z[42], k=4)[0][3]])
    many, _ = index.neighbours_of([1, 2, 3], k=4)
    assert many.shape == (3, 4) and not (many == np.array([[1], [2], [3]])).any()


def test_bad_queries(z):
    index = NeighbourIndex(z)
    with pytest.raises(ValueError, match="shape"):
        index.query(np.zeros(5), 3)
    with pytest.raises(ValueError, match="k must be"):
        index.query(z[0], 0)
    with pytest.raises(ValueError, match="metric"):
        NeighbourIndex(z, "manhattan")


def test_retrieval_identical_spaces_is_perfect(z):
    assert retrieval_accuracy(z, z.copy(), ks=(1, 5)) == {1: 1.0, 5: 1.0}
    # scale does not matter for cosine similarity
    assert retrieval_accuracy(z, 3.0 * z, ks=(1,))[1] == 1.0


def test_retrieval_independent_spaces_is_at_chance(z):
    other = np.random.default_rng(1).normal(size=z.shape)
    n = len(z)
    acc = retrieval_accuracy(z, other, ks=(1, 50, 200), chunk_size=97)  # odd chunk: exercises the chunking
    for k, value in acc.items():
        sd = np.sqrt(k / n * (1 - k / n) / n)
        assert abs(value - k / n) < 4 * sd + 1e-3


def test_retrieval_ranks_of_noisy_pairs(z):
    rng = np.random.default_rng(2)
    noisy = z + 0.5 * rng.normal(size=z.shape)
    ranks = retrieval_ranks(z, noisy)
    assert ranks.shape == (len(z),) and ranks.min() == 0
    acc = retrieval_accuracy(z, noisy, ks=(1, 5))
    assert acc[1] == np.mean(ranks == 0) and acc[5] >= acc[1] > 0.5
    with pytest.raises(ValueError, match="paired"):
        retrieval_ranks(z, z[:10])
