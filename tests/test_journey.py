"""A newcomer's journey through docs/tour.md, through napari's own doors only.

File > Open Sample > Demo cohort, the Plugins-menu widgets, then each step of the tour on
the docked views: brush a chart, lasso in the scatter, drag a latent dot, add a phenotype
direction, make two groups and interpolate, play the cine, run probes, start and cancel a
training, save a layer and drop files back in. What is checked is what the user sees:
layers, docks, the window's minimum size, the time axis and napari's notifications.
"""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest

from napari_latent.widgets.views.layout import DOCK_TITLES

PLUGIN = "napari-latent"
SCREEN_HEIGHT = 1080
#: Room for the window frame and a task bar on a 1920 × 1080 screen.
MAX_MIN_HEIGHT = 900
EXPLORER_DOCKS = DOCK_TITLES  # every dock an Explorer session adds
PLUGIN_WIDGETS = ("Latent Space Explorer", "Cohort subject browser", "Import cohort")


@pytest.fixture
def notifications():
    """Every napari notification shown while the test runs (warnings and errors are what fail it)."""
    from napari.utils.notifications import notification_manager

    seen: list = []
    notification_manager.notification_ready.connect(seen.append)
    yield seen
    notification_manager.notification_ready.disconnect(seen.append)


def _warnings(seen: list) -> list[str]:
    from napari.utils.notifications import NotificationSeverity

    bad = (NotificationSeverity.WARNING, NotificationSeverity.ERROR)
    return [f"{n.severity}: {n.message}" for n in seen if n.severity in bad]


def _t_steps(viewer) -> list[int]:
    """napari's frame counts of every axis labelled t (the user sees one t slider of 50 frames)."""
    labels = list(viewer.dims.axis_labels)
    return [int(viewer.dims.nsteps[i]) for i, label in enumerate(labels) if label == "t"]


def _dock_minimums(window) -> str:
    """The window's and each shown dock's minimum size, for a failure message."""
    from qtpy.QtWidgets import QDockWidget

    hint = window.minimumSizeHint()
    rows = [f"window {hint.width()} x {hint.height()}"]
    for dock in window.findChildren(QDockWidget):
        if not dock.isHidden():
            h = dock.minimumSizeHint()
            rows.append(f"{dock.windowTitle()}: {h.width()} x {h.height()} ({window.dockWidgetArea(dock).name})")
    return "\n".join(rows)


def _open_demo_sample(viewer, qtbot, monkeypatch):
    """File > Open Sample > napari-latent > Demo cohort, 12 subjects; returns the Explorer."""
    from napari_latent.cohort.synthetic import generate

    monkeypatch.setattr(generate, "DEMO_SIZE", 12)
    viewer.open_sample(PLUGIN, "demo_cohort")
    launcher = viewer.window.dock_widgets["Latent Space Explorer"]
    with qtbot.waitSignal(launcher.opened, timeout=120_000) as blocker:
        pass
    explorer = blocker.args[0]
    qtbot.waitUntil(lambda: {"original", "edited"} <= {layer.name for layer in viewer.layers}, timeout=60_000)
    return explorer


def test_the_tour_through_napari_doors(make_napari_viewer, qtbot, monkeypatch, tmp_path, notifications):
    # the plain viewer, not the public-only proxy: the mouse is driven on real Qt widgets
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(1920, SCREEN_HEIGHT)
    explorer = _open_demo_sample(viewer, qtbot, monkeypatch)
    docks = viewer.window.dock_widgets
    assert set(EXPLORER_DOCKS) <= set(docks)
    assert not [layer.name for layer in viewer.layers if layer.name.startswith("preview")]
    assert explorer.model is not None and explorer.focused == 0

    # --- every widget of the Plugins menu
    for name in PLUGIN_WIDGETS:
        _dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, name)
        assert widget.viewer is not None and f"{name} ({PLUGIN})" in docks
    decoded = docks["Decoded views and 12-lead ECG"].views
    sliders = docks["Latent sliders"]

    # --- brush a chart: the scatters and the count follow
    distributions = docks["Distributions"]
    ages = explorer.table["age"]
    picked = distributions.brush("age", float(ages.median()), None)
    np.testing.assert_array_equal(picked, np.flatnonzero(ages >= ages.median()))
    assert f"{len(picked)}" in distributions.status.text()

    # --- lasso in the fused scatter: the left half of the points
    scatter = docks["Fused latent space"]
    coords = scatter.coords
    (x0, y0), (x1, y1) = coords.min(axis=0) - 1, coords.max(axis=0) + 1
    xm = float(np.median(coords[:, 0]))
    hit = scatter.lasso(np.array([[x0, y0], [xm, y0], [xm, y1], [x0, y1]]))
    np.testing.assert_array_equal(hit, np.flatnonzero(coords[:, 0] <= xm))
    np.testing.assert_array_equal(explorer.selection, hit)

    # --- drag a latent dot with the mouse: the edited cine is re-decoded in place
    edited = viewer.layers["edited"]
    before = np.array(edited.data)
    dim = int(sliders.order[0])
    start = sliders.dot_position(dim)
    with qtbot.waitSignal(decoded.edited_shown, timeout=20_000):
        QTest.mousePress(sliders.tracks, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        QTest.mouseMove(sliders.tracks, start + QPoint(40, 0))
        QTest.mouseRelease(sliders.tracks, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(40, 0))
    qtbot.waitUntil(lambda: not decoded.edited_decoder.busy, timeout=20_000)
    assert viewer.layers["edited"] is edited and not np.allclose(edited.data, before)

    # --- a phenotype direction
    with qtbot.waitSignal(sliders.direction_added, timeout=60_000):
        sliders.add_direction("age")
    assert "age" in sliders.directions

    # --- two groups and the interpolation between them
    groups = docks["Groups"]
    groups.add_from_query("age > 60", "older")
    groups.add_from_query("age <= 60", "younger")
    groups.select_rows(["older", "younger"])
    groups.steps_spin.setValue(3)
    with qtbot.waitSignal(groups.interpolated, timeout=60_000):
        groups.interp_button.click()
    assert {"interpolation", "interpolation title"} <= {layer.name for layer in viewer.layers}
    assert _t_steps(viewer) == [50]

    # --- play the cine with napari's own play button, then stop it
    qt_dims = viewer.window._qt_viewer.dims
    t_axis = list(viewer.dims.axis_labels).index("t")
    first = viewer.dims.current_step[t_axis]
    qt_dims.play(t_axis, fps=60)
    qtbot.waitUntil(lambda: viewer.dims.current_step[t_axis] != first, timeout=10_000)
    qt_dims.stop()
    assert 0 <= viewer.dims.current_step[t_axis] < 50

    # --- probes
    probes = docks["Probes"]
    with qtbot.waitSignal(probes.probes_finished, timeout=120_000):
        probes.run(["age"])
    assert np.isfinite(probes.value("age", "fused"))

    # --- start a training and cancel it: the Explorer keeps its model
    training = docks["Training"]
    model = explorer.model
    training.form.size.value = "tiny"
    training.form.epochs.value = 50
    training.form.out_dir.value = tmp_path / "model"
    assert training.start()
    with qtbot.waitSignal(training.training_event, timeout=60_000):
        pass
    training.cancel()
    qtbot.waitUntil(lambda: not training.is_running, timeout=60_000)
    assert explorer.model is model and not (tmp_path / "model").exists()

    # --- save a layer (napari's save, our writer), then drop it and an ECG file back in
    saved = tmp_path / "original.nii.gz"
    viewer.layers.selection = {viewer.layers["original"]}
    assert viewer.layers.save(str(saved), selected=True, plugin=PLUGIN) == [str(saved)]
    (cine,) = viewer.open(saved, plugin=PLUGIN)
    assert cine.data.shape == (50, 96, 96) and cine.axis_labels[0] == "t"
    from napari_latent.io.ecg_writers import write_ecg_wfdb

    subject = explorer.cohort.subject(0)
    header = write_ecg_wfdb(np.asarray(subject.ecg_rhythm), tmp_path / "ecg0")
    assert viewer.open(header, plugin=PLUGIN) == []  # an ECG docks a 12-lead plot, no layer
    assert any(name.startswith("ECG") for name in docks)

    # --- what the user sees at the end
    assert _t_steps(viewer) == [50]  # one t axis, 50 frames, whatever was added
    assert {"original", "reconstruction", "ECG → MRI", "edited", "interpolation"} <= {
        layer.name for layer in viewer.layers
    }
    assert set(EXPLORER_DOCKS) <= set(docks)
    assert window.minimumSizeHint().height() <= MAX_MIN_HEIGHT, _dock_minimums(window)
    assert sliders.play_button.isEnabled()
    assert _warnings(notifications) == []
