"""Every view docked together: selections made in one view show in all the others."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.widgets.plots.colouring import UNSELECTED


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
