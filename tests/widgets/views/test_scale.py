"""The Explorer at scale: selection uploads, density mode, clusters on the map, 100,000 subjects."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.analysis.projection import ProjectionResult
from napari_latent.analysis.synthetic import synthetic_table
from napari_latent.cohort import Cohort, ColumnInfo
from napari_latent.explorer import Explorer
from napari_latent.widgets.plots.colouring import UNSELECTED
from napari_latent.widgets.views.distributions import DistributionView
from napari_latent.widgets.views.scatter import EmbeddingScatter, points_in_polygon


def _explorer(table, coords) -> Explorer:
    n = len(table)
    cohort = Cohort(
        table,
        columns={"qrs_duration": ColumnInfo("ms", "QRS duration", "ecg")},
        ecg_median=np.broadcast_to(np.zeros((1, 12, 600), np.float32), (n, 12, 600)),
        mri=np.broadcast_to(np.zeros((1, 50, 96, 96), np.float16), (n, 50, 96, 96)),
    )
    ex = Explorer(cohort)
    ex.set_projection("fused", ProjectionResult(np.asarray(coords, np.float32), "test", {}))
    return ex


def _show(qtbot, widget, size=(640, 600)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def planted():
    """1,500 subjects in three blobs; the blob at (8, 0) has a low EF, the one at (0, 8) a long QRS."""
    n = 1500
    table = synthetic_table(n, seed=3)
    rng = np.random.default_rng(11)
    group = rng.choice(3, n, p=[0.6, 0.2, 0.2])
    table["ef"] = table["ef"].to_numpy(float) - 0.15 * (group == 1)
    table["qrs_duration"] = table["qrs_duration"].to_numpy(float) + 40.0 * (group == 2)
    coords = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])[group] + rng.normal(0, 1.0, (n, 2))
    return _explorer(table, coords), group


def test_a_new_selection_uploads_only_the_selection_attribute(qtbot, planted):
    ex, group = planted
    scatter = _show(qtbot, EmbeddingScatter(ex))
    points = scatter._plot.artist._points
    before = dict(points.uploads)
    no_selection = scatter.screenshot()
    ex.select(group == 1)
    after = points.uploads
    assert after["a_position"] == before["a_position"] and after["a_color"] == before["a_color"]
    assert after["a_selected"] == before["a_selected"] + 1
    greyed = np.all(np.isclose(scatter.face_colours, UNSELECTED, atol=0.2), axis=1)
    np.testing.assert_array_equal(~greyed, group == 1)
    assert set(scatter.draw_order[-int((group == 1).sum()):]) == set(np.flatnonzero(group == 1))  # selected on top
    selected = scatter.screenshot()
    colourful = lambda img: int((np.ptp(img[..., :3].astype(int), axis=2) > 60).sum())  # noqa: E731
    assert 0 < colourful(selected) < colourful(no_selection)  # the unselected blobs turned grey on screen


def test_density_mode_draws_the_density_under_the_points(qtbot, planted):
    ex, group = planted
    scatter = _show(qtbot, EmbeddingScatter(ex))
    scatter.set_colour_by(None)
    plain = scatter.screenshot()
    scatter._controls.density.setChecked(True)  # the user's checkbox
    assert scatter.density
    layer = scatter._plot.artist.density_layer
    assert layer.visible and layer.grid.shape == (256, 256) and layer.grid.max() == pytest.approx(1.0)
    dense = scatter.screenshot()
    # the density's purple-to-yellow fills the blobs (the points alone are one blue: red < green)
    warm = lambda img: int(((img[..., 0].astype(int) - img[..., 1]) > 30).sum())  # noqa: E731
    assert warm(dense) > 3000 and warm(plain) < 50
    scatter.set_density(False)
    assert not layer.visible and not scatter._controls.density.isChecked()


def test_clusters_are_labelled_on_the_map_and_a_label_click_selects_its_cluster(qtbot, planted):
    ex, group = planted
    scatter = _show(qtbot, EmbeddingScatter(ex))
    with qtbot.waitSignal(scatter.clusters_found, timeout=60000):
        scatter._controls.find_on_map.trigger()  # the menu action
    clusters = scatter.clusters
    assert len(clusters) == 3
    low_ef = next(c for c in clusters if c.traits and c.traits[0].column == "ef")
    assert low_ef.traits[0].difference < 0
    overlap = np.isin(low_ef.indices, np.flatnonzero(group == 1)).mean()
    assert overlap > 0.9
    assert any(text.startswith("ef −") for text in scatter.cluster_labels)
    assert any("qrs_duration +" in text for text in scatter.cluster_labels)
    scatter.click(*low_ef.centre)  # a click on the label
    np.testing.assert_array_equal(ex.selection, low_ef.indices)
    groups = scatter.clusters_to_groups()
    assert [g.name for g in ex.groups] == [g.name for g in groups] and len(groups) == 3
    assert np.array_equal(ex.group(low_ef.name).indices, low_ef.indices)
    scatter.clear_clusters()
    assert scatter.cluster_labels == []


def test_linked_counts_are_right_right_after_a_brush_at_100k(qtbot):
    """100,000 subjects: a lasso in the scatter, and every chart counts the new selection exactly."""
    n = 100_000
    table = synthetic_table(n, seed=0)
    rng = np.random.default_rng(0)
    coords = rng.normal(0, 4, (12, 2))[rng.integers(0, 12, n)] + rng.normal(0, 1, (n, 2))
    ex = _explorer(table, coords)
    scatter = _show(qtbot, EmbeddingScatter(ex))
    charts = _show(qtbot, DistributionView(ex), (300, 900))
    centre = np.median(coords, axis=0)
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    polygon = centre + 0.5 * np.std(coords) * np.column_stack([np.cos(t), np.sin(t)])
    inside = points_in_polygon(scatter.coords, polygon)
    assert 1000 < inside.sum() < n - 1000
    scatter.lasso(polygon)
    qtbot.waitUntil(lambda: not charts._pending)  # the charts' one coalesced pass ran
    np.testing.assert_array_equal(ex.selection_mask, inside)
    bars, totals, selected = charts.counts("sex")
    for value, count in zip(bars, selected, strict=True):
        assert count == np.sum(table["sex"].to_numpy()[inside] == value)
    edges, totals, selected = charts.counts("age")
    expected, _ = np.histogram(table["age"].to_numpy()[inside], bins=edges)
    np.testing.assert_array_equal(selected, expected)
    assert totals.sum() == n and "of 100,000 selected" in charts.status.text()
    assert np.array_equal(~np.all(np.isclose(scatter.face_colours, UNSELECTED, atol=0.2), axis=1), inside)


@pytest.mark.slow
def test_a_100k_session_with_every_view_docked_brushes_and_focuses(make_napari_viewer_proxy, qtbot):
    """The scale sample (100,000 subjects, 3 x 256-d latents) with every view docked."""
    from napari_latent.scale import scale_explorer
    from napari_latent.widgets.views.layout import dock_explorer

    ex = scale_explorer(100_000, dim=256)
    assert {k: v.shape for k, v in ex.embeddings.items()} == {s: (100_000, 256) for s in ("fused", "mri", "ecg")}
    viewer = make_napari_viewer_proxy()
    docks = dock_explorer(ex, viewer)
    try:
        fused = docks.scatters["fused"]
        qtbot.waitUntil(lambda: len(fused.coords) == 100_000, timeout=60000)
        centre = np.median(fused.coords, axis=0)
        t = np.linspace(0, 2 * np.pi, 100, endpoint=False)
        polygon = centre + np.std(fused.coords) * np.column_stack([np.cos(t), np.sin(t)])
        inside = points_in_polygon(fused.coords, polygon)
        fused.lasso(polygon)
        qtbot.waitUntil(lambda: not docks.distributions._pending)
        np.testing.assert_array_equal(ex.selection_mask, inside)
        bars, _, selected = docks.distributions.counts("hypertension")
        hyper = ex.table["hypertension"].to_numpy()[inside]
        assert dict(zip(bars, selected)) == {True: hyper.sum(), False: (~hyper).sum()}
        for scatter in docks.scatters.values():  # every map greys the same subjects
            assert np.array_equal(~np.all(np.isclose(scatter.face_colours, UNSELECTED, atol=0.2), axis=1), inside)
        with qtbot.waitSignal(docks.decoded.subject_shown, timeout=60000):
            ex.focus(int(np.flatnonzero(inside)[0]))
        assert "original" in docks.decoded.layers
    finally:
        docks.decoded.close()
