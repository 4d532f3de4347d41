"""napari-latent's npe2 readers and writers as napari uses them: viewer.open / layer.save."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from napari_latent._napari.readers import get_reader, read_cine_layers, read_dicom_file
from napari_latent._napari.writers import cine_from_layer, write_nifti
from napari_latent.cohort import LEADS, CohortError
from napari_latent.cohort.synthetic import generate_subject

PLUGIN = "napari-latent"
SPACING = (1.8, 1.8)
FRAME_MS = 18.0


@pytest.fixture(scope="module")
def subject() -> dict[str, np.ndarray]:
    _row, arrays = generate_subject(seed=0, index=0)
    return arrays


def _dock(viewer, prefix: str):
    names = [name for name in viewer.window.dock_widgets if name.startswith(prefix)]
    assert len(names) == 1, f"docks: {list(viewer.window.dock_widgets)}"
    return viewer.window.dock_widgets[names[0]]


# ---------------------------------------------------------------------------- getter
def test_getter_answers_only_for_what_it_reads(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    assert get_reader(str(tmp_path / "image.png")) is None
    assert get_reader(str(tmp_path / "notes.txt")) is None
    assert get_reader(str(empty)) is None  # a folder with no DICOM files and no store
    assert get_reader([str(tmp_path / "a.nii"), str(tmp_path / "b.nii")]) is None
    assert get_reader(str(tmp_path / "a.NII.GZ")) is read_cine_layers
    assert get_reader(str(tmp_path / "a.dcm")) is read_dicom_file
    assert callable(get_reader(str(tmp_path / "ecg.csv"))) and callable(get_reader(str(tmp_path / "r.hea")))


# ---------------------------------------------------------------------------- cines
def _assert_cine_layer(layer, frames, scale):
    assert layer.data.shape == (50, 96, 96)
    np.testing.assert_allclose(layer.scale, scale, rtol=1e-4)
    assert tuple(layer.axis_labels) == ("t", "y", "x")  # the Explorer's cines' axes: one time slider
    assert tuple(str(u) for u in layer.units) == ("second", "millimeter", "millimeter")
    low, high = layer.contrast_limits
    assert frames.min() - 1e-3 <= low < high <= frames.max() + 1e-3


def test_nifti_opens_as_a_cine_with_time_and_spacing(make_napari_viewer_proxy, subject, tmp_path):
    from napari_latent.io.cine_writers import write_cine_nifti

    path = tmp_path / "cine.nii.gz"
    write_cine_nifti(subject["mri"], path, pixel_spacing_mm=SPACING, frame_time_ms=FRAME_MS)
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(path, plugin=PLUGIN)
    _assert_cine_layer(layer, subject["mri"], (FRAME_MS / 1000, *SPACING))
    np.testing.assert_allclose(layer.data, subject["mri"], atol=1e-3)
    assert layer.name == "cine"


def test_a_label_nifti_opens_as_a_labels_layer(make_napari_viewer_proxy, tmp_path):
    from napari_latent.cohort.synthetic import generate_subject
    from napari_latent.io.cine_writers import write_cine_nifti

    _row, arrays = generate_subject(seed=0, index=0)
    path = tmp_path / "labels.nii.gz"
    write_cine_nifti(arrays["labels"].astype(np.float32), path, pixel_spacing_mm=SPACING, frame_time_ms=FRAME_MS)
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(path, plugin=PLUGIN)
    assert layer._type_string == "labels"
    np.testing.assert_array_equal(layer.data, arrays["labels"])
    assert tuple(layer.axis_labels) == ("t", "y", "x")


def test_dicom_series_folder_opens_as_a_cine(make_napari_viewer_proxy, subject, tmp_path):
    from napari_latent.io.cine_writers import write_cine_dicom_series

    folder = tmp_path / "series"
    write_cine_dicom_series(subject["mri"], folder, pixel_spacing_mm=SPACING, frame_times_ms=np.arange(50) * FRAME_MS)
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(folder, plugin=PLUGIN)
    _assert_cine_layer(layer, subject["mri"], (FRAME_MS / 1000, *SPACING))
    assert layer.units[1] == layer.units[2] and "m" in str(layer.units[1])


def test_multiframe_dicom_is_told_apart_from_an_ecg(subject, tmp_path):
    from napari_latent.io.cine_writers import write_cine_dicom_multiframe

    path = tmp_path / "cine.dcm"
    write_cine_dicom_multiframe(subject["mri"], path, pixel_spacing_mm=SPACING, frame_times_ms=np.arange(50) * FRAME_MS)
    ((data, kwargs, kind),) = read_dicom_file(str(path))
    assert kind == "image" and data.shape == (50, 96, 96)
    np.testing.assert_allclose(kwargs["scale"], (FRAME_MS / 1000, *SPACING), rtol=1e-4)


def test_a_broken_cine_is_reported_with_its_file_name(make_napari_viewer_proxy, tmp_path):
    from napari.errors import ReaderPluginError

    path = tmp_path / "broken.nii"
    path.write_bytes(b"not a nifti file at all" * 20)
    viewer = make_napari_viewer_proxy()
    with pytest.raises(CohortError, match="broken.nii"):
        viewer.open(path, plugin=PLUGIN)
    # as File > Open does it once napari-latent is the preferred .nii reader: the message names the file
    from napari.settings import get_settings

    settings = get_settings().plugins
    saved = dict(settings.extension2reader)
    settings.extension2reader = {**saved, "*.nii": PLUGIN}
    try:
        with pytest.raises(ReaderPluginError) as info:
            viewer.open(path, plugin=None)
    finally:
        settings.extension2reader = saved
    assert f"CohortError: file {path}: cannot read" in str(info.value)
    assert len(viewer.layers) == 0


# ---------------------------------------------------------------------------- ECGs
def _assert_ecg_dock(viewer, name: str):
    view = _dock(viewer, "ECG")
    assert view.plot.traces == [name]
    assert view.leads == LEADS and len(view.leads) == 12
    assert view.prepared.rhythm.shape == (12, 5000) and view.prepared.median.shape == (12, 600)
    return view


def test_dicom_ecg_docks_the_12_lead_plot(make_napari_viewer_proxy, subject, tmp_path):
    from napari_latent.io.ecg_writers import write_ecg_dicom

    path = tmp_path / "ecg.dcm"
    write_ecg_dicom(subject["ecg_rhythm"], path)
    viewer = make_napari_viewer_proxy()
    assert viewer.open(path, plugin=PLUGIN) == []
    assert len(viewer.layers) == 0
    view = _assert_ecg_dock(viewer, "ecg")
    for lead in range(12):  # the docked beat is the subject's (after 500 Hz, 0.05 Hz high-pass, median)
        assert np.corrcoef(view.prepared.median[lead], subject["ecg_median"][lead])[0, 1] > 0.95


def test_csv_ecg_docks_the_plot_and_saves_back_to_csv(make_napari_viewer_proxy, subject, tmp_path):
    from napari_latent.io import read_ecg
    from napari_latent.io.ecg_writers import write_ecg_csv

    path = tmp_path / "ecg.csv"
    write_ecg_csv(subject["ecg_rhythm"], path)
    viewer = make_napari_viewer_proxy()
    viewer.open(path, plugin=PLUGIN)
    view = _assert_ecg_dock(viewer, "ecg")
    view.mode_box.setCurrentText("median")
    assert view.plot.mode == "median"

    out = tmp_path / "saved.csv"
    assert view.save_csv(out) == out
    back = read_ecg(out)
    assert back.leads == LEADS and back.fs == 500
    np.testing.assert_allclose(back.signals, view.prepared.rhythm, atol=1e-3)
    before = out.read_bytes()
    messages = []
    import napari.utils.notifications

    original = napari.utils.notifications.show_error
    napari.utils.notifications.show_error = messages.append
    try:
        assert view.save_csv(out) is None  # never replaces a file
    finally:
        napari.utils.notifications.show_error = original
    assert out.read_bytes() == before and "saved.csv" in messages[0]


# ---------------------------------------------------------------------------- stores
def test_a_store_opens_the_explorer_with_its_views(make_napari_viewer_proxy, demo_store, qtbot):
    viewer = make_napari_viewer_proxy()
    assert viewer.open(demo_store.path, plugin=PLUGIN) == []
    docks = viewer.window.dock_widgets
    for name in ("Fused latent space", "Distributions", "Latent sliders", "Decoded views and 12-lead ECG"):
        assert name in docks
    explorer = docks["Distributions"].explorer
    assert len(explorer.cohort) == len(demo_store)
    qtbot.waitUntil(lambda: bool(explorer.embeddings), timeout=60_000)  # the demo model fits the demo store
    assert explorer.model is not None and explorer.focused == 0
    assert explorer.embeddings["fused"].shape[0] == len(demo_store)


# ---------------------------------------------------------------------------- writers
def test_saving_a_cine_layer_writes_a_nifti_that_reads_back_and_never_overwrites(
    make_napari_viewer_proxy, subject, tmp_path
):
    from napari_latent.io import read_cine

    viewer = make_napari_viewer_proxy()
    layer = viewer.add_image(subject["mri"].astype(np.float32), scale=(0.02, *SPACING), units=("s", "mm", "mm"))
    out = tmp_path / "saved.nii.gz"
    assert layer.save(str(out), plugin=PLUGIN) == [str(out)]
    back = read_cine(out)
    np.testing.assert_allclose(back.frames, subject["mri"], atol=1e-3)
    np.testing.assert_allclose(back.pixel_spacing_mm, SPACING, rtol=1e-4)
    np.testing.assert_allclose(np.diff(back.frame_times_ms), 20.0, rtol=1e-3)

    before = out.read_bytes()
    layer.data = np.zeros_like(layer.data)
    with pytest.raises(FileExistsError, match="saved.nii.gz"):
        viewer.layers.save(str(out), selected=False, plugin=PLUGIN)
    assert out.read_bytes() == before


def test_tiff_writer_keeps_the_frames_and_spacing(make_napari_viewer_proxy, subject, tmp_path):
    from napari_latent.io import read_cine

    viewer = make_napari_viewer_proxy()
    layer = viewer.add_image(subject["mri"].astype(np.float32), scale=(FRAME_MS, *SPACING), units=("ms", "mm", "mm"))
    out = tmp_path / "cine.tif"
    assert layer.save(str(out), plugin=PLUGIN) == [str(out)]
    back = read_cine(out)
    np.testing.assert_allclose(back.frames, subject["mri"], atol=1e-3)
    np.testing.assert_allclose(back.pixel_spacing_mm, SPACING, rtol=1e-3)


# ---------------------------------------------------------------------------- hostile input
_SUFFIXES = st.sampled_from([".nii", ".nii.gz", ".dcm"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=600), suffix=_SUFFIXES, dicom_preamble=st.booleans())
def test_garbage_cine_files_raise_a_cohort_error_naming_the_file(tmp_path, content, suffix, dicom_preamble):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes((b"\0" * 128 + b"DICM" if dicom_preamble else b"") + content)
    reader = get_reader(str(path))
    with pytest.raises(CohortError) as info:
        reader(str(path))
    assert "garbage" in str(info.value)


_BAD_LAYERS = [
    (np.zeros((2, 3, 4, 5), np.float32), {}, "shape"),  # 4-D
    (np.zeros((5,), np.float32), {}, "shape"),  # 1-D
    (np.zeros((4, 8, 8, 3), np.uint8), {"rgb": True}, "RGB"),
    (np.array([[["a"]]]), {}, "dtype"),
    (np.zeros((4, 8, 8), np.complex64), {}, "dtype"),
]


@pytest.mark.parametrize(("data", "meta", "what"), _BAD_LAYERS)
def test_layers_that_are_not_cines_are_refused_with_the_file_name(tmp_path, data, meta, what):
    out = tmp_path / "out.nii"
    with pytest.raises(ValueError, match=what) as info:
        write_nifti(str(out), data, {"name": "layer", **meta})
    assert str(out) in str(info.value) and not out.exists()


@settings(max_examples=30, deadline=None)
@given(
    scale=st.lists(st.floats(0.01, 100), min_size=3, max_size=3),
    units=st.sampled_from([("s", "mm", "mm"), ("millisecond", "millimeter", "millimeter"), ("pixel",) * 3,
                           ("second", "micrometer", "micrometer"), None]),
)  # fmt: skip
def test_layer_scale_becomes_spacing_in_mm_and_frame_time_in_ms(scale, units):
    meta = {"scale": scale, **({"units": units} if units else {})}
    frames, spacing, frame_ms = cine_from_layer(np.zeros((3, 4, 5), np.uint8), meta, "x.nii")
    assert frames.shape == (3, 4, 5) and frames.dtype == np.float32
    to_mm = {"mm": 1, "millimeter": 1, "micrometer": 1e-3, "pixel": 1}
    to_ms = {"s": 1000, "millisecond": 1, "second": 1000}
    expected_spacing = [s * to_mm[u] for s, u in zip(scale[1:], (units or ("pixel",) * 3)[1:])]
    np.testing.assert_allclose(spacing, expected_spacing)
    if units and units[0] in to_ms:
        assert frame_ms == pytest.approx(scale[0] * to_ms[units[0]])
    else:
        assert frame_ms is None


def test_a_colour_cine_is_read_as_grey_and_says_so(tmp_path, monkeypatch):
    import tifffile

    from napari_latent._napari import readers

    rgb = (np.random.default_rng(0).uniform(0, 1, (10, 32, 32, 3)) * 255).astype(np.uint8)
    path = tmp_path / "echo.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    shown = []
    monkeypatch.setattr("napari.utils.notifications.show_info", shown.append)
    ((data, kwargs, kind),) = readers.read_cine_layers(str(path))
    assert kind == "image" and data.shape == (10, 32, 32)
    assert shown and "echo.tif" in shown[0] and "grey" in shown[0]
    assert "grey" in kwargs["metadata"]["converted_to_grey"]
