"""Probe panel: probes every latent space in a worker, fills the score table, plots one probe, subgroups."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.widgets.views.probe_panel import ProbePanel

COLUMNS = ["age", "lvedv", "sex"]


@pytest.fixture
def panel(qtbot, explorer):
    w = ProbePanel(explorer)
    qtbot.addWidget(w)
    return w


@pytest.fixture
def probed(panel, qtbot):
    panel.set_columns(COLUMNS)
    with qtbot.waitSignal(panel.probes_finished, timeout=30000) as blocker:
        panel.run_button.click()
    qtbot.waitUntil(lambda: not panel.is_running)
    return blocker.args[0]


def test_run_fills_one_row_per_column_and_one_score_per_space(panel, probed, explorer):
    assert panel.table.rowCount() == len(COLUMNS)
    in_table_order = [c for c in explorer.table.columns if c in COLUMNS]
    assert [panel.table.item(r, 0).text() for r in range(len(COLUMNS))] == in_table_order
    assert panel.spaces == ["fused", "mri", "ecg"]
    assert len(probed) == len(COLUMNS) * 3 and (probed["error"] == "").all()
    for column in COLUMNS:
        metric = probed.loc[probed["column"] == column, "metric"].iloc[0]
        for space in panel.spaces:
            value = panel.value(column, space)
            if metric == "r2":
                assert -np.inf < value <= 1
            else:
                assert 0 <= value <= 1
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_clicking_a_cell_plots_predictions_against_the_truth(panel, probed, qtbot, explorer):
    with qtbot.waitSignal(panel.detail_shown, timeout=20000) as blocker:
        row = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())].index("lvedv")
        panel.table.cellClicked.emit(row, 3)  # the "mri" column
    assert blocker.args == ["lvedv", "mri"]
    x, y = panel.plot.data("subjects")
    np.testing.assert_allclose(np.sort(x), np.sort(explorer.table["lvedv"].to_numpy()))
    assert np.isfinite(y).all() and "identity" in panel.plot.series_names()

    with qtbot.waitSignal(panel.detail_shown, timeout=20000):
        panel.show_detail("sex", "fused")
    fpr, tpr = panel.plot.data(panel.plot.series_names()[-1])  # the ROC curve
    assert fpr[0] == 0 and tpr[-1] == 1


def test_selection_vs_rest_shows_scores_within_the_selection(panel, probed, qtbot, explorer):
    explorer.select("sex == 'F'")
    with qtbot.waitSignal(panel.subgroup_shown, timeout=30000):
        panel.group_check.setChecked(True)
    qtbot.waitUntil(lambda: not panel.is_running)
    assert "sel. | rest" in panel.table.horizontalHeaderItem(2).text()
    assert " | " in panel.table.item(0, 2).text()  # age
    value = panel.value("age", "fused")
    assert -np.inf < value <= 1
    with qtbot.waitSignal(panel.subgroup_shown):
        explorer.select("sex == 'M'")  # a new selection re-scores at once
    panel.group_check.setChecked(False)
    overall = probed.query("column == 'age' and space == 'fused'")["value"].iloc[0]
    assert panel.value("age", "fused") == pytest.approx(overall)


def test_cancel_stops_a_run_and_the_panel_returns_to_idle(panel, qtbot):
    panel.progressed.connect(lambda done, total: panel.cancel())  # cancel at the first progress report
    with qtbot.waitSignal(panel.progressed, timeout=20000):
        panel.run()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=20000)
    assert panel.scores is None and panel.table.rowCount() == 0
    assert panel.run_button.isEnabled() and panel.status.text() == "Cancelled."


def test_a_destroyed_panel_stops_listening(qtbot, explorer):
    w = ProbePanel(explorer)
    with qtbot.waitSignal(w.destroyed):
        w.deleteLater()
    explorer.select([1, 2])
    explorer.set_embeddings(explorer.embeddings)  # would raise on a deleted widget still connected


def test_a_negative_selection_r2_is_explained_and_names_are_whole(panel, probed, qtbot, explorer):
    """A selection made on the phenotype (age > 70) leaves little spread: the probe's R² inside
    it falls below 0, and the panel says why, under the table and in the cell's tooltip."""
    ages = explorer.table["age"]
    explorer.select(f"age > {float(ages.quantile(0.7))}")
    with qtbot.waitSignal(panel.subgroup_shown, timeout=30000):
        panel.group_check.setChecked(True)
    qtbot.waitUntil(lambda: not panel.is_running)
    row = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())].index("age")
    cells = [panel.table.item(row, c) for c in range(2, panel.table.columnCount())]
    negative = [c for c in cells if float(c.text().split(" | ")[0].replace("−", "-")) < 0]
    assert negative, [c.text() for c in cells]
    assert panel.footnote.isVisibleTo(panel) and "below 0" in panel.footnote.text()
    assert "below 0" in negative[0].toolTip()
    header, metrics = panel.table.horizontalHeader(), panel.table.fontMetrics()
    for r in range(panel.table.rowCount()):  # phenotype names are never cut
        assert header.sectionSize(0) >= metrics.horizontalAdvance(panel.table.item(r, 0).text())
