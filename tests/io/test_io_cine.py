"""Cine readers, writers and preprocessing: round-trips through every format, frame order, geometry."""

from __future__ import annotations

import os
import time

import nibabel as nib
import numpy as np
import pydicom
import pytest

from napari_latent.cohort.synthetic import generate_subject
from napari_latent.io import CineSeries, preprocess_cine, read_cine
from napari_latent.io.cine_preprocess import cycle_positions, normalise_intensity
from napari_latent.io.cine_writers import (
    write_cine_dicom_multiframe,
    write_cine_dicom_series,
    write_cine_nifti,
    write_cine_tiff,
)

TIMES = np.arange(50) * 19.5 + 3.0  # ms, not starting at zero


@pytest.fixture(scope="module")
def subject() -> dict[str, np.ndarray]:
    _, arrays = generate_subject(0, 3)
    return arrays


def _write(fmt: str, frames: np.ndarray, tmp, spacing=(1.8, 1.7), times=TIMES):
    """Write ``frames`` in ``fmt``; return the path and whether spacing / times survive."""
    ft = float(times[1] - times[0]) if times is not None else None
    if fmt == "dicom-series":
        write_cine_dicom_series(frames, tmp / "series", pixel_spacing_mm=spacing, frame_times_ms=times)
        return tmp / "series", True, True
    if fmt.startswith("dicom-"):
        path = tmp / "enhanced.dcm"
        ts = fmt.split("-", 1)[1]
        write_cine_dicom_multiframe(frames, path, pixel_spacing_mm=spacing, frame_times_ms=times, transfer_syntax=ts)
        return path, True, True
    if fmt == "nifti":
        write_cine_nifti(frames, tmp / "cine.nii.gz", pixel_spacing_mm=spacing, frame_time_ms=ft)
        return tmp / "cine.nii.gz", True, "relative"
    if fmt == "tiff":
        write_cine_tiff(frames, tmp / "cine.tif", pixel_spacing_mm=spacing, frame_time_ms=ft)
        return tmp / "cine.tif", True, "relative"
    if fmt == "npy":
        np.save(tmp / "cine.npy", frames)
        return tmp / "cine.npy", False, False
    np.savez_compressed(tmp / "cine.npz", mri=frames, other=np.zeros(3))
    return tmp / "cine.npz", False, False


FORMATS = ["dicom-series", "dicom-explicit", "dicom-rle", "dicom-jpeg2000", "nifti", "tiff", "npy", "npz"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_format(fmt, subject, tmp_path):
    mri, labels = subject["mri"], subject["labels"]
    scaled = mri * 800.0 - 100.0  # scanner-like units exercise RescaleSlope / RescaleIntercept
    path, keeps_spacing, keeps_times = _write(fmt, scaled, tmp_path)
    np.save(tmp_path / "labels.npy", labels)
    cine = read_cine(path, subject="S7", labels=tmp_path / "labels.npy")
    assert cine.frames.shape == (50, 96, 96) and cine.frames.dtype == np.float32
    tol = 800.0 / 4096 if fmt.startswith("dicom") else 1e-4  # 16-bit codec precision vs exact
    np.testing.assert_allclose(cine.frames, scaled, atol=tol)
    np.testing.assert_array_equal(cine.labels, labels)
    assert cine.source == str(path)
    if keeps_spacing:
        assert cine.pixel_spacing_mm == pytest.approx((1.8, 1.7))
    else:
        assert cine.pixel_spacing_mm is None
    if keeps_times is True:
        np.testing.assert_allclose(cine.frame_times_ms, TIMES, atol=1e-6)
    elif keeps_times == "relative":  # a frame interval only: times from zero
        np.testing.assert_allclose(cine.frame_times_ms, TIMES - TIMES[0], atol=1e-4)
    else:
        assert cine.frame_times_ms is None


def test_labels_as_dicom_series_and_nifti_read_exactly(subject, tmp_path):
    mri, labels = subject["mri"], subject["labels"]
    write_cine_dicom_series(labels, tmp_path / "seg")
    write_cine_nifti(labels, tmp_path / "seg.nii", pixel_spacing_mm=(1.8, 1.8))
    np.save(tmp_path / "mri.npy", mri)
    for source in (tmp_path / "seg", tmp_path / "seg.nii"):
        cine = read_cine(tmp_path / "mri.npy", labels=source)
        assert cine.labels.dtype == np.uint8
        np.testing.assert_array_equal(cine.labels, labels)


def test_compressed_multiframe_is_really_compressed(subject, tmp_path):
    for ts, uid in (("rle", "1.2.840.10008.1.2.5"), ("jpeg2000", "1.2.840.10008.1.2.4.90")):
        path = write_cine_dicom_multiframe(subject["mri"], tmp_path / f"{ts}.dcm", transfer_syntax=ts)
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == uid
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4.1"  # Enhanced MR Image Storage
        assert read_cine(path).meta["transfer_syntax"] == uid


def test_series_order_follows_trigger_time_not_names_or_instance_numbers(subject, tmp_path):
    mri = subject["mri"][:12]
    files = write_cine_dicom_series(mri, tmp_path / "s", frame_times_ms=np.arange(12) * 40.0)
    rng = np.random.default_rng(1)
    perm = rng.permutation(12)
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for f, k in zip(files, perm, strict=True):
        ds = pydicom.dcmread(f)
        ds.InstanceNumber = int(rng.integers(1, 1000))  # misleading instance numbers
        ds.save_as(shuffled / f"x{k:03d}.dcm")
    (shuffled / "notes.txt").write_text("not a DICOM file")
    cine = read_cine(shuffled)
    assert cine.meta["order_by"] == "TriggerTime"
    np.testing.assert_allclose(cine.frames, mri, atol=1 / 4096)
    np.testing.assert_allclose(cine.frame_times_ms, np.arange(12) * 40.0)
    assert cine.meta["ignored_files"] == ["notes.txt"]
    # a list of paths in any order is sorted the same way
    listed = read_cine([str(p) for p in sorted(shuffled.glob("*.dcm"), reverse=True)])
    np.testing.assert_array_equal(listed.frames, cine.frames)


def test_series_without_trigger_times_uses_instance_numbers(subject, tmp_path):
    mri = subject["mri"][:8]
    files = write_cine_dicom_series(mri, tmp_path / "s")
    for i, f in enumerate(files):  # file names now say the reverse order
        f.rename(tmp_path / "s" / f"z{7 - i}.dcm")
    cine = read_cine(tmp_path / "s")
    assert cine.meta["order_by"] == "InstanceNumber" and cine.frame_times_ms is None
    np.testing.assert_allclose(cine.frames, mri, atol=1 / 4096)


def test_directory_ignores_dicomdir_and_text_files(subject, tmp_path):
    write_cine_dicom_series(subject["mri"][:4], tmp_path / "s", frame_times_ms=[0, 1, 2, 3])
    dicomdir = pydicom.Dataset()
    dicomdir.file_meta = pydicom.dataset.FileMetaDataset()
    dicomdir.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    dicomdir.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    dicomdir.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    dicomdir.FileSetID = "CINE"
    dicomdir.save_as(tmp_path / "s" / "DICOMDIR", enforce_file_format=True)
    (tmp_path / "s" / "readme.txt").write_text("hello")
    cine = read_cine(tmp_path / "s")
    assert cine.n_frames == 4
    assert sorted(cine.meta["ignored_files"]) == ["DICOMDIR", "readme.txt"]


def test_nifti_orientation_is_radiological(subject, tmp_path):
    mri = subject["mri"][:5]
    path = write_cine_nifti(mri, tmp_path / "c.nii", pixel_spacing_mm=(1.8, 1.5), frame_time_ms=30.0)
    img = nib.load(path)
    assert img.shape == (96, 96, 1, 5)
    assert nib.aff2axcodes(img.affine)[:2] == ("L", "A")  # patient left along x, anterior along y
    assert img.header.get_zooms() == pytest.approx((1.5, 1.8, 1.0, 30.0))
    data = np.asarray(img.dataobj)
    assert data[10, 95 - 20, 0, 2] == mri[2, 20, 10]  # voxel (c, H-1-r) is pixel (r, c)
    # a NIfTI whose x axis points to the patient's right is shown mirrored (right on the screen's left)
    ras = nib.Nifti1Image(data, np.diag([1.5, 1.8, 1.0, 1.0]))
    ras.header.set_xyzt_units("mm", "sec")
    ras.header.set_zooms((1.5, 1.8, 1.0, 0.03))
    nib.save(ras, tmp_path / "ras.nii")
    cine = read_cine(tmp_path / "ras.nii")
    np.testing.assert_array_equal(cine.frames, mri[:, :, ::-1])
    np.testing.assert_allclose(cine.frame_times_ms, np.arange(5) * 30.0, atol=1e-3)
    # (X, Y, T) without a singleton slice axis reads the same
    nib.save(nib.Nifti1Image(data[:, :, 0, :], np.diag([-1.5, 1.8, 1.0, 1.0])), tmp_path / "xyt.nii")
    np.testing.assert_array_equal(read_cine(tmp_path / "xyt.nii").frames, mri)


def test_rgb_stacks_become_grayscale(tmp_path):
    gray = np.random.default_rng(0).random((3, 8, 9)).astype(np.float32)
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    np.save(tmp_path / "rgb.npy", rgb)
    import tifffile

    rgb8 = (rgb * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb8, photometric="rgb")
    np.testing.assert_allclose(read_cine(tmp_path / "rgb.npy").frames, gray, atol=1e-6)
    np.testing.assert_allclose(read_cine(tmp_path / "rgb.tif").frames, rgb8[..., 0], atol=1e-3)
    assert "colour converted to grey" in read_cine(tmp_path / "rgb.tif").meta["converted_to_grey"]  # not silent


def test_writers_never_overwrite_and_leave_no_temporary_files(subject, tmp_path):
    mri = subject["mri"][:3]
    targets = {
        "series": lambda p: write_cine_dicom_series(mri, p / "IMG"),
        "multi": lambda p: write_cine_dicom_multiframe(mri, p / "m.dcm"),
        "nifti": lambda p: write_cine_nifti(mri, p / "n.nii.gz", pixel_spacing_mm=(1, 1)),
        "tiff": lambda p: write_cine_tiff(mri, p / "t.tiff"),
    }
    for name, write in targets.items():
        first = write(tmp_path)
        first = first[0] if isinstance(first, list) else first
        before = first.read_bytes()
        with pytest.raises(FileExistsError, match=first.name):
            write(tmp_path)
        assert first.read_bytes() == before, name
    # a series into an existing folder: refused when any file name is taken, nothing written
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "IM0002.dcm").write_text("mine")
    with pytest.raises(FileExistsError, match="IM0002.dcm"):
        write_cine_dicom_series(mri, tmp_path / "mixed")
    assert sorted(os.listdir(tmp_path / "mixed")) == ["IM0002.dcm"]
    assert (tmp_path / "mixed" / "IM0002.dcm").read_text() == "mine"
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


# ---------------------------------------------------------------------------- preprocessing


def test_preprocess_identity_reproduces_the_original(subject, tmp_path):
    mri, labels = subject["mri"], subject["labels"]
    write_cine_dicom_series(mri, tmp_path / "s", pixel_spacing_mm=(1.8, 1.8), frame_times_ms=np.arange(50) * 18.0)
    write_cine_dicom_series(labels, tmp_path / "l")
    cine = read_cine(tmp_path / "s", labels=tmp_path / "l", subject="S1")
    prepared = preprocess_cine(cine, centre=(47.5, 47.5), subject="S1")
    assert prepared.mri.shape == (50, 96, 96) and prepared.mri.dtype == np.float16
    err = np.abs(prepared.mri.astype(np.float32) - normalise_intensity(mri))
    assert err.max() < 1 / 255
    np.testing.assert_array_equal(prepared.labels, labels)
    meta = prepared.meta
    assert meta["original_pixel_spacing_mm"] == (1.8, 1.8) and meta["original_frames"] == 50
    assert meta["crop_box_px"] == pytest.approx((-0.5, -0.5, 95.5, 95.5))
    assert not meta["pixel_spacing_assumed"]


def _upsample(x: np.ndarray, order: int) -> np.ndarray:
    """Twice the pixels over the same field of view (pixel edges aligned)."""
    from scipy import ndimage

    return ndimage.zoom(x, (1, 2, 2), order=order, grid_mode=True, mode="nearest")


def test_preprocess_resamples_time_and_space_back_to_the_original(subject, tmp_path):
    mri, labels = subject["mri"], subject["labels"]
    fine = _upsample(mri, order=1)[::2]  # 25 frames of 192 x 192 at 0.9 mm
    fine_labels = _upsample(labels, order=0)[::2]
    assert fine.shape == (25, 192, 192)
    write_cine_dicom_series(fine, tmp_path / "s", pixel_spacing_mm=(0.9, 0.9), frame_times_ms=np.arange(25) * 36.0)
    np.save(tmp_path / "labels.npy", fine_labels)
    cine = read_cine(tmp_path / "s", subject="S2", labels=tmp_path / "labels.npy")
    prepared = preprocess_cine(cine, centre=(95.5, 95.5))
    target = normalise_intensity(mri)
    err = np.abs(prepared.mri.astype(np.float32) - target)
    # Measured: mean |error| 0.022 on the kept (even) frames, mostly the Rician noise smoothed
    # away by the two interpolations; 0.032 on the odd frames, interpolated in time as well;
    # correlation 0.994; labels agree on 100% of even-frame and 99.7% of all pixels.
    assert err[::2].mean() < 0.03, err[::2].mean()
    assert err.mean() < 0.035, err.mean()
    assert np.corrcoef(prepared.mri.ravel(), target.ravel())[0, 1] > 0.98
    assert (prepared.labels[::2] == labels[::2]).mean() > 0.99
    assert (prepared.labels == labels).mean() > 0.98
    assert prepared.meta["original_frames"] == 25 and prepared.meta["input_spacing_mm"] == (0.9, 0.9)


def test_preprocess_centres_on_the_labels_and_honours_offset():
    frames = np.random.default_rng(0).random((4, 160, 140)).astype(np.float32)
    labels = np.zeros(frames.shape, np.uint8)
    labels[:, 100:110, 30:46] = 1  # centroid (104.5, 37.5)
    out = preprocess_cine(CineSeries(frames, (1.8, 1.8), labels=labels), frames=4)
    assert out.meta["centre_from"] == "labels"
    assert out.meta["centre_px"] == pytest.approx((104.5, 37.5))
    rows, cols = np.nonzero(out.labels[0])
    assert rows.mean() == pytest.approx(47.5) and cols.mean() == pytest.approx(47.5)
    # no labels: image centre plus the offset in mm (9 mm down = 5 pixels at 1.8 mm)
    norm = normalise_intensity(frames)
    moved = preprocess_cine(CineSeries(frames, (1.8, 1.8)), frames=4, offset=(9.0, -3.6))
    assert moved.meta["centre_px"] == pytest.approx((79.5 + 5, 69.5 - 2))
    r0, c0 = 84.5 - 47.5, 67.5 - 47.5
    np.testing.assert_allclose(
        moved.mri.astype(np.float32), norm[:, int(r0) : int(r0) + 96, int(c0) : int(c0) + 96], atol=1e-3
    )


def test_preprocess_pads_with_zero_outside_the_image():
    frames = np.full((3, 40, 30), 5.0, np.float32)
    frames[:, :5, :] = 0.0  # 1/8 of the pixels dark: the intensity window is 0..5
    out = preprocess_cine(CineSeries(frames, (1.8, 1.8)), frames=3)
    mri = out.mri.astype(np.float32)
    # the 40 x 30 image lands on output rows 28..67 and columns 33..62; the rest is padding
    assert np.all(mri[:, :28, :] == 0) and np.all(mri[:, 68:, :] == 0)
    assert np.all(mri[:, :, :33] == 0) and np.all(mri[:, :, 63:] == 0)
    assert np.all(mri[:, 34:68, 33:63] == 1.0)


def test_unknown_spacing_fits_the_image_into_the_crop():
    frames = np.random.default_rng(0).random((6, 192, 120)).astype(np.float32)
    out = preprocess_cine(CineSeries(frames), frames=6)
    assert out.meta["pixel_spacing_assumed"]
    assert out.meta["input_spacing_mm"] == pytest.approx((0.9, 0.9))
    assert out.mri.shape == (6, 96, 96)
    assert np.all(out.mri[:, :, :17] == 0) and np.any(out.mri[:, :, 20:76] > 0)


def test_time_resampling_is_periodic():
    assert cycle_positions(25, 50) == pytest.approx(np.arange(50) / 2)
    frames = np.zeros((4, 8, 8), np.float32)
    frames[0], frames[3] = 1.0, 0.5
    frames[0, 0, 0] = 0.0
    out = preprocess_cine(CineSeries(frames, (1.8, 1.8)), frames=8, size=8)
    # output frame 7 lies half way from the last input frame back to the first
    assert float(out.mri[7, 4, 4]) == pytest.approx(0.75, abs=1e-3)
    # uneven trigger times place the frames by time
    pos = cycle_positions(4, 8, np.array([0.0, 10.0, 40.0, 50.0]))
    # period 60 ms (last frame + median interval 10): output times 0, 7.5, 15, ... 52.5 ms
    expected = [0, 0.75, 1 + 5 / 30, 1 + 12.5 / 30, 1 + 20 / 30, 1 + 27.5 / 30, 2.5, 3.25]
    assert pos == pytest.approx(expected, abs=1e-9)


def test_preprocess_is_fast_for_a_typical_scan():
    rng = np.random.default_rng(0)
    cine = CineSeries(
        rng.random((25, 256, 256), dtype=np.float32) * 1000,
        (1.4, 1.4),
        frame_times_ms=np.arange(25) * 40.0,
        labels=rng.integers(0, 6, (25, 256, 256)).astype(np.uint8),
    )
    preprocess_cine(cine)
    start = time.process_time()
    for _ in range(3):
        out = preprocess_cine(cine)
    per_call = (time.process_time() - start) / 3
    assert out.mri.shape == (50, 96, 96)
    assert per_call < 0.2, per_call  # ~40 ms on an idle core
