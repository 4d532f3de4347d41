"""Hostile input to the cine readers and preprocessing: only clear CohortErrors, naming file and subject."""

from __future__ import annotations

import gzip
import io
import shutil
import tempfile
import tracemalloc
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from napari_latent.cohort.errors import CohortError
from napari_latent.cohort.schema import LABELS
from napari_latent.io import CineSeries, preprocess_cine, read_cine
from napari_latent.io.cine_writers import (
    write_cine_dicom_multiframe,
    write_cine_dicom_series,
    write_cine_nifti,
    write_cine_tiff,
)

SUBJECT = "SUBJ-042"
FRAMES = np.random.default_rng(0).random((3, 8, 8)).astype(np.float32)


def _refused(where: Path | str, *args, match: str | None = None, **kwargs) -> CohortError:
    """read_cine must raise CohortError naming ``where`` (a file or folder name) and the subject."""
    with pytest.raises(CohortError) as info:
        read_cine(*args, subject=SUBJECT, **kwargs)
    message = str(info.value)
    assert Path(where).name in message, message
    assert f"subject {SUBJECT}" in message, message
    if match is not None:
        assert match in message, message
    return info.value


def _image_dataset(**attrs) -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


# ----------------------------------------------------------------------------- DICOM


def test_truncated_dicom(tmp_path):
    path = write_cine_dicom_multiframe(FRAMES, tmp_path / "cine.dcm")
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 140):
        bad = tmp_path / f"cut{cut}.dcm"
        bad.write_bytes(data[:cut])
        _refused(bad, bad)
    # a truncated frame inside a series folder is named, not the folder only
    files = write_cine_dicom_series(FRAMES, tmp_path / "series")
    files[1].write_bytes(files[1].read_bytes()[:-40])
    _refused(files[1], tmp_path / "series")


def test_random_bytes_with_dicom_suffix(tmp_path):
    bad = tmp_path / "noise.dcm"
    bad.write_bytes(np.random.default_rng(0).bytes(3000))
    _refused(bad, bad, match="not a DICOM file")


def test_dicom_without_pixel_data(tmp_path):
    ds = _image_dataset(Rows=8, Columns=8, NumberOfFrames=3)
    ds.save_as(tmp_path / "nopix.dcm", enforce_file_format=True)
    _refused("nopix.dcm", tmp_path / "nopix.dcm", match="no pixel data")
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(tmp_path / "nopix.dcm", folder / "a.dcm")
    _refused("a.dcm", folder, match="no pixel data")


def test_mixed_slice_locations(tmp_path):
    uid = pydicom.uid.generate_uid()
    a = write_cine_dicom_series(FRAMES, tmp_path / "a", series_uid=uid, frame_times_ms=[0, 1, 2])
    b = write_cine_dicom_series(FRAMES, tmp_path / "b", series_uid=uid, slice_location=10.0, frame_times_ms=[0, 1, 2])
    for f in b:
        shutil.copy(f, tmp_path / "a" / f"slice2_{f.name}")
    err = _refused("a", tmp_path / "a", match="mixed slice locations: 2 slice locations")
    assert "slice2_IM0001.dcm" in str(err) and a[0].name in str(err)
    # an enhanced file whose frames lie at two positions
    path = write_cine_dicom_multiframe(FRAMES, tmp_path / "multi.dcm")
    ds = pydicom.dcmread(path)
    ds.SharedFunctionalGroupsSequence[0].PlanePositionSequence = pydicom.Sequence()
    for i, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        pos = pydicom.Dataset()
        pos.ImagePositionPatient = [0, 0, 5.0 * (i % 2)]
        item.PlanePositionSequence = pydicom.Sequence([pos])
    ds.save_as(tmp_path / "twoslices.dcm")
    _refused("twoslices.dcm", tmp_path / "twoslices.dcm", match="mixed slice locations")


def test_mixed_series(tmp_path):
    write_cine_dicom_series(FRAMES, tmp_path / "a")
    for f in write_cine_dicom_series(FRAMES, tmp_path / "b"):
        shutil.copy(f, tmp_path / "a" / f"other_{f.name}")
    _refused("a", tmp_path / "a", match="mixed series: 2 SeriesInstanceUIDs")


def test_empty_directory_and_only_text(tmp_path):
    (tmp_path / "empty").mkdir()
    _refused("empty", tmp_path / "empty", match="empty series")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "notes.txt").write_text("no images here")
    _refused("text", tmp_path / "text", match="empty series")
    _refused("notes.txt", [tmp_path / "text" / "notes.txt"], match="not a DICOM file")


def test_one_frame_series_and_single_frame_file(tmp_path):
    files = write_cine_dicom_series(FRAMES[:1], tmp_path / "one")
    _refused("one", tmp_path / "one", match="fewer than 2 frames")
    _refused(files[0], files[0], match="fewer than 2 frames")


def test_huge_dimensions_are_refused_from_the_header(tmp_path):
    ds = _image_dataset(Rows=65535, Columns=65535, NumberOfFrames=1000, PixelData=b"\0" * 16)
    ds.save_as(tmp_path / "huge.dcm", enforce_file_format=True)
    header = nib.Nifti1Header()
    header.set_data_shape((32767, 32767, 1, 1000))  # NIfTI-1 dims are int16
    header.set_data_dtype(np.float32)
    (tmp_path / "huge.nii").write_bytes(header.binaryblock + b"\0" * 4 + b"\0" * 64)
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": (1000, 65535, 65535)}
    )
    (tmp_path / "huge.npy").write_bytes(buffer.getvalue() + b"\0" * 64)
    tracemalloc.start()
    try:
        for name in ("huge.dcm", "huge.nii", "huge.npy"):
            _refused(name, tmp_path / name, match="refusing to read")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024**2  # nothing near the declared 16 TB was allocated


# ------------------------------------------------------------------------ NumPy / NIfTI


def test_nan_and_wrong_dimensions_in_npy(tmp_path):
    nan = FRAMES.copy()
    nan[1, 2, 3] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    _refused("nan.npy", tmp_path / "nan.npy", match="1 non-finite")
    np.save(tmp_path / "four.npy", np.zeros((2, 3, 8, 8), np.float32))
    _refused("four.npy", tmp_path / "four.npy", match="more than one slice")
    np.save(tmp_path / "line.npy", np.zeros(10))
    _refused("line.npy", tmp_path / "line.npy", match="wrong dimensionality")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _refused("objects.npy", tmp_path / "objects.npy")
    np.savez(tmp_path / "many.npz", a=FRAMES, b=FRAMES)
    _refused("many.npz", tmp_path / "many.npz", match="several arrays")
    _refused("missing.npy", tmp_path / "missing.npy", match="no such file")


def test_wrong_dimension_and_corrupt_nifti(tmp_path):
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 3, 5), np.float32), np.eye(4)), tmp_path / "slices.nii")
    _refused("slices.nii", tmp_path / "slices.nii", match="holds 3 slices")
    nib.save(nib.Nifti1Image(np.zeros((8, 8), np.float32), np.eye(4)), tmp_path / "flat.nii")
    _refused("flat.nii", tmp_path / "flat.nii", match="wrong dimensionality")
    path = write_cine_nifti(FRAMES, tmp_path / "ok.nii.gz", pixel_spacing_mm=(1, 1))
    data = path.read_bytes()
    (tmp_path / "cut.nii.gz").write_bytes(data[: len(data) // 2])
    _refused("cut.nii.gz", tmp_path / "cut.nii.gz")
    (tmp_path / "head.nii.gz").write_bytes(data[:30])
    _refused("head.nii.gz", tmp_path / "head.nii.gz")


# ----------------------------------------------------------------------------- labels


def test_labels_with_wrong_shape_or_values(tmp_path):
    np.save(tmp_path / "cine.npy", FRAMES)
    np.save(tmp_path / "short.npy", np.zeros((2, 8, 8), np.uint8))
    _refused("short.npy", tmp_path / "cine.npy", labels=tmp_path / "short.npy", match="does not match")
    for name, value in (("seven.npy", 7), ("half.npy", 2.5), ("neg.npy", -1)):
        labels = np.zeros(FRAMES.shape, np.float32)
        labels[0, 0, 0] = value
        np.save(tmp_path / name, labels)
        _refused(name, tmp_path / "cine.npy", labels=tmp_path / name, match=f"label values {value:g}")
    write_cine_tiff(np.full(FRAMES.shape, 9, np.uint8), tmp_path / "nine.tif")
    _refused("nine.tif", tmp_path / "cine.npy", labels=tmp_path / "nine.tif", match="label values 9")
    # colour label stacks are refused rather than turned into gray levels
    np.save(tmp_path / "rgb.npy", np.zeros((*FRAMES.shape, 3), np.uint8))
    _refused("rgb.npy", tmp_path / "cine.npy", labels=tmp_path / "rgb.npy", match="single-channel")


def test_preprocess_rejects_bad_series():
    for frames in (np.zeros((1, 8, 8)), np.zeros((8, 8)), np.full((3, 4, 4), np.nan)):
        with pytest.raises(CohortError, match=f"file scan.npy, subject {SUBJECT}"):
            preprocess_cine(CineSeries(np.asarray(frames, np.float32), source="scan.npy"), subject=SUBJECT)
    with pytest.raises(CohortError, match="label shape"):
        preprocess_cine(CineSeries(FRAMES, labels=np.zeros((3, 8, 7), np.uint8), source="x"), subject=SUBJECT)


# ------------------------------------------------------------------------- properties


def _templates() -> dict[str, bytes]:
    """Small valid files of each format to mutate."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write_cine_dicom_multiframe(FRAMES, d / "a.dcm", frame_times_ms=[0, 30, 60])
        write_cine_dicom_multiframe(FRAMES, d / "rle.dcm", frame_times_ms=[0, 30, 60], transfer_syntax="rle")
        write_cine_nifti(FRAMES, d / "a.nii", pixel_spacing_mm=(1, 1), frame_time_ms=30)
        write_cine_nifti(FRAMES, d / "a.nii.gz", pixel_spacing_mm=(1, 1))
        write_cine_tiff(FRAMES, d / "a.tif", pixel_spacing_mm=(1, 1))
        np.save(d / "a.npy", FRAMES)
        np.savez(d / "a.npz", mri=FRAMES)
        return {p.name: p.read_bytes() for p in d.iterdir()}


TEMPLATES = _templates()
SUFFIXES = [".dcm", "", ".nii", ".nii.gz", ".tif", ".tiff", ".npy", ".npz"]
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_or_cohort_error(name: str, data: bytes) -> CineSeries | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            cine = read_cine(path, subject=SUBJECT)
        except CohortError as exc:
            assert name in str(exc) and f"subject {SUBJECT}" in str(exc), str(exc)
            return None
    assert cine.frames.ndim == 3 and cine.frames.shape[0] >= 2 and cine.frames.dtype == np.float32
    assert np.isfinite(cine.frames).all()
    return cine


@HYPOTHESIS
@given(
    data=st.binary(max_size=2048),
    suffix=st.sampled_from(SUFFIXES),
    prefix=st.sampled_from([b"", b"\0" * 128 + b"DICM", b"\x93NUMPY\x01\x00", b"II*\x00", b"PK\x03\x04"]),
)
def test_arbitrary_bytes_only_raise_cohort_errors(data, suffix, prefix):
    payload = prefix + data
    if suffix == ".nii.gz" and data[:1] == b"\1":
        payload = gzip.compress(payload)
    _read_or_cohort_error("blob" + suffix, payload)


@HYPOTHESIS
@given(
    name=st.sampled_from(sorted(TEMPLATES)),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
)
def test_mutated_valid_files_only_raise_cohort_errors(name, cut, flips):
    data = bytearray(TEMPLATES[name])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    if cut < 0.5:  # half the examples are also truncated
        data = data[: int(cut * 2 * len(data))]
    _read_or_cohort_error(name, bytes(data))


DTYPES = st.sampled_from(["bool", "uint8", "int16", "uint16", "int64", "float16", "float32", "float64", "complex64"])


@HYPOTHESIS
@given(arr=hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5)))
def test_arbitrary_npy_arrays_read_or_raise_cohort_error(arr):
    cine = _read_or_cohort_error("arr.npy", _npy_bytes(arr))
    if cine is not None:  # only 3-D (or 4-D with a singleton slice axis / colour) finite data reads
        squeezed = arr[:, 0] if arr.ndim == 4 and arr.shape[1] == 1 and arr.shape[-1] not in (3, 4) else arr
        assert arr.dtype.kind != "c"
        if squeezed.ndim == 3:
            np.testing.assert_array_equal(cine.frames, squeezed.astype(np.float32))


def _npy_bytes(arr: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, arr)
    return buffer.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.tuples(st.integers(2, 7), st.integers(2, 40), st.integers(2, 40)),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1e-6, 1.0, 4095.0, 1e6]),
    spacing=st.one_of(st.none(), st.tuples(st.floats(0.2, 6.0), st.floats(0.2, 6.0))),
    times=st.booleans(),
    with_labels=st.booleans(),
    offset=st.tuples(st.floats(-200, 200), st.floats(-200, 200)),
)
def test_preprocess_always_gives_the_model_grid(shape, seed, scale, spacing, times, with_labels, offset):
    rng = np.random.default_rng(seed)
    frames = (rng.random(shape) * scale - scale / 3).astype(np.float32)
    if rng.random() < 0.2:
        frames[:] = frames[0, 0, 0]  # a constant series
    frame_times = np.cumsum(rng.uniform(1, 60, shape[0])) if times else None
    labels = rng.integers(0, len(LABELS), shape).astype(np.uint8) if with_labels else None
    cine = CineSeries(frames, spacing, frame_times_ms=frame_times, labels=labels, source="gen.npy")
    out = preprocess_cine(cine, offset=offset)
    assert out.mri.shape == (50, 96, 96) and out.mri.dtype == np.float16
    mri = out.mri.astype(np.float32)
    assert np.isfinite(mri).all() and mri.min() >= 0.0 and mri.max() <= 1.0
    if with_labels:
        assert out.labels.shape == (50, 96, 96) and out.labels.dtype == np.uint8
        assert set(np.unique(out.labels)) <= set(LABELS)
    else:
        assert out.labels is None
