"""Groups panel: lists the Explorer's groups, makes/renames/deletes them, exports, compares, interpolates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_latent.widgets.views.groups_panel import GroupsPanel


@pytest.fixture
def panel(qtbot, explorer):
    w = GroupsPanel(explorer)
    qtbot.addWidget(w)
    return w


def _rows(panel: GroupsPanel) -> list[tuple[str, str]]:
    return [(panel.table.item(r, 1).text(), panel.table.item(r, 2).text()) for r in range(panel.table.rowCount())]


@pytest.fixture
def errors(monkeypatch):
    import napari.utils.notifications as notifications

    seen: list[str] = []
    monkeypatch.setattr(notifications, "show_error", seen.append)
    return seen


def test_lists_groups_made_through_the_api_and_reflects_deletion(panel, explorer):
    explorer.select([0, 1, 2])
    explorer.add_group("three")
    old = explorer.add_group("old", "age > 60")
    assert _rows(panel) == [("three", "3"), ("old", str(len(old)))]

    explorer.remove_group("three")
    assert _rows(panel) == [("old", str(len(old)))]
    panel.select_rows(["old"])
    panel.delete_button.click()
    assert _rows(panel) == [] and explorer.groups == []


def test_new_from_selection_button_uses_the_current_selection(panel, explorer):
    assert not panel.new_button.isEnabled()
    explorer.select([3, 5])
    panel.new_button.click()
    assert [list(g.indices) for g in explorer.groups] == [[3, 5]]


def test_a_bad_query_shows_a_notification_and_creates_nothing(panel, explorer, errors):
    panel.query_edit.setText("no_such_column > 3")
    panel.query_button.click()
    assert explorer.groups == [] and panel.table.rowCount() == 0
    assert len(errors) == 1 and "no_such_column" in errors[0]
    assert panel.query_edit.text() == "no_such_column > 3"  # kept for fixing

    panel.query_edit.setText("sex == 'F'")
    panel.query_button.click()
    assert [g.name for g in explorer.groups] == ["sex == 'F'"] and len(errors) == 1


def test_rename_and_recolour_go_to_the_explorer_and_keep_the_order(panel, explorer, errors):
    for q in ("age > 70", "age < 50", "sex == 'M'"):
        panel.add_from_query(q)
    panel.table.item(1, 1).setText("young")  # what an edit in the table does
    panel.recolour("young", "#123456")
    assert [g.name for g in explorer.groups] == ["age > 70", "young", "sex == 'M'"]
    assert explorer.group("young").colour == "#123456"
    panel.table.item(0, 1).setText("young")  # a clash: refused, table restored
    assert errors and [g.name for g in explorer.groups] == ["age > 70", "young", "sex == 'M'"]
    assert _rows(panel)[0][0] == "age > 70"


def test_export_writes_exactly_the_members_and_never_overwrites_silently(panel, explorer, tmp_path):
    group = explorer.add_group("older", "age > 60")
    path = panel.export_csv("older", tmp_path / "older.csv")
    written = pd.read_csv(path)
    assert list(written["subject_id"]) == [explorer.table["subject_id"].iloc[i] for i in group.indices]
    assert list(written.columns) == list(explorer.table.columns)
    with pytest.raises(FileExistsError):
        panel.export_csv("older", path)
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


@pytest.mark.parametrize(
    ("query_a", "query_b", "column"), [("age > 62", "age <= 62", "age"), ("sex == 'F'", "sex == 'M'", "sex")]
)
def test_compare_ranks_the_defining_column_first(panel, explorer, qtbot, query_a, query_b, column):
    explorer.add_group("A", query_a)
    explorer.add_group("B", query_b)
    panel.select_rows(["A", "B"])
    assert panel.compare_button.isEnabled()
    with qtbot.waitSignal(panel.compared) as blocker:
        panel.compare_button.click()
    ranked = blocker.args[0]
    assert ranked["column"].iloc[0] == column
    assert panel.compare_table.item(0, 0).text().split(" = ")[0] == column
    assert panel.compare_table.rowCount() > 3


def test_interpolate_walks_from_group_a_to_group_b(panel, explorer, qtbot):
    explorer.add_group("A", "age > 62")
    explorer.add_group("B", "age <= 62")
    panel.select_rows(["A", "B"])
    panel.steps_spin.setValue(5)
    with qtbot.waitSignal(panel.interpolated, timeout=20000) as blocker:
        panel.interp_button.click()
    assert blocker.args[0].shape == (5, 8)
    np.testing.assert_allclose(explorer.latent, explorer.group_mean("A"), rtol=1e-5, atol=1e-6)
    panel.slider.setValue(4)
    np.testing.assert_allclose(explorer.latent, explorer.group_mean("B"), rtol=1e-5, atol=1e-6)


def test_a_destroyed_panel_stops_listening(qtbot, explorer):
    w = GroupsPanel(explorer)
    with qtbot.waitSignal(w.destroyed):
        w.deleteLater()
    explorer.add_group("after", "age > 60")  # would raise on a deleted widget still connected
    assert [g.name for g in explorer.groups] == ["after"]


def test_interpolation_has_its_own_cell_and_the_cines_time_axis(make_napari_viewer_proxy, explorer, qtbot):
    """The path's cines share the decoded cines' frame duration and unit (one t axis of 50
    frames, no unit warning), sit in a cell right of them and carry their own title."""
    from napari.utils.notifications import notification_manager

    from napari_latent.widgets.views.decoded_views import DecodedViews
    from napari_latent.widgets.views.groups_panel import INTERP_LAYER, INTERP_TITLE

    viewer = make_napari_viewer_proxy()
    views = DecodedViews(explorer, viewer)
    qtbot.addWidget(views.widget)
    panel = GroupsPanel(explorer, viewer)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(views.edited_shown, timeout=20000):
        explorer.focus(1)
    explorer.add_group("A", "age > 62")
    explorer.add_group("B", "age <= 62")
    panel.select_rows(["A", "B"])
    panel.steps_spin.setValue(4)
    warnings = []
    notification_manager.notification_ready.connect(warnings.append)
    with qtbot.waitSignal(panel.interpolated, timeout=20000):
        panel.interp_button.click()
    interp, original = viewer.layers[INTERP_LAYER], viewer.layers["original"]
    assert interp.scale[1] == pytest.approx(original.scale[0]) and interp.units[1] == original.units[0]
    t_axis = list(viewer.dims.axis_labels).index("t")
    assert viewer.dims.nsteps[t_axis] == 50
    right = max(layer.translate[-1] + layer.scale[-1] * 96 for layer in views.layers.values() if layer.ndim == 3)
    assert interp.translate[-1] >= right  # its own cell, not over the original
    assert "→" in viewer.layers[INTERP_TITLE].features["title"][0]
    with qtbot.waitSignal(views.subject_shown, timeout=20000):
        explorer.focus(5)  # another heart rate: the cines' frame duration changes, the path's follows
    assert interp.scale[1] == pytest.approx(viewer.layers["original"].scale[0])
    assert viewer.dims.nsteps[list(viewer.dims.axis_labels).index("t")] == 50
    views.columns = 4  # one row: the path's cell moves right of the row
    right = max(layer.translate[-1] + layer.scale[-1] * 96 for layer in views.layers.values() if layer.ndim == 3)
    assert interp.translate[-1] >= right
    assert viewer.layers[INTERP_TITLE].data[0, 1] == pytest.approx(interp.translate[-1])
    notification_manager.notification_ready.disconnect(warnings.append)
    assert not [n for n in warnings if "unit" in str(n.message).lower()]
    views.close()
