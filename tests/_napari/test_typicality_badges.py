"""A file unlike the model's training cohort is flagged where it opens: the ECG dock and the cine canvas."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.analysis.typicality import flip_cine, wrong_lead_order
from napari_latent.cohort.synthetic import generate_subject

PLUGIN = "napari-latent"


@pytest.fixture(scope="module")
def subject() -> dict[str, np.ndarray]:
    _row, arrays = generate_subject(seed=0, index=3)
    return arrays


def _ecg_view(viewer):
    (name,) = [n for n in viewer.window.dock_widgets if n.startswith("ECG")]
    return viewer.window.dock_widgets[name]


@pytest.mark.parametrize("odd", [False, True], ids=["demo-like", "leads-swapped"])
def test_an_ecg_file_gets_a_badge_for_the_demo_model(make_napari_viewer_proxy, subject, tmp_path, qtbot, odd):
    from napari_latent.io.ecg_writers import write_ecg_wfdb

    rhythm = subject["ecg_rhythm"].astype(np.float32)
    if odd:
        rhythm = wrong_lead_order(rhythm)  # electrodes swapped
    write_ecg_wfdb(rhythm, tmp_path / "rec")
    viewer = make_napari_viewer_proxy()
    viewer.open(tmp_path / "rec.hea", plugin=PLUGIN)
    view = _ecg_view(viewer)
    qtbot.waitUntil(lambda: view.badge.typicality is not None, timeout=30000)
    assert view.badge.isVisible() or not view.isVisible()
    assert view.badge.atypical is odd
    assert "demo model" in view.badge.text()
    assert ("atypical" in view.badge.text()) is odd


def test_an_atypical_cine_file_is_flagged_on_the_canvas_while_it_is_active(make_napari_viewer_proxy, subject, tmp_path, qtbot):
    from napari_latent.io.cine_writers import write_cine_nifti

    write_cine_nifti(subject["mri"], tmp_path / "plain.nii.gz", pixel_spacing_mm=(1.8, 1.8), frame_time_ms=18.0)
    write_cine_nifti(flip_cine(subject["mri"]), tmp_path / "mirrored.nii.gz", pixel_spacing_mm=(1.8, 1.8),
                     frame_time_ms=18.0)  # fmt: skip
    viewer = make_napari_viewer_proxy()
    (plain,) = viewer.open(tmp_path / "plain.nii.gz", plugin=PLUGIN)
    qtbot.waitUntil(lambda: "typicality" in plain.metadata, timeout=30000)
    assert plain.metadata["typicality"]["typical"]
    overlay = viewer.canvas.overlays["text"] if hasattr(viewer, "canvas") else viewer.text_overlay
    assert not overlay.visible

    (mirrored,) = viewer.open(tmp_path / "mirrored.nii.gz", plugin=PLUGIN)
    qtbot.waitUntil(lambda: "typicality" in mirrored.metadata, timeout=30000)
    assert not mirrored.metadata["typicality"]["typical"]
    assert overlay.visible and "mirrored" in overlay.text and "atypical for the demo model" in overlay.text

    viewer.layers.selection.active = plain  # the line is about the active layer only
    assert not overlay.visible
    viewer.layers.selection.active = mirrored
    assert overlay.visible
