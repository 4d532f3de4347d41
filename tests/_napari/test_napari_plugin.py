"""The plugin as napari sees it: manifest discovery, sample data, the Explorer launcher, the subject browser."""

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
    assert {"Latent Space Explorer", "Cohort subject browser", "Import cohort"} <= widgets
    assert {"Demo cohort — one subject", "Demo cohort — 1,000 subjects in the Explorer"} <= samples
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
    from napari_latent.widgets.standalone.subject_browser import SubjectBrowser

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
    from napari_latent.widgets.standalone import subject_browser

    viewer, widget = browser
    messages = []
    monkeypatch.setattr("napari.utils.notifications.show_error", messages.append)
    bad = tmp_path / "bad.zarr"
    bad.mkdir()
    widget.open(bad)
    qtbot.waitUntil(lambda: bool(messages), timeout=10_000)
    assert "not a cohort store" in messages[0] and str(bad) in messages[0]
    assert widget.cohort is None and subject_browser.CINE_LAYER not in viewer.layers


def test_launcher_opens_a_store_with_a_checkpoint_and_docks_every_view(
    make_napari_viewer_proxy, qtbot, tiny_model, tmp_path
):
    from napari_latent.model import save_checkpoint
    from napari_latent.widgets.standalone.explorer_launcher import ExplorerLauncher

    # a store of its own: opening it caches an embedding inside, which shared stores must not get
    demo_store = write_cohort(make_cohort(6), tmp_path / "own.zarr")
    viewer = make_napari_viewer_proxy()
    checkpoint = save_checkpoint(tiny_model, tmp_path / "tiny")
    launcher = ExplorerLauncher(viewer)
    viewer.window.add_dock_widget(launcher)
    launcher.cohort_box.setCurrentIndex(launcher.cohort_box.findData("store"))
    launcher.store_edit.value = demo_store.path
    launcher.model_box.setCurrentIndex(launcher.model_box.findData("checkpoint"))
    launcher.model_edit.value = checkpoint
    assert launcher.store_edit.native.isVisibleTo(launcher) and launcher.model_edit.native.isVisibleTo(launcher)
    with qtbot.waitSignal(launcher.opened, timeout=60_000) as blocker:
        launcher.open_button.click()
    explorer = blocker.args[0]
    assert explorer.cohort.path == demo_store.path and explorer.model is not None
    assert explorer.embeddings["fused"].shape[0] == len(demo_store) and explorer.focused == 0
    assert {"Fused latent space", "Distributions"} <= set(viewer.window.dock_widgets)
    assert launcher.status.text().startswith(f"Opened {len(demo_store)} subjects")


def test_launcher_reports_a_folder_that_is_not_a_store(make_napari_viewer_proxy, qtbot, tmp_path, monkeypatch):
    from napari_latent.widgets.standalone.explorer_launcher import ExplorerLauncher

    messages = []
    monkeypatch.setattr("napari.utils.notifications.show_error", messages.append)
    viewer = make_napari_viewer_proxy()
    launcher = ExplorerLauncher(viewer)
    launcher.open(tmp_path, None)
    assert messages and str(tmp_path) in messages[0]
    assert launcher.open_button.isEnabled() and "Fused latent space" not in viewer.window.dock_widgets


def test_demo_cohort_sample_opens_the_explorer_with_the_demo_model(make_napari_viewer_proxy, qtbot, monkeypatch):
    """File > Open Sample > Demo cohort: the cohort is generated in a worker (12 subjects here,
    1,000 for users), the shipped model embeds it, and every view is docked."""
    from napari_latent.cohort.synthetic import generate
    from napari_latent.widgets.standalone.explorer_launcher import ExplorerLauncher

    monkeypatch.setattr(generate, "DEMO_SIZE", 12)
    viewer = make_napari_viewer_proxy()
    launchers = []
    monkeypatch.setattr(ExplorerLauncher, "open", _recording(ExplorerLauncher.open, launchers))
    viewer.open_sample("napari-latent", "demo_cohort")
    preview = [layer.name for layer in viewer.layers]
    assert preview and all(name.startswith("preview") for name in preview)  # subject 0 while it loads
    assert len(launchers) == 1 and "Latent Space Explorer" in viewer.window.dock_widgets
    # the cohort and the embedding come from workers: nothing is emitted before the event loop runs
    with qtbot.waitSignal(launchers[0].opened, timeout=120_000) as blocker:
        pass
    explorer = blocker.args[0]
    assert len(explorer.cohort) == 12 and explorer.model is not None
    assert explorer.embeddings["fused"].shape == (12, explorer.model.latent_dim)
    assert {"Fused latent space", "Distributions"} <= set(viewer.window.dock_widgets)
    qtbot.waitUntil(lambda: "original" in viewer.layers, timeout=30_000)  # the focused subject's decoded views
    assert not [layer for layer in viewer.layers if layer.name.startswith("preview")]


def _recording(method, calls):
    def wrapper(self, *args, **kwargs):
        calls.append(self)
        return method(self, *args, **kwargs)

    return wrapper
