"""Tests of the latent sliders: dot tracks, orderings, phenotype directions, resets, traversal.

Need a display for Qt: run under xvfb-run.
"""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest

from napari_latent.analysis import order_by_importance
from napari_latent.widgets.views.latent_sliders import LatentSliders


@pytest.fixture
def sliders(qtbot, explorer) -> LatentSliders:
    widget = LatentSliders(explorer)
    qtbot.addWidget(widget)
    widget.resize(420, 640)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()


def _mouse_drag(widget, start: QPoint, dx: int) -> None:
    """Press on ``start``, move right by ``dx`` in a few steps, release (real mouse events)."""
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for frac in (0.25, 0.5, 1.0):
        QTest.mouseMove(widget, start + QPoint(round(dx * frac), 0))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(dx, 0))


def test_one_row_per_dimension_ordered_by_variance(sliders, explorer) -> None:
    fused = explorer.embeddings["fused"]
    variance = fused.var(axis=0)
    assert sorted(sliders.order.tolist()) == list(range(fused.shape[1]))
    assert sliders.order[0] == int(np.argmax(variance))
    assert np.all(np.diff(variance[sliders.order]) <= 1e-12)


def test_order_by_probe_importance_runs_in_a_worker(sliders, explorer, qtbot) -> None:
    with qtbot.waitSignal(sliders.order_changed, timeout=20000):
        sliders.set_order("importance", "age")
    np.testing.assert_array_equal(sliders.order, order_by_importance(explorer.probe("age")))
    with qtbot.waitSignal(sliders.order_changed):
        sliders.set_order("variance")
    assert sliders.order[0] == int(np.argmax(explorer.embeddings["fused"].var(axis=0)))


def test_dragging_a_dot_with_the_mouse_edits_that_dimension(sliders, explorer) -> None:
    explorer.focus(2)
    before = explorer.latent.copy()
    dim = int(sliders.order[1])
    start = sliders.dot_position(dim)
    _mouse_drag(sliders.tracks, start, 40)
    after = explorer.latent
    assert after[dim] > before[dim]
    np.testing.assert_array_equal(np.delete(after, dim), np.delete(before, dim))
    assert abs(sliders.dot_position(dim).x() - (start.x() + 40)) <= 1  # the dot followed the mouse


def test_a_press_off_the_dot_does_not_edit(sliders, explorer) -> None:
    explorer.focus(2)
    before = explorer.latent.copy()
    dim = int(sliders.order[0])
    _mouse_drag(sliders.tracks, sliders.dot_position(dim) + QPoint(60, 0), 30)
    np.testing.assert_array_equal(explorer.latent, before)


def test_drag_sets_the_explorer_latent_and_double_click_resets_it(sliders, explorer) -> None:
    explorer.focus(1)
    dim = int(sliders.order[0])
    sliders.drag(dim, 0.25)
    assert explorer.latent[dim] == pytest.approx(0.25)
    QTest.mouseDClick(
        sliders.tracks, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, sliders.dot_position(dim)
    )
    assert explorer.latent[dim] == pytest.approx(explorer.embeddings["fused"][1, dim])


def test_direction_slider_moves_along_the_phenotype_direction(sliders, explorer, qtbot) -> None:
    explorer.focus(4)
    with qtbot.waitSignal(sliders.direction_added, timeout=20000):
        sliders.add_direction("age")
    direction = explorer.direction("age")
    np.testing.assert_allclose(sliders.directions["age"].vector, direction.vector)
    start = explorer.latent.copy()
    sliders.set_direction_value("age", 5.0)
    moved = explorer.latent - start
    np.testing.assert_allclose(moved, direction.vector * 5.0 * direction.step_per_unit, atol=1e-5)
    np.testing.assert_allclose(moved, direction.offset(5.0), atol=1e-5)
    sliders.set_direction_value("age", -2.0)  # relative to the reset point, not to the last move
    np.testing.assert_allclose(explorer.latent - start, direction.offset(-2.0), atol=1e-5)
    assert sliders.direction_value("age") == pytest.approx(-2.0)
    row = sliders.direction_panel.rows["age"]
    row.slider.setValue(row.slider.maximum() // 2)  # the user moves the slider to half its range
    assert sliders.direction_value("age") == pytest.approx(row.half_range / 2)
    np.testing.assert_allclose(explorer.latent - start, direction.offset(row.half_range / 2), atol=1e-5)
    assert "years" in row.value_label.text()
    explorer.focus(5)  # a new reset point
    assert sliders.direction_value("age") == 0.0


def test_reset_to_subject_and_to_group_mean(sliders, explorer) -> None:
    explorer.focus(3)
    sliders.drag(int(sliders.order[0]), 0.5)
    sliders.reset()
    np.testing.assert_allclose(explorer.latent, explorer.embeddings["fused"][3])
    explorer.add_group("older", "age > 60")
    sliders.reset("older")
    np.testing.assert_allclose(explorer.latent, explorer.group_mean("older"), atol=1e-6)


def test_play_animates_the_selected_dimension_and_stop_restores_it(sliders, explorer, qtbot) -> None:
    explorer.focus(0)
    dim = int(sliders.order[0])
    sliders.drag(dim, float(explorer.latent[dim]))  # selects the dimension
    start = float(explorer.latent[dim])
    seen = []
    explorer.events.latent.connect(lambda z: seen.append(float(z[dim])))
    sliders.play()
    assert sliders.playing
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=3000)
    assert len(set(seen)) >= 3  # it moves
    sliders.stop()
    assert not sliders.playing
    assert explorer.latent[dim] == pytest.approx(start)


def test_close_disconnects_from_the_explorer(qtbot, explorer) -> None:
    before = len(explorer.events.latent), len(explorer.events.focus)
    widget = LatentSliders(explorer)
    qtbot.addWidget(widget)
    assert len(explorer.events.latent) == before[0] + 1
    widget.close()
    assert (len(explorer.events.latent), len(explorer.events.focus)) == before
    explorer.focus(1)  # no callbacks into the closed widget
