"""Tests of the decoded views (napari layers + ECG) and the latest-wins decoder.

Need a display for Qt and GL: run under xvfb-run.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest

from napari_latent.widgets.views.decode_worker import LatestWinsDecoder
from napari_latent.widgets.views.decoded_views import DecodedViews
from napari_latent.widgets.views.latent_sliders import LatentSliders


def _our_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("napari-latent") and t.is_alive()]


def test_focusing_a_subject_fills_the_layers_and_the_ecg(views, explorer, qtbot) -> None:
    with qtbot.waitSignal(views.subject_shown, timeout=10000):
        explorer.focus(3)
    subject = explorer.cohort.subject(3)
    layers = views.layers
    assert {"original", "labels", "reconstruction", "translation"} <= set(layers)
    np.testing.assert_allclose(layers["original"].data, subject.mri.astype(np.float32))
    np.testing.assert_array_equal(layers["labels"].data, subject.labels)
    np.testing.assert_allclose(layers["reconstruction"].data, explorer.reconstruct(3)["mri"], atol=1e-5)
    ecg = subject.ecg_median.astype(np.float32)
    np.testing.assert_allclose(layers["translation"].data, explorer.translate(ecg=ecg), atol=1e-5)
    for key in ("original", "reconstruction", "translation"):
        assert layers[key].ndim == 3 and layers[key].axis_labels[0] == "t"
    np.testing.assert_array_equal(layers["labels"].translate, layers["original"].translate)  # stacked
    assert layers["reconstruction"].translate[2] > layers["original"].translate[2]  # side by side
    assert {"original", "reconstruction", "MRI-to-ECG"} <= set(views.ecg_plot.traces)
    qtbot.waitUntil(lambda: "edited" in views.layers and "edited" in views.ecg_plot.traces, timeout=10000)
    qtbot.waitUntil(lambda: not views.edited_decoder.busy, timeout=10000)
    places = {key: tuple(views.layers[key].translate) for key in ("original", "reconstruction", "translation", "edited")}
    assert len(set(places.values())) == 4, places  # every cell in a place of its own, whichever decode came first


def test_dragging_a_dot_updates_the_edited_layer_in_place(views, explorer, qtbot) -> None:
    sliders = LatentSliders(explorer)
    qtbot.addWidget(sliders)
    sliders.show()
    qtbot.waitExposed(sliders)
    with qtbot.waitSignal(views.edited_shown, timeout=10000):
        explorer.focus(0)
    layer = views.layers["edited"]
    before = np.array(layer.data)
    dim = int(sliders.order[0])
    start = sliders.dot_position(dim)
    target = []

    def is_latest(_out, z) -> bool:
        return np.array_equal(z, explorer.latent)

    with qtbot.waitSignal(views.edited_decoder.decoded, check_params_cb=is_latest, timeout=10000):
        QTest.mousePress(sliders.tracks, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        for dx in (10, 30, 60):
            QTest.mouseMove(sliders.tracks, start + QPoint(dx, 0))
        QTest.mouseRelease(
            sliders.tracks, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(60, 0)
        )
        target.append(explorer.latent.copy())
    assert explorer.latent[dim] != pytest.approx(explorer.embeddings["fused"][0, dim])
    assert views.layers["edited"] is layer  # updated in place, not replaced
    assert not np.allclose(layer.data, before)
    np.testing.assert_allclose(layer.data, explorer.decode(target[0])["mri"], atol=1e-5)
    sliders.close()


def test_rapid_requests_are_coalesced_latest_wins(explorer, qtbot) -> None:
    decoder = LatestWinsDecoder(explorer)
    results = []
    decoder.decoded.connect(lambda out, z: results.append((out, z)))
    rng = np.random.default_rng(0)
    latents = rng.normal(size=(40, explorer.model.latent_dim)).astype(np.float32)
    with qtbot.waitSignal(decoder.decoded, check_params_cb=lambda _o, z: np.array_equal(z, latents[-1]), timeout=10000):
        for z in latents:
            decoder.request(z)
    assert decoder.requests == 40
    assert decoder.decodes < decoder.requests and len(results) < 40
    out, z = results[-1]
    np.testing.assert_array_equal(z, latents[-1])
    np.testing.assert_allclose(out["mri"], explorer.model.decode_numpy(latents[-1])["mri"], atol=1e-6)
    assert decoder.stop() and not decoder.running


def test_decoder_reports_errors_and_stops_cleanly(qtbot) -> None:
    def broken(_z):
        raise ValueError("bad latent")

    decoder = LatestWinsDecoder(func=broken)
    with qtbot.waitSignal(decoder.failed, timeout=5000) as blocker:
        decoder.request(np.zeros(3))
    assert isinstance(blocker.args[0], ValueError)
    assert decoder.stop()
    assert not decoder.running and not _our_threads()


def test_hiding_a_view_hides_its_layer_and_trace(views, explorer, qtbot) -> None:
    with qtbot.waitSignal(views.subject_shown, timeout=10000):
        explorer.focus(1)
    views.set_visible("reconstruction", False)
    assert not views.layers["reconstruction"].visible
    assert "reconstruction" not in views.ecg_plot.traces
    assert not views.widget.toggles["reconstruction"].isChecked()
    views.widget.toggles["reconstruction"].setChecked(True)
    assert views.layers["reconstruction"].visible and "reconstruction" in views.ecg_plot.traces
    views.layers["translation"].visible = False  # the layer list's eye icon
    assert not views.is_visible("translation") and "MRI-to-ECG" not in views.ecg_plot.traces


def test_no_threads_left_after_closing(views, explorer, qtbot) -> None:
    sliders = LatentSliders(explorer)
    qtbot.addWidget(sliders)
    with qtbot.waitSignal(views.edited_shown, timeout=10000):
        explorer.focus(2)
    for value in np.linspace(-0.5, 0.5, 20):
        sliders.drag(int(sliders.order[0]), float(value))
    assert _our_threads()
    sliders.close()
    views.close()
    assert not views.edited_decoder.running and not views.subject_decoder.running
    assert not _our_threads()
    explorer.focus(3)  # a closed view no longer decodes
    assert not _our_threads()


def test_without_a_model_only_the_original_is_shown(make_napari_viewer_proxy, demo_store, qtbot) -> None:
    from napari_latent.explorer import Explorer

    explorer = Explorer(demo_store)
    views = DecodedViews(explorer, make_napari_viewer_proxy())
    qtbot.addWidget(views.widget)
    sliders = LatentSliders(explorer)
    qtbot.addWidget(sliders)
    with qtbot.waitSignal(views.subject_shown, timeout=10000):
        explorer.focus(5)
    assert {"original", "labels"} <= set(views.layers)
    assert not {"reconstruction", "translation", "edited"} & set(views.layers)
    assert views.ecg_plot.traces == ["original"]
    assert len(sliders.order) == 0 and "no latents" in sliders.status.text().lower()
    sliders.close()
    views.close()


def test_export_writes_the_decoded_ecg_as_csv_and_never_overwrites(views, explorer, qtbot, tmp_path) -> None:
    import pandas as pd

    from napari_latent.cohort import LEADS

    with qtbot.waitSignal(views.subject_shown, timeout=10000):
        explorer.focus(2)
    path = views.widget.export_ecg("reconstruction", tmp_path / "recon.csv")
    assert path is not None and path.exists()
    table = pd.read_csv(path)
    assert list(table.columns) == ["time_s", *LEADS] and len(table) == 600
    np.testing.assert_allclose(np.diff(table["time_s"]), 1 / 500)
    np.testing.assert_allclose(table[list(LEADS)].to_numpy().T, explorer.reconstruct(2)["ecg"], atol=1e-3)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        views.export_ecg(path, "original")
    assert path.read_bytes() == before


def test_a_new_model_redecodes_every_view_for_the_focused_subject(views, explorer, qtbot) -> None:
    """Training finishing or a model being loaded sets the model, then the embeddings: the
    focused subject's cines, its ECG traces and the edited latent all come from the new model,
    and the sliders stay usable."""
    import torch

    from napari_latent.analysis.embedding import embed_cohort
    from napari_latent.model import NETWORK_SIZES, build_model

    sliders = LatentSliders(explorer)
    qtbot.addWidget(sliders)
    with qtbot.waitSignal(views.edited_shown, timeout=10000):
        explorer.focus(2)
    old_edited = np.array(views.layers["edited"].data)
    torch.manual_seed(1)
    new_model = build_model({"latent_dim": 8, **NETWORK_SIZES["tiny"]}).eval()
    embeddings = embed_cohort(explorer.cohort, new_model, cache=False)
    with qtbot.waitSignal(views.edited_shown, timeout=10000):
        explorer.set_model(new_model, embeddings)  # what the training panel and the launcher do
    qtbot.waitUntil(lambda: views.layers["reconstruction"].data is not None, timeout=10000)
    expected = new_model.decode_numpy(embeddings["fused"][2])
    np.testing.assert_allclose(explorer.latent, embeddings["fused"][2])
    np.testing.assert_allclose(views.layers["edited"].data, expected["mri"], atol=1e-5)
    assert not np.allclose(views.layers["edited"].data, old_edited, atol=1e-5)
    np.testing.assert_allclose(views.ecg("edited"), expected["ecg"], atol=1e-5)
    qtbot.waitUntil(lambda: np.allclose(views.layers["reconstruction"].data, expected["mri"], atol=1e-5), timeout=10000)
    assert sliders.play_button.isEnabled() and not sliders.status.text().startswith("Focus a subject")


def test_the_edited_ecg_lands_on_the_last_edit_of_a_fast_drag(views, explorer, qtbot) -> None:
    with qtbot.waitSignal(views.edited_shown, timeout=10000):
        explorer.focus(1)
    base = float(explorer.latent[0])
    for k in range(10):  # edits far faster than the edited ECG is redrawn
        explorer.set_latent_dimension(0, base + 0.25 * (k + 1))
    expected = explorer.decode(explorer.latent.copy())["ecg"]

    def shows_last_edit() -> bool:
        median = views.ecg_plot.trace_data("edited")[1]
        return median is not None and np.allclose(median, expected, atol=1e-5)

    qtbot.waitUntil(shows_last_edit, timeout=10000)
    np.testing.assert_allclose(views.edited_output["ecg"], expected, atol=1e-5)


def _cells(views: DecodedViews) -> dict[str, tuple[float, float]]:
    """Each cine's (row, column) offset in the canvas, in mm."""
    return {k: tuple(views.layers[k].translate[1:]) for k in ("original", "reconstruction", "translation", "edited")}


def test_the_arrangement_drop_down_follows_a_script_and_moves_the_cines(views, explorer, qtbot) -> None:
    combo = views.widget.arrangement
    with qtbot.waitSignal(views.subject_shown, timeout=10000):
        explorer.focus(0)
    qtbot.waitUntil(lambda: "edited" in views.layers, timeout=10000)
    assert (combo.currentText(), combo.currentData(), views.columns) == ("2 × 2", 2, 2)

    with qtbot.waitSignal(views.columns_changed):
        views.columns = 4  # from a script: one row of four
    assert (combo.currentText(), combo.currentData()) == ("1 × 4", 4)
    cells = _cells(views)
    assert len({y for y, _ in cells.values()}) == 1  # one row
    assert sorted(x for _, x in cells.values()) == [x for _, x in cells.values()]  # left to right
    assert len({x for _, x in cells.values()}) == 4

    views.columns = 1  # an arrangement the list does not offer is shown as what it is: a column
    assert (combo.currentText(), combo.currentData()) == ("4 × 1", 1)
    assert len({x for _, x in _cells(views).values()}) == 1

    combo.setCurrentIndex(combo.findText("2 × 2"))  # the user picks 2 × 2 in the drop-down
    assert views.columns == 2
    cells = _cells(views)
    assert cells["reconstruction"][0] == cells["original"][0] < cells["translation"][0] == cells["edited"][0]
    assert cells["original"][1] == cells["translation"][1] < cells["reconstruction"][1] == cells["edited"][1]
    np.testing.assert_array_equal(views.layers["labels"].translate, views.layers["original"].translate)
