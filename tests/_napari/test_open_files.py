"""The doors from napari to napari-latent's reader: File > IO Utilities, the Plugins-menu widget,
the remembered reader choice, and the questions the reader asks (an ECG's sampling rate)."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication

from napari_latent.cohort import LEADS
from napari_latent.cohort.synthetic import generate_subject

PLUGIN = "napari-latent"


@pytest.fixture(scope="module")
def subject() -> dict[str, np.ndarray]:
    return generate_subject(seed=0, index=1)[1]


@pytest.fixture
def reader_prefs():
    """napari's reader preferences, restored after the test."""
    from napari.settings import get_settings

    settings = get_settings().plugins
    saved = dict(settings.extension2reader)
    yield settings
    settings.extension2reader = saved


def _answer_dialog(object_name: str, answer) -> list[str]:
    """When the modal dialog named ``object_name`` opens, call ``answer(dialog)``; returns what it saw."""
    seen: list[str] = []

    def poll() -> None:
        found = [w for w in QApplication.topLevelWidgets() if w.objectName() == object_name and w.isVisible()]
        if not found:
            QTimer.singleShot(20, poll)
            return
        dialog = found[0]
        try:
            from qtpy.QtWidgets import QInputDialog

            seen.append(dialog.labelText() if isinstance(dialog, QInputDialog) else dialog.windowTitle())
            answer(dialog)
        finally:
            if dialog.isVisible():  # never leave a test hanging on a modal dialog
                dialog.reject()

    QTimer.singleShot(0, poll)
    return seen


def _pick_file(path) -> list[str]:
    from napari_latent.widgets.standalone.open_files import FILE_DIALOG

    def choose(dialog) -> None:
        dialog.selectFile(str(path))
        dialog.accept()

    return _answer_dialog(FILE_DIALOG, choose)


def _dicom_cine(subject, path):
    from napari_latent.io.cine_writers import write_cine_dicom_multiframe

    write_cine_dicom_multiframe(subject["mri"], path, pixel_spacing_mm=(1.8, 1.8), frame_times_ms=np.arange(50) * 18.0)
    return path


def test_file_menu_command_opens_a_dicom_cine_with_napari_latent(make_napari_viewer_proxy, subject, tmp_path):
    from napari._app_model import get_app_model
    from napari._app_model.constants import MenuId

    path = _dicom_cine(subject, tmp_path / "cine.dcm")
    viewer = make_napari_viewer_proxy()
    app = get_app_model()
    items = [getattr(i, "command", None) for i in app.menus.get_menu(MenuId.FILE_IO_UTILITIES)]
    titles = {c.id: c.title for c in items if c is not None}
    assert titles["napari-latent.open_cine_or_ecg"].startswith("Open cine or ECG…")
    assert titles["napari-latent.open_dicom_folder"].startswith("Open DICOM cine folder…")

    _pick_file(path)
    app.commands.execute_command("napari-latent.open_cine_or_ecg").result()
    (layer,) = viewer.layers
    assert layer.name == "cine" and layer.data.shape == (50, 96, 96)
    np.testing.assert_allclose(layer.scale, (0.018, 1.8, 1.8), rtol=1e-3)  # t in s, y/x in mm


def test_a_dropped_dicom_asks_until_napari_latent_is_preferred_then_opens_directly(
    make_napari_viewer_proxy, subject, tmp_path, reader_prefs, qtbot
):
    from napari.errors import MultipleReaderError

    path = _dicom_cine(subject, tmp_path / "cine.dcm")
    viewer = make_napari_viewer_proxy()
    with pytest.raises(MultipleReaderError):  # a drop or File > Open (plugin=None): napari has to ask
        viewer.open(path, plugin=None)

    _dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Open cine or ECG")
    box = widget.preference_boxes["DICOM files (.dcm, .dicom)"]
    assert not box.isChecked()
    box.setChecked(True)
    assert reader_prefs.extension2reader["*.dcm"] == PLUGIN
    (layer,) = viewer.open(path, plugin=None)  # as a drop or File > Open now does: no question asked
    assert layer.source.reader_plugin == PLUGIN
    assert layer.data.shape == (50, 96, 96)

    reader_prefs.extension2reader = {**reader_prefs.extension2reader, "*.nii": "another-plugin"}
    box.setChecked(False)  # reversible, and another plugin's preference is left alone
    nifti = widget.preference_boxes["NIfTI files (.nii, .nii.gz)"]
    assert "*.dcm" not in reader_prefs.extension2reader
    nifti.setChecked(True)
    nifti.setChecked(False)
    assert "*.nii" not in reader_prefs.extension2reader  # ours was removed, not restored: a fresh choice


def test_opening_through_napari_latent_offers_to_remember_the_choice(
    make_napari_viewer_proxy, subject, tmp_path, reader_prefs
):
    from napari.utils.notifications import notification_manager

    from napari_latent.widgets.standalone.open_files import _offered, open_with_napari_latent

    _offered.clear()
    path = _dicom_cine(subject, tmp_path / "cine.dcm")
    viewer = make_napari_viewer_proxy()
    before = len(notification_manager.records)
    assert open_with_napari_latent(viewer, path)
    (offer,) = [n for n in notification_manager.records[before:] if n.actions]
    assert "cine.dcm" in offer.message and "Preferences > Plugins" in offer.message
    (label, action), = offer.actions
    assert label == "Always use napari-latent for .dcm and .dicom"
    action(None)
    assert reader_prefs.extension2reader["*.dcm"] == PLUGIN == reader_prefs.extension2reader["*.dicom"]


def test_a_file_that_fails_becomes_a_notification_naming_the_file(make_napari_viewer_proxy, tmp_path):
    from napari.utils.notifications import notification_manager

    from napari_latent.widgets.standalone.open_files import open_with_napari_latent

    path = tmp_path / "empty.dcm"
    path.write_bytes(b"")
    viewer = make_napari_viewer_proxy()
    before = len(notification_manager.records)
    assert open_with_napari_latent(viewer, path) is None
    message = notification_manager.records[before].message
    assert "empty.dcm" in message and "empty" in message and "force=True" not in message


def test_a_csv_ecg_without_time_column_asks_for_its_sampling_rate(make_napari_viewer_proxy, subject, tmp_path):
    from napari_latent._napari.readers import SAMPLING_RATE_DIALOG

    path = tmp_path / "notime.csv"
    np.savetxt(path, subject["ecg_rhythm"].T, delimiter=",", fmt="%.5g", header=",".join(LEADS), comments="")
    viewer = make_napari_viewer_proxy()

    def answer(dialog) -> None:
        dialog.setDoubleValue(500.0)
        dialog.accept()

    seen = _answer_dialog(SAMPLING_RATE_DIALOG, answer)
    assert viewer.open(path, plugin=PLUGIN) == []
    assert "notime.csv" in seen[0] and "Hz" in seen[0]
    (name,) = [n for n in viewer.window.dock_widgets if n.startswith("ECG")]
    view = viewer.window.dock_widgets[name]
    assert view.record.fs == 500.0 and view.prepared.rhythm.shape == (12, 5000)

    _answer_dialog(SAMPLING_RATE_DIALOG, lambda dialog: dialog.reject())  # cancelled: nothing opens, no error
    assert viewer.open(path, plugin=PLUGIN) == []
    assert len([n for n in viewer.window.dock_widgets if n.startswith("ECG")]) == 1
