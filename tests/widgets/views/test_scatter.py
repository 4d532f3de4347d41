"""Tests of the embedding scatter (vispy; need a GL display: run under xvfb-run)."""

from __future__ import annotations

import time

import matplotlib.path as mpath
import numpy as np
import pytest
from qtpy.QtCore import QEvent, QPointF, Qt
from qtpy.QtGui import QMouseEvent
from qtpy.QtWidgets import QApplication

from napari_latent.widgets.plots.colouring import UNSELECTED
from napari_latent.widgets.views.scatter import EmbeddingScatter, points_in_polygon

GREY = np.asarray(UNSELECTED[:3], np.float32)


def _scatter(qtbot, explorer, space: str = "fused") -> EmbeddingScatter:
    widget = EmbeddingScatter(explorer, space)
    qtbot.addWidget(widget)
    widget.resize(640, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def fused(qtbot, explorer) -> EmbeddingScatter:
    return _scatter(qtbot, explorer, "fused")


@pytest.fixture
def mri(qtbot, explorer) -> EmbeddingScatter:
    return _scatter(qtbot, explorer, "mri")


def _greyed(scatter: EmbeddingScatter) -> np.ndarray:
    """Which subjects are drawn in the unselected grey."""
    return np.all(np.isclose(scatter.face_colours[:, :3], GREY), axis=1)


def _central_polygon(coords: np.ndarray) -> np.ndarray:
    """A pentagon around the middle of the map that holds some points but not all."""
    centre = np.median(coords, axis=0)
    radius = 0.6 * np.median(np.linalg.norm(coords - centre, axis=1))
    angles = np.linspace(0, 2 * np.pi, 5, endpoint=False) + 0.3
    return centre + radius * np.column_stack([np.cos(angles), 1.3 * np.sin(angles)])


def _colourful_pixels(img: np.ndarray) -> int:
    """Pixels clearly coloured (not grey, not the dark background)."""
    rgb = img[..., :3].astype(int)
    return int(((rgb.max(axis=2) - rgb.min(axis=2)) > 60).sum())


def _send_mouse(widget, kind, pos, buttons=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier):
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    local = QPointF(float(pos[0]), float(pos[1]))
    event = QMouseEvent(kind, local, widget.mapToGlobal(local), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def _drag(qtbot, widget, path_px: np.ndarray, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Press at the first point, move through the others, release at the last."""
    _send_mouse(widget, QEvent.Type.MouseButtonPress, path_px[0], modifiers=modifiers)
    for p in path_px[1:]:
        qtbot.wait(11)  # vispy drops mouse moves that come less than 10 ms apart
        _send_mouse(widget, QEvent.Type.MouseMove, p, modifiers=modifiers)
    _send_mouse(
        widget, QEvent.Type.MouseButtonRelease, path_px[-1], buttons=Qt.MouseButton.NoButton, modifiers=modifiers
    )


# ---------------------------------------------------------------------- drawing and linking
def test_opens_with_a_pca_map_of_every_subject(fused, mri, explorer) -> None:
    n = len(explorer.table)
    assert fused.coords.shape == (n, 2) and mri.coords.shape == (n, 2)
    assert explorer.projections["fused"].method == "pca" and explorer.projections["mri"].method == "pca"
    np.testing.assert_allclose(fused.coords, explorer.projections["fused"].coords)
    assert not _greyed(fused).any()
    assert _colourful_pixels(fused.screenshot()) > 200


def test_lasso_selects_inside_and_greys_the_other_scatter(fused, mri, explorer) -> None:
    polygon = _central_polygon(fused.coords)
    expected = np.flatnonzero(mpath.Path(polygon).contains_points(fused.coords))
    assert 0 < len(expected) < len(explorer.table)
    before = _colourful_pixels(mri.screenshot())

    hit = fused.lasso(polygon)

    np.testing.assert_array_equal(hit, expected)
    np.testing.assert_array_equal(explorer.selection, expected)
    for view in (fused, mri):
        np.testing.assert_array_equal(np.flatnonzero(~_greyed(view)), expected)
        assert set(view.draw_order[-len(expected) :]) == set(expected)  # selected on top
    assert _colourful_pixels(mri.screenshot()) < 0.8 * before


def test_shift_adds_and_alt_subtracts(fused, explorer) -> None:
    coords = fused.coords
    left = coords[:, 0] < np.median(coords[:, 0])
    (x0, y0), (x1, y1) = coords.min(axis=0) - 1, coords.max(axis=0) + 1
    xm = float(np.median(coords[:, 0]))
    fused.box(x0, y0, xm, y1)
    np.testing.assert_array_equal(explorer.selection_mask, left)
    top = coords[:, 1] > np.median(coords[:, 1])
    strip = np.array([[x0, np.median(coords[:, 1])], [x1, np.median(coords[:, 1])], [x1, y1], [x0, y1]])
    fused.lasso(strip, mode="add")
    np.testing.assert_array_equal(explorer.selection_mask, left | top)
    fused.lasso(strip, mode="subtract")
    np.testing.assert_array_equal(explorer.selection_mask, left & ~top)


def test_query_selection_regreys_both_scatters(fused, mri, explorer) -> None:
    explorer.select("sex == 'F'")
    female = (explorer.table["sex"] == "F").to_numpy()
    for view in (fused, mri):
        np.testing.assert_array_equal(~_greyed(view), female)
    explorer.select(None)
    assert not _greyed(fused).any() and not _greyed(mri).any()


def test_click_focuses_the_nearest_subject_and_hover_names_it(fused, explorer) -> None:
    i = 7
    x, y = fused.coords[i]
    assert fused.click(x + 1e-4, y - 1e-4) == i
    assert explorer.focused == i
    np.testing.assert_array_equal(explorer.selection, [i])
    far = fused.coords.max(axis=0) + 100.0
    assert fused.click(*far) is None and explorer.focused == i

    fused.set_colour_by("age")
    assert fused.hover(*fused.coords[3]) == 3
    assert explorer.table["subject_id"][3] in fused.hover_text and "age:" in fused.hover_text
    assert fused.hover(*far) is None and fused.hover_text == ""


def test_colour_by_legend_size_and_opacity(fused, explorer) -> None:
    fused.set_colour_by("sex")
    assert fused.legend.kind == "categorical"
    assert len(fused.legend.entries) == explorer.table["sex"].nunique()
    assert sum(e.count for e in fused.legend.entries) == len(explorer.table)
    explorer.select("sex == 'F'")
    by_label = {e.label: e for e in fused.legend.entries}
    assert by_label["F"].selected == by_label["F"].count and by_label["M"].selected == 0
    fused.set_colour_by("age")
    assert fused.legend.kind == "continuous" and fused.legend.entries == []
    lo, hi = fused.legend.limits
    assert explorer.table["age"].min() <= lo < hi <= explorer.table["age"].max()
    fused.set_colour_by(None)
    assert fused.legend.kind == "none"
    explorer.select(None)
    fused.set_point_size(12.0)
    fused.set_opacity(0.4)
    assert fused.point_size == 12.0
    np.testing.assert_allclose(fused.face_colours[:, 3], 0.4, atol=1e-6)


# ---------------------------------------------------------------------- mouse and keys
def test_mouse_lasso_shift_adds_escape_clears_click_focuses(fused, explorer, qtbot) -> None:
    fused.set_tool("lasso")
    native = fused.canvas.native
    w, h = native.width(), native.height()
    square = np.array([(0.3 * w, 0.3 * h), (0.55 * w, 0.3 * h), (0.55 * w, 0.7 * h), (0.3 * w, 0.7 * h)])
    path = np.concatenate([np.linspace(a, b, 8, endpoint=False) for a, b in zip(square, np.roll(square, -1, 0))])
    path = np.vstack([path, path[:1]]).round()
    pixels = fused.data_to_canvas(fused.coords)
    expected = points_in_polygon(pixels, path)
    assert expected.any()

    _drag(qtbot, native, path)
    np.testing.assert_array_equal(explorer.selection_mask, expected)

    right = path + [0.3 * w, 0]
    _drag(qtbot, native, right, modifiers=Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(explorer.selection_mask, expected | points_in_polygon(pixels, right))

    _drag(qtbot, native, path, modifiers=Qt.KeyboardModifier.AltModifier)
    np.testing.assert_array_equal(explorer.selection_mask, points_in_polygon(pixels, right) & ~expected)

    qtbot.keyClick(native, Qt.Key.Key_Escape)
    assert len(explorer.selection) == 0

    i = 11  # a click (press and release in place) focuses the subject under the cursor
    px = fused.data_to_canvas(fused.coords[i])[0]
    _drag(qtbot, native, np.array([px, px]))
    assert explorer.focused == fused.nearest(*fused.coords[i])


# ---------------------------------------------------------------------- projections
def test_tsne_streams_into_the_view_and_can_be_cancelled(fused, explorer, qtbot) -> None:
    pca = explorer.projections["fused"].coords.copy()
    with qtbot.waitSignal(fused.layout_streamed, timeout=30000):
        fused.compute("tsne", perplexity=5, n_iter=100000, early_exaggeration_iter=10, callback_every=2, n_jobs=1)
    assert fused.computing
    assert not np.allclose(fused.coords, pca)  # the intermediate layout is drawn
    with qtbot.waitSignal(fused.projection_cancelled, timeout=30000):
        fused.cancel()
    qtbot.waitUntil(lambda: not fused.computing, timeout=10000)
    assert explorer.projections["fused"].method == "pca"
    np.testing.assert_allclose(fused.coords, pca)


def test_tsne_finishes_into_the_explorer(fused, mri, explorer, qtbot) -> None:
    mri_before = mri.coords.copy()
    streamed = []
    fused.layout_streamed.connect(streamed.append)
    with qtbot.waitSignal(fused.projection_finished, timeout=30000) as done:
        fused.compute("tsne", perplexity=5, n_iter=30, early_exaggeration_iter=10, callback_every=5, n_jobs=1)
    result = done.args[0]
    assert result.method == "tsne" and explorer.projections["fused"] is result
    np.testing.assert_allclose(fused.coords, result.coords)
    np.testing.assert_allclose(mri.coords, mri_before)
    assert streamed
    qtbot.waitUntil(lambda: not fused.computing, timeout=10000)


def test_new_embeddings_recompute_pca_and_close_disconnects(fused, explorer, qtbot) -> None:
    rng = np.random.default_rng(1)
    explorer.set_embeddings({k: rng.normal(size=v.shape).astype(np.float32) for k, v in explorer.embeddings.items()})
    assert explorer.projections["fused"].method == "pca"
    np.testing.assert_allclose(fused.coords, explorer.projections["fused"].coords)
    fused.close()
    explorer.select("sex == 'F'")
    assert not _greyed(fused).any()


# ---------------------------------------------------------------------- scale
def test_100k_points_draw_and_select(qtbot) -> None:
    from napari_latent.analysis.projection import ProjectionResult
    from napari_latent.analysis.synthetic import synthetic_table
    from napari_latent.cohort import Cohort
    from napari_latent.explorer import Explorer

    n = 100_000
    cohort = Cohort(
        synthetic_table(n),
        ecg_median=np.broadcast_to(np.zeros((1, 12, 600), np.float32), (n, 12, 600)),
        mri=np.broadcast_to(np.zeros((1, 50, 96, 96), np.float16), (n, 50, 96, 96)),
    )
    ex = Explorer(cohort)
    scatter = _scatter(qtbot, ex)
    coords = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    ex.set_projection("fused", ProjectionResult(coords, "random", {}))
    np.testing.assert_array_equal(scatter.coords, coords)
    assert _colourful_pixels(scatter.screenshot()) > 1000
    t0 = time.perf_counter()
    ex.select(coords[:, 0] > 0)
    elapsed = time.perf_counter() - t0
    assert np.array_equal(~_greyed(scatter), coords[:, 0] > 0)
    assert elapsed < 0.5, f"selection update took {elapsed * 1e3:.0f} ms"
    hit = scatter.lasso(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]), mode="replace")
    assert len(hit) == int(np.all(np.abs(coords) <= 1, axis=1).sum())
    scatter.screenshot()


def test_colour_bar_title_reads_units_and_never_a_bare_one() -> None:
    from napari_latent.cohort import ColumnInfo
    from napari_latent.widgets.views.scatter.legend import column_title

    columns = {
        "lvedv": ColumnInfo(unit="mL", description="LV end-diastolic volume"),
        "ef": ColumnInfo(unit="1", description="LV ejection fraction"),
        "site": ColumnInfo(),
    }
    assert column_title(columns, "lvedv") == "lvedv (mL)"
    assert column_title(columns, "ef") == "ef · LV ejection fraction"  # not "ef (1)"
    assert column_title(columns, "site") == "site"
