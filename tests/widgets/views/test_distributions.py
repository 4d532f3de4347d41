"""Distribution view: charts per column, brushing selects, selections made elsewhere are shown."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest

from napari_latent.explorer import Explorer
from napari_latent.widgets.plots.colouring import column_colours
from napari_latent.widgets.views.distributions import DEFAULT_COLUMNS, DistributionView


@pytest.fixture
def ex(demo_store) -> Explorer:
    """A model-free session over the 24-subject demo store (charts need only the table)."""
    return Explorer(demo_store)


@pytest.fixture
def events(ex) -> list[tuple[np.ndarray, str]]:
    """Every selection event the Explorer emits, as (indices, source)."""
    seen: list[tuple[np.ndarray, str]] = []
    ex.events.selection.connect(lambda idx, source: seen.append((np.asarray(idx).copy(), source)))
    return seen


@pytest.fixture
def view(qtbot, ex) -> DistributionView:
    w = DistributionView(ex)
    qtbot.addWidget(w)
    w.resize(600, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def _expected_hist(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Subjects per bin [e_i, e_i+1), the last bin closed: counted bin by bin, independently."""
    out = [((x >= a) & (x < b)).sum() for a, b in zip(edges[:-2], edges[1:-1])]
    return np.array(out + [((x >= edges[-2]) & (x <= edges[-1])).sum()])


def _centre(view: DistributionView, column: str, value) -> QPoint:
    return view.bar_rect(column, value).center()


def test_default_charts_show_the_whole_cohort(view, ex):
    table = ex.table
    assert view.charts == [c for c in DEFAULT_COLUMNS if c in table.columns]
    for column in view.charts:
        bars, totals, selected = view.counts(column)
        assert totals.sum() == table[column].notna().sum()
        assert selected.sum() == 0
    bars, totals, _ = view.counts("sex")
    assert list(totals) == [int((table["sex"] == b).sum()) for b in bars]
    # same order and colours as the scatter's legend
    assert [str(b) for b in bars] == [label for label, _ in column_colours(table, "sex").categories]
    edges, totals, _ = view.counts("age")
    assert 5 <= len(edges) - 1 <= 30
    np.testing.assert_array_equal(totals, _expected_hist(table["age"].to_numpy(), edges))


def test_click_category_selects_exactly_that_category(view, ex, events):
    view.click_category("sex", "F")
    expected = np.flatnonzero(ex.table["sex"].to_numpy() == "F")
    np.testing.assert_array_equal(ex.selection, expected)
    assert len(events) == 1 and events[0][1] == "chart:sex"
    _, totals, selected = view.counts("sex")
    assert list(selected) == [len(expected), 0]


def test_brushing_a_histogram_selects_the_range(view, ex, events):
    view.brush("age", 60, 70)
    age = ex.table["age"].to_numpy()
    np.testing.assert_array_equal(ex.selection, np.flatnonzero((age >= 60) & (age <= 70)))
    assert events[-1][1] == "chart:age"
    assert len(events) == 1


def test_selection_elsewhere_updates_every_chart_exactly(view, ex, events):
    picked = [0, 3, 4, 9, 10, 17, 23]
    ex.select(picked, source="scatter:fused")
    assert len(events) == 1  # the view only listens: it does not answer with a selection of its own
    table = ex.table.iloc[picked]
    for column in view.charts:
        bars, totals, selected = view.counts(column)
        values = table[column].to_numpy()
        if isinstance(bars, np.ndarray):  # histogram edges
            np.testing.assert_array_equal(selected, _expected_hist(values.astype(float), bars))
        else:
            assert list(selected) == [int((values == b).sum()) for b in bars], column
    ex.select(None, source="scatter:fused")
    assert view.counts("sex")[2].sum() == 0


def test_shift_adds_and_alt_subtracts(view, ex):
    view.click_category("sex", "F")
    view.click_category("hypertension", True, mode="add")
    t = ex.table
    union = (t["sex"] == "F") | t["hypertension"]
    np.testing.assert_array_equal(ex.selection_mask, union.to_numpy())
    view.brush("age", None, 60, mode="subtract")
    np.testing.assert_array_equal(ex.selection_mask, (union & ~(t["age"] <= 60)).to_numpy())


def test_real_mouse_clicks_on_bars(view, ex, events):
    chart = view.chart_widget("sex")
    t = ex.table
    QTest.mouseClick(chart, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _centre(view, "sex", "M"))
    np.testing.assert_array_equal(ex.selection_mask, (t["sex"] == "M").to_numpy())
    assert events[-1][1] == "chart:sex"
    hyp = view.chart_widget("hypertension")
    shift = Qt.KeyboardModifier.ShiftModifier
    QTest.mouseClick(hyp, Qt.MouseButton.LeftButton, shift, _centre(view, "hypertension", True))
    np.testing.assert_array_equal(ex.selection_mask, ((t["sex"] == "M") | t["hypertension"]).to_numpy())
    QTest.mouseClick(chart, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, _centre(view, "sex", "M"))
    np.testing.assert_array_equal(ex.selection_mask, (t["hypertension"] & (t["sex"] != "M")).to_numpy())
    assert len(events) == 3


def test_dragging_across_a_histogram_selects_whole_bins(view, ex):
    edges, _, _ = view.counts("age")
    chart = view.chart_widget("age")
    a, b = view.bar_rect("age", edges[2] + 1e-6), view.bar_rect("age", edges[6] + 1e-6)
    QTest.mousePress(chart, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a.center())
    QTest.mouseMove(chart, b.center())
    QTest.mouseRelease(chart, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b.center())
    age = ex.table["age"].to_numpy()
    np.testing.assert_array_equal(ex.selection, np.flatnonzero((age >= edges[2]) & (age <= edges[7])))


def test_and_mode_intersects_across_charts(view, ex, events):
    view.and_button.setChecked(True)
    view.click_category("sex", "F")
    view.brush("age", 55, 75)
    t = ex.table
    np.testing.assert_array_equal(ex.selection_mask, ((t["sex"] == "F") & t["age"].between(55, 75)).to_numpy())
    view.click_category("sex", "M", mode="add")  # widens the sex filter; the age filter stays
    np.testing.assert_array_equal(ex.selection_mask, t["age"].between(55, 75).to_numpy())
    assert all(source.startswith("chart:") for _, source in events)


def test_escape_and_clear_button_clear_the_selection(view, ex, qtbot):
    view.click_category("sex", "F")
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert len(ex.selection) == 0
    view.click_category("sex", "M")
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    assert len(ex.selection) == 0


def test_add_and_remove_charts(view, ex):
    chart = view.add_chart("qt")
    assert view.charts[-1] == "qt"
    assert view.add_chart("qt") is chart and view.charts.count("qt") == 1
    ex.select([1, 2, 3], source="api")
    assert view.counts("qt")[2].sum() == 3
    view.remove_chart("sex")
    assert "sex" not in view.charts
    with pytest.raises(KeyError):
        view.add_chart("no_such_column")
    view.remove_chart("age")
    view.add_chart("age")
    assert view.charts[-1] == "age" and view.counts("age")[2].sum() == 3


def test_close_button_removes_a_chart(view):
    chart = view.chart_widget("bmi")
    QTest.mouseMove(chart, QPoint(chart.width() - 10, 12))
    QTest.mouseClick(chart, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(chart.width() - 13, 14))
    assert "bmi" not in view.charts


def test_hover_text_reports_selected_share(view, ex):
    ex.select("sex == 'F'", source="scatter:fused")
    chart = view.chart_widget("sex")
    n_f = int((ex.table["sex"] == "F").sum())
    text = chart.describe_bar(view.counts("sex")[0].index("F"))
    assert f"selected: {n_f}" in text and "100.0% of this bar" in text


def test_a_closed_view_stops_listening(qtbot, ex):
    w = DistributionView(ex, ["sex", "age"])
    qtbot.addWidget(w)
    assert w.charts == ["sex", "age"]
    w.close()
    ex.select([0, 1], source="api")
    assert w.counts("sex")[2].sum() == 0  # not updated after closing


def test_screenshot(view):
    img = view.screenshot()
    assert img.shape[0] == view.height() and img.shape[1] == view.width() and img.shape[2] == 4
    assert img[..., :3].std() > 5  # something is drawn


def test_docked_in_napari_follows_the_selection(make_napari_viewer_proxy, ex):
    viewer = make_napari_viewer_proxy()
    view = DistributionView(ex, ["sex", "lv_mass"])
    viewer.window.add_dock_widget(view, name="Distributions", area="right")
    ex.select("hypertension", source="scatter:fused")
    _, _, selected = view.counts("lv_mass")
    assert selected.sum() == int(ex.table["hypertension"].sum())


def test_brush_ranges_combine_like_the_selection():
    from napari_latent.widgets.plots.chart_model import combine_brush, nice_edges

    assert combine_brush([(0.0, 10.0)], [(3.0, 5.0)], "subtract") == [(0.0, 3.0), (5.0, 10.0)]
    assert combine_brush([(0.0, 1.0)], [(2.0, 3.0)], "add") == [(0.0, 1.0), (2.0, 3.0)]
    assert combine_brush({0}, {1}, "add") == {0, 1} and combine_brush({0, 1}, {1}, "subtract") == {0}
    edges = nice_edges(45.3, 81.9, 24)
    assert edges[0] <= 45.3 and edges[-1] >= 81.9 and 12 <= len(edges) - 1 <= 30


def _rect_in(view, widget):
    """``widget``'s rectangle in ``view``'s coordinates."""
    from qtpy.QtCore import QRect

    return QRect(widget.mapTo(view, widget.rect().topLeft()), widget.size())


def _assert_button_row_and_count_apart(view) -> None:
    """The buttons and the selection count lie wholly inside the view, none on another, the count unclipped."""
    parts = {
        "Charts": view.picker,
        "AND filter": view.and_button,
        "Clear": view.clear_button,
        "count": view.status,
    }
    rects = {name: _rect_in(view, w) for name, w in parts.items()}
    for name, rect in rects.items():
        assert parts[name].isVisible() and view.rect().contains(rect), f"{name} {rect} clipped by {view.rect()}"
    names = list(rects)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not rects[a].intersects(rects[b]), f"{a} {rects[a]} overlaps {b} {rects[b]} at width {view.width()}"
    for name in ("Charts", "AND filter", "Clear"):  # squeezed below its size, a button's text is cut
        assert rects[name].width() >= parts[name].sizeHint().width(), f"{name} squeezed to {rects[name].width()} px"
    text_width = view.status.fontMetrics().horizontalAdvance(view.status.text())
    assert text_width <= view.status.contentsRect().width(), f"count {view.status.text()!r} clipped"


@pytest.mark.parametrize("width", [200, 230, 280, 320, 400])
def test_and_button_and_selection_count_never_overlap_at_narrow_widths(ex, qtbot, width):
    from napari_latent.widgets._qt.scroll import scroll_contents

    view = DistributionView(ex)
    scroll_contents(view)  # as the Explorer layout docks it
    qtbot.addWidget(view)
    view.and_button.setChecked(True)
    view.click_category("sex", "F")
    view.brush("age", 55.0, 70.0)
    assert "selected" in view.status.text() and len(ex.selection) > 0
    view.resize(width, 700)
    view.show()
    qtbot.waitExposed(view)
    assert view.width() == max(width, view.minimumWidth())  # a dock narrower than the minimum is refused
    _assert_button_row_and_count_apart(view)


def test_and_button_and_selection_count_apart_in_the_explorer_layout(make_napari_viewer_proxy, ex, qtbot):
    from napari_latent.widgets.views.layout import dock_explorer

    viewer = make_napari_viewer_proxy(show=True)
    viewer.window.resize(1800, 1100)
    view = dock_explorer(ex, viewer).distributions
    qtbot.waitUntil(view.isVisible)  # its tab is raised once Qt has laid out the docks
    view.and_button.setChecked(True)
    view.click_category("hypertension", True)
    assert len(ex.selection) > 0 and "selected" in view.status.text()
    qtbot.waitUntil(lambda: view.width() > 0 and view.status.width() > 0)
    _assert_button_row_and_count_apart(view)
