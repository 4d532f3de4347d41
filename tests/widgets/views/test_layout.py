"""Every view docked together: selections made in one view show in all the others; the
layout fits a 1366 × 768 screen and starts with fair dock sizes at 1920 × 1080."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.widgets.plots.colouring import UNSELECTED
from napari_latent.widgets.views.layout import DOCK_TITLES


@pytest.fixture
def docked(make_napari_viewer_proxy, explorer, qtbot):
    from napari_latent.widgets.views.layout import dock_explorer

    viewer = make_napari_viewer_proxy()
    docks = dock_explorer(explorer, viewer)
    qtbot.waitUntil(lambda: all(s.coords is not None and len(s.coords) == 24 for s in docks.scatters.values()))
    yield viewer, docks
    docks.decoded.close()


def _greyed(scatter) -> np.ndarray:
    return np.all(np.isclose(scatter.face_colours, UNSELECTED, atol=1e-3), axis=1)


def test_all_views_are_docked(docked, explorer):
    viewer, docks = docked
    assert set(docks.scatters) == {"fused", "mri", "ecg"}
    for widget in (docks.distributions, docks.sliders, docks.groups, docks.probes, docks.training):
        assert widget is not None and widget.isVisible() or widget.parent() is not None


def test_lasso_in_one_scatter_selects_everywhere(docked, explorer):
    _, docks = docked
    fused, mri = docks.scatters["fused"], docks.scatters["mri"]
    xy = fused.coords
    lo, hi = np.percentile(xy, 25, axis=0), np.percentile(xy, 75, axis=0)
    pad = 1e-3 * np.ptp(xy, axis=0)
    polygon = np.array([[lo[0] - pad[0], lo[1] - pad[1]], [hi[0] + pad[0], lo[1] - pad[1]],
                        [hi[0] + pad[0], hi[1] + pad[1]], [lo[0] - pad[0], hi[1] + pad[1]]])  # fmt: skip
    inside = np.flatnonzero((xy[:, 0] >= lo[0]) & (xy[:, 0] <= hi[0]) & (xy[:, 1] >= lo[1]) & (xy[:, 1] <= hi[1]))
    assert 0 < len(inside) < 24
    fused.lasso(polygon)
    np.testing.assert_array_equal(explorer.selection, inside)
    greyed = _greyed(mri)
    assert greyed.sum() == 24 - len(inside)
    cats, totals, selected = docks.distributions.counts("sex")
    sexes = explorer.table["sex"].to_numpy()
    for cat, n_sel in zip(cats, selected, strict=True):
        assert n_sel == np.sum(sexes[inside] == cat)


def test_brushing_a_bar_selects_in_the_scatters(docked, explorer):
    _, docks = docked
    docks.distributions.click_category("sex", "F")
    women = np.flatnonzero(explorer.table["sex"].to_numpy() == "F")
    np.testing.assert_array_equal(explorer.selection, women)
    for scatter in docks.scatters.values():
        assert np.array_equal(np.flatnonzero(~_greyed(scatter)), women)


# --- the layout on small and large screens

EXPLORER_DOCKS = DOCK_TITLES  # every dock an Explorer session adds
#: What a 1366 × 768 screen leaves a window after a task bar (~40 px) and a title bar (~30 px).
SMALL_SCREEN_WINDOW = (1366, 700)
#: The regular layout must fit every screen that gets it (COMPACT_BELOW less a title bar).
LARGE_SCREEN_MAX_MIN_HEIGHT = 900


def _dock_explorer_showing_cines(viewer, explorer, qtbot, **kwargs):
    """Dock everything and focus a subject, so napari's layer controls show an image's
    controls (their tallest) as they do in a session."""
    from napari_latent.widgets.views.layout import dock_explorer

    docks = dock_explorer(explorer, viewer, **kwargs)
    explorer.focus(0)
    qtbot.waitUntil(lambda: {"original", "edited"} <= {layer.name for layer in viewer.layers}, timeout=30_000)
    return docks


def _qt_docks(window) -> dict:
    """Every dock of the main window by title."""
    from qtpy.QtWidgets import QDockWidget

    return {dock.windowTitle(): dock for dock in window.findChildren(QDockWidget)}


def _reachable(window, dock) -> bool:
    """Docked in the window and shown, or one click away as a tab of a shown dock."""
    from qtpy.QtCore import Qt

    if dock.isHidden() or dock.isFloating() or window.dockWidgetArea(dock) == Qt.DockWidgetArea.NoDockWidgetArea:
        return False
    return dock.isVisible() or any(tab.isVisible() for tab in window.tabifiedDockWidgets(dock))


def _minimums(window) -> str:
    hint = window.minimumSizeHint()
    rows = [f"window {window.width()} x {window.height()}, minimum {hint.width()} x {hint.height()}"]
    for title, dock in _qt_docks(window).items():
        if not dock.isHidden():
            rows.append(f"{title}: minimum height {dock.minimumSizeHint().height()}, now {dock.height()}")
    return "\n".join(rows)


@pytest.mark.parametrize(
    ("available", "compact"),
    [(728, True), (768, True), (860, True), (899, True), (1010, False), (1040, False), (1080, False), (None, False)],
)
def test_short_screens_get_the_compact_layout(available, compact):
    from napari_latent.widgets.views.layout import compact_for

    assert compact_for(available) is compact


def test_compact_layout_fits_a_1366_by_768_screen(make_napari_viewer_proxy, explorer, qtbot, monkeypatch):
    from napari_latent.widgets.views import layout

    monkeypatch.setattr(layout, "available_height", lambda viewer: 728)  # 1366 × 768 less a task bar
    viewer = make_napari_viewer_proxy(show=True)
    docks = _dock_explorer_showing_cines(viewer, explorer, qtbot)  # the layout is picked from the screen
    window = docks.sliders.window()
    assert docks.compact
    hint = window.minimumSizeHint()
    assert hint.height() <= SMALL_SCREEN_WINDOW[1] and hint.width() <= SMALL_SCREEN_WINDOW[0], _minimums(window)

    window.resize(*SMALL_SCREEN_WINDOW)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == SMALL_SCREEN_WINDOW)
    assert set(EXPLORER_DOCKS) <= set(viewer.window.dock_widgets)
    qt_docks = _qt_docks(window)
    for title in (*EXPLORER_DOCKS, "layer list", "layer controls"):
        qtbot.waitUntil(lambda title=title: _reachable(window, qt_docks[title]))
    # napari's layer docks are tabs beside the scatters, which stay in front
    scatter_tabs = {dock.windowTitle() for dock in window.tabifiedDockWidgets(qt_docks["Fused latent space"])}
    assert {"layer list", "layer controls", "MRI latent space"} <= scatter_tabs
    qtbot.waitUntil(qt_docks["Fused latent space"].isVisible)
    for dock in (qt_docks["Fused latent space"], qt_docks["Latent sliders"], qt_docks["Distributions"]):
        assert window.rect().contains(dock.geometry()), _minimums(window)
    docks.decoded.close()


def test_show_explorer_can_force_the_compact_layout(make_napari_viewer_proxy, explorer, qtbot):
    from napari_latent.widgets.views.layout import show_explorer

    viewer = show_explorer(explorer, make_napari_viewer_proxy(), compact=True)
    explorer.focus(0)
    qtbot.waitUntil(lambda: "edited" in {layer.name for layer in viewer.layers}, timeout=30_000)
    window = viewer.window.dock_widgets["Latent sliders"].window()
    assert window.minimumSizeHint().height() <= SMALL_SCREEN_WINDOW[1], _minimums(window)
    viewer.window.dock_widgets["Decoded views and 12-lead ECG"].views.close()


def test_regular_layout_on_a_1920_by_1080_screen(make_napari_viewer_proxy, explorer, qtbot, monkeypatch):
    from napari_latent.widgets.views import layout

    monkeypatch.setattr(layout, "available_height", lambda viewer: 1040)  # 1080 less a task bar
    viewer = make_napari_viewer_proxy(show=True)
    docks = _dock_explorer_showing_cines(viewer, explorer, qtbot)
    window = docks.sliders.window()
    assert not docks.compact
    assert window.minimumSizeHint().height() <= LARGE_SCREEN_MAX_MIN_HEIGHT, _minimums(window)
    qt_docks = _qt_docks(window)
    # napari's own docks share one place as two tabs (the list in front), apart from the scatters
    assert window.tabifiedDockWidgets(qt_docks["layer list"]) == [qt_docks["layer controls"]]
    assert window.tabifiedDockWidgets(qt_docks["Fused latent space"]) == [
        qt_docks["MRI latent space"], qt_docks["ECG latent space"]
    ]  # fmt: skip
    qtbot.waitUntil(qt_docks["layer list"].isVisible)

    # every dock open, the window taller than its minimum (1920 × 1200 less a task bar): napari's
    # layer docks stay at their minimum, the scatter gets the rest, the sliders half the right,
    # the ECG row a quarter of the window
    window.resize(1920, 1160)
    scatter, sliders = qt_docks["Fused latent space"], qt_docks["Latent sliders"]
    charts, controls, layers = qt_docks["Distributions"], qt_docks["layer controls"], qt_docks["layer list"]
    ecg = qt_docks["Decoded views and 12-lead ECG"]

    def fair() -> bool:
        return (
            window.height() == 1160
            and sliders.height() >= 0.45 * (charts.height() + sliders.height())
            and layers.height() <= max(layers.minimumSizeHint().height(), controls.minimumSizeHint().height()) + 10
            and scatter.height() >= scatter.minimumSizeHint().height() + 150
            and ecg.height() >= 0.2 * window.height()
        )

    try:
        qtbot.waitUntil(fair)
    except Exception as exc:
        raise AssertionError(_minimums(window)) from exc
    docks.decoded.close()


def test_docks_stay_where_the_user_drags_them(make_napari_viewer_proxy, explorer, qtbot):
    from qtpy.QtCore import QPoint, Qt
    from qtpy.QtTest import QTest
    from qtpy.QtWidgets import QApplication

    viewer = make_napari_viewer_proxy(show=True)
    docks = _dock_explorer_showing_cines(viewer, explorer, qtbot, compact=False)
    window = docks.sliders.window()
    window.resize(1920, 1160)
    qt_docks = _qt_docks(window)
    charts, sliders = qt_docks["Distributions"], qt_docks["Latent sliders"]
    qtbot.waitUntil(lambda: abs(sliders.height() - charts.height()) < 60)  # half each to start

    # drag the separator above the sliders (below the charts' tab bar) 200 pixels down
    gap = QPoint(sliders.geometry().center().x(), sliders.geometry().top() - 2)
    assert window.childAt(gap) is None  # the main window's own separator
    QTest.mousePress(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, gap)
    for step in range(1, 11):
        QTest.mouseMove(window, gap + QPoint(0, 20 * step))
        QApplication.processEvents()  # Qt moves the separator on a zero timer
    QTest.mouseRelease(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, gap + QPoint(0, 200))
    qtbot.waitUntil(lambda: charts.height() - sliders.height() > 300, timeout=5_000)

    before = charts.height() + sliders.height()
    window.resize(1920, 1100)  # a smaller window keeps the user's split, not the starting one
    qtbot.waitUntil(lambda: charts.height() + sliders.height() < before - 40)
    for _ in range(3):
        QApplication.processEvents()  # anything Qt or the layout queued after the resize
    assert charts.height() - sliders.height() > 250, _minimums(window)
    docks.decoded.close()
