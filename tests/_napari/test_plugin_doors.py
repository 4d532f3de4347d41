"""Every widget through napari's own doors: the Plugins menu (app-model action),
``viewer.window.add_plugin_dock_widget`` and ``napari -w napari-latent``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

WIDGETS = {
    "Latent Space Explorer": "napari-latent.explorer",
    "Cohort subject browser": "napari-latent.subject_browser",
    "Import cohort": "napari-latent.import_cohort",
    "Open cine or ECG": "napari-latent.open_files",
}


def _manifest_widgets() -> dict[str, str]:
    import npe2

    pm = npe2.PluginManager.instance()
    pm.discover()
    return {w.display_name: w.command for w in pm.get_manifest("napari-latent").contributions.widgets}


def test_the_manifest_contributes_the_widgets_these_tests_walk():
    assert _manifest_widgets() == WIDGETS


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_add_plugin_dock_widget_opens_each_widget(make_napari_viewer_proxy, name):
    viewer = make_napari_viewer_proxy()
    dock, widget = viewer.window.add_plugin_dock_widget("napari-latent", name)
    assert not dock.isHidden()
    assert widget.viewer is not None  # the viewer was injected, not left out
    assert f"{name} (napari-latent)" in viewer.window.dock_widgets


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_plugins_menu_action_opens_each_widget(make_napari_viewer_proxy, name):
    """What a click on *Plugins > napari-latent > NAME* runs: the app-model action napari registers."""
    from napari._app_model import get_app_model

    viewer = make_napari_viewer_proxy()
    app = get_app_model()
    action = WIDGETS[name]
    assert action in app.commands
    app.commands.execute_command(action).result()
    widget = viewer.window.dock_widgets[f"{name} (napari-latent)"]
    assert widget.viewer is not None and not widget.isHidden()


def test_napari_dash_w_opens_the_plugin(tmp_path):
    """``napari -w napari-latent`` as typed on the command line, up to the window being shown."""
    script = textwrap.dedent(
        """
        import sys
        sys.argv = ["napari", "-w", "napari-latent"]
        from napari.__main__ import _build_viewer
        viewer = _build_viewer()
        print("DOCKS", sorted(viewer.window.dock_widgets))
        viewer.close()
        """
    )
    env = {**os.environ, "NAPARI_CONFIG": str(tmp_path / "settings.yaml")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Latent Space Explorer" in result.stdout, result.stdout + result.stderr[-3000:]
