"""Automatic clusters: planted groups are found and labelled with the phenotype that was planted."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.analysis.clusters import describe_clusters, find_clusters
from napari_latent.analysis.synthetic import synthetic_table


@pytest.fixture(scope="module")
def planted():
    """3,000 subjects; two planted groups with their own place on the map and their own phenotype."""
    n = 3000
    table = synthetic_table(n, seed=3)
    rng = np.random.default_rng(11)  # not the table's generator: membership independent of the columns
    group = rng.choice(3, n, p=[0.7, 0.15, 0.15])  # 0: everyone else, 1: low EF, 2: long QRS
    ef = table["ef"].to_numpy(float).copy()
    qrs = table["qrs_duration"].to_numpy(float).copy()
    ef[group == 1] -= 0.15
    qrs[group == 2] += 40.0
    table["ef"], table["qrs_duration"] = ef, qrs
    centres = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    coords = centres[group] + rng.normal(0, 1.0, (n, 2))
    return table, coords, group


def _best_match(labels: np.ndarray, truth: np.ndarray) -> float:
    """The Jaccard overlap of ``truth`` with the found cluster that overlaps it most."""
    ids = np.unique(labels[truth & (labels >= 0)])
    return max((np.sum(truth & (labels == k)) / np.sum(truth | (labels == k)) for k in ids), default=0.0)


def test_planted_groups_are_found_on_the_map(planted) -> None:
    table, coords, group = planted
    labels = find_clusters(coords)
    assert labels.shape == (len(table),)
    assert len(np.unique(labels[labels >= 0])) == 3
    for g in (0, 1, 2):
        assert _best_match(labels, group == g) > 0.85
    sizes = [np.sum(labels == k) for k in range(3)]
    assert sizes == sorted(sizes, reverse=True)  # numbered largest first


def test_each_planted_group_is_labelled_with_its_phenotype_in_column_units(planted) -> None:
    table, coords, group = planted
    labels = find_clusters(coords)
    clusters = describe_clusters(table, labels, units={"ef": "1", "qrs_duration": "ms"}, coords=coords)
    for g, column, sign in ((1, "ef", -1), (2, "qrs_duration", +1)):
        k = np.bincount(labels[(group == g) & (labels >= 0)]).argmax()
        cluster = next(c for c in clusters if c.id == k)
        top = cluster.traits[0]
        assert top.column == column and np.sign(top.difference) == sign
        planted_shift = -0.15 if column == "ef" else 40.0
        assert top.difference == pytest.approx(planted_shift, rel=0.25)  # a difference of means, in the column's unit
        assert column in cluster.label
        assert cluster.centre is not None and np.linalg.norm(np.subtract(cluster.centre, coords[group == g].mean(0))) < 1.5
        if column == "qrs_duration":
            assert top.text.startswith("qrs_duration +") and top.text.endswith(" ms")


def test_latent_clusters_are_found_after_pca_and_large_inputs_are_subsampled(planted) -> None:
    table, coords, group = planted
    rng = np.random.default_rng(5)
    mixing = rng.normal(size=(2, 64))
    latents = coords @ mixing + 0.3 * rng.normal(size=(len(coords), 64))
    labels = find_clusters(latents, max_fit=1000)  # 1,000 fitted, 2,000 assigned to their nearest fitted subject
    assert (labels >= 0).mean() > 0.9
    for g in (1, 2):
        assert _best_match(labels, group == g) > 0.8


def test_no_structure_means_no_strong_traits_and_bad_input_is_refused() -> None:
    table = synthetic_table(500, seed=1)
    labels = np.zeros(500, int)
    labels[:250] = 1  # an arbitrary split: nothing sets it apart
    assert all(not c.traits for c in describe_clusters(table, labels))
    with pytest.raises(ValueError, match="cluster labels"):
        describe_clusters(table, labels[:10])
    with pytest.raises(ValueError, match="non-empty"):
        find_clusters(np.zeros((0, 2)))
