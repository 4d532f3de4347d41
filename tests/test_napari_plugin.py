"""The plugin as napari sees it: manifest discovery, sample data, the subject browser."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_cohort

from napari_latent.cohort import write_cohort


def test_manifest_is_valid_and_lists_widgets_and_sample_data():
    import npe2

    pm = npe2.PluginManager.instance()
    pm.discover()
    manifest = pm.get_manifest("napari-latent")
    assert manifest.package_metadata.version
    widgets = {w.display_name for w in manifest.contributions.widgets}
    samples = {s.display_name for s in manifest.contributions.sample_data}
    assert "Cohort subject browser" in widgets
    assert {"Demo cohort — one subject", "Demo cohort — 1,000 subjects"} <= samples
    for command in manifest.contributions.commands:  # every command resolves to real code
        assert callable(_resolve(command.python_name))


def _resolve(python_name: str):
    import importlib

    module, attr = python_name.split(":")
    return getattr(importlib.import_module(module), attr)


def test_demo_subject_sample_opens_cine_and_labels(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    viewer.open_sample("napari-latent", "demo_subject")
    cine, labels = viewer.layers
    assert cine.data.shape == (50, 96, 96) and labels.data.shape == (50, 96, 96)
    assert set(np.unique(labels.data[0])) == {0, 1, 2, 3, 4, 5}
    assert cine.axis_labels == ("t", "y", "x")
    assert tuple(cine.units)[1:] == ("mm", "mm") or str(cine.units[1]) == "millimeter"


@pytest.fixture
def browser(make_napari_viewer_proxy, qtbot):
    from napari_latent.widgets.subject_browser import SubjectBrowser

    viewer = make_napari_viewer_proxy()
    widget = SubjectBrowser(viewer)
    viewer.window.add_dock_widget(widget)
    return viewer, widget


def test_browser_opens_a_store_and_shows_subjects_as_layers(browser, qtbot, tmp_path):
    viewer, widget = browser
    cohort = make_cohort(4)
    path = write_cohort(cohort, tmp_path / "c.zarr").path
    with qtbot.waitSignal(widget.subject_changed, timeout=20_000):
        widget.open(path)
    assert widget.status.text().startswith("4 subjects")
    np.testing.assert_array_equal(viewer.layers["subject cine"].data, cohort.read("mri", 0).astype(np.float32))
    with qtbot.waitSignal(widget.subject_changed) as blocker:
        widget.index_spin.setValue(2)
    assert blocker.args[0].subject_id == "S002"
    np.testing.assert_array_equal(viewer.layers["subject cine"].data, cohort.read("mri", 2).astype(np.float32))
    assert len([layer for layer in viewer.layers if layer.name == "subject cine"]) == 1  # updated in place
    assert widget.ecg.traces == ["S002"]


def test_browser_shows_a_notification_for_a_bad_store(browser, qtbot, tmp_path, monkeypatch):
    from napari_latent.widgets import subject_browser

    viewer, widget = browser
    messages = []
    monkeypatch.setattr("napari.utils.notifications.show_error", messages.append)
    bad = tmp_path / "bad.zarr"
    bad.mkdir()
    widget.open(bad)
    qtbot.waitUntil(lambda: bool(messages), timeout=10_000)
    assert "not a cohort store" in messages[0] and str(bad) in messages[0]
    assert widget.cohort is None and subject_browser.CINE_LAYER not in viewer.layers
