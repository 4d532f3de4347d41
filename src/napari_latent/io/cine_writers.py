"""Write a cine (T, H, W) as a DICOM series, an enhanced multi-frame DICOM, NIfTI or TIFF.

Every writer refuses to overwrite an existing file (:class:`FileExistsError` naming it) and
writes atomically: the data goes to a temporary name beside the target, then
:func:`os.replace` moves it into place, so a crash never leaves half a file under the
user's name. :func:`~napari_latent.io.cine_readers.read_cine` reads each format back.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import build_dir, refuse_existing, write_new_file
from ..cohort.errors import CohortError

__all__ = [
    "TRANSFER_SYNTAXES",
    "write_cine_dicom_multiframe",
    "write_cine_dicom_series",
    "write_cine_nifti",
    "write_cine_tiff",
]

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"

#: Names accepted by :func:`write_cine_dicom_multiframe` -> transfer syntax UID.
TRANSFER_SYNTAXES = {
    "explicit": "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "rle": "1.2.840.10008.1.2.5",  # RLE Lossless
    "jpeg2000": "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless (needs pylibjpeg-openjpeg)
}


# ------------------------------------------------------------------------- helpers


def _frames(frames: np.ndarray, path: Path) -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise CohortError(f"expected frames of shape (T, H, W), got {arr.shape}", path=path)
    if arr.dtype.kind not in "biuf":
        raise CohortError(f"cannot write data of type {arr.dtype}", path=path)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise CohortError("frames contain NaN or inf", path=path)
    return arr


def _times(frame_times_ms: Sequence[float] | np.ndarray | None, n: int, path: Path) -> np.ndarray | None:
    if frame_times_ms is None:
        return None
    times = np.asarray(frame_times_ms, dtype=np.float64).ravel()
    if times.shape != (n,) or not np.isfinite(times).all():
        raise CohortError(f"need {n} finite frame times, got {np.asarray(frame_times_ms).shape}", path=path)
    return times


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` on a temporary name beside ``path``, then move it into place."""
    return write_new_file(path, write, parents=True)


def _write_bytes(data: bytes) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return write


def _quantise_u16(arr: np.ndarray) -> tuple[np.ndarray, str, str]:
    """uint16 stored values and (slope, intercept) as DICOM DS strings.

    Integers already within 0..65535 are stored as they are (slope 1); anything else is
    mapped linearly onto the full 16-bit range, so it reads back within 1/65535 of its range.
    """
    from pydicom.valuerep import format_number_as_ds

    if arr.dtype.kind in "biu" and arr.min() >= 0 and arr.max() <= 65535:
        return arr.astype(np.uint16), "1", "0"
    values = arr.astype(np.float64)
    lo, hi = float(values.min()), float(values.max())
    intercept = format_number_as_ds(lo)
    slope = format_number_as_ds((hi - lo) / 65535.0) if hi > lo else "1"
    q = np.rint((values - float(intercept)) / float(slope))
    return np.clip(q, 0, 65535).astype(np.uint16), slope, intercept


def _spacing_ds(pixel_spacing_mm: Sequence[float], path: Path) -> list[float]:
    spacing = [float(v) for v in pixel_spacing_mm]
    if len(spacing) != 2 or not all(np.isfinite(spacing)) or min(spacing) <= 0:
        raise CohortError(
            f"pixel spacing must be two positive numbers (row, column), got {pixel_spacing_mm}", path=path
        )
    return spacing


def _dataset(sop_class: str, patient_id: str, study_uid: str, series_uid: str, rows: int, cols: int) -> Any:
    """Patient, study, series and image-pixel attributes shared by both DICOM writers."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    now = datetime.now()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID = str(patient_id)
    ds.PatientName = str(patient_id)
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = now.strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = now.strftime("%H%M%S")
    ds.Modality = "MR"
    ds.SeriesNumber = 1
    ds.SeriesDescription = "cine 4ch"
    ds.FrameOfReferenceUID = generate_uid()
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 0
    return ds


def _dicom_bytes(ds: Any) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


# --------------------------------------------------------------------------- DICOM


def write_cine_dicom_series(
    frames: np.ndarray,
    directory: str | os.PathLike,
    *,
    pixel_spacing_mm: Sequence[float] = (1.8, 1.8),
    frame_times_ms: Sequence[float] | np.ndarray | None = None,
    patient_id: str = "ANON",
    series_uid: str | None = None,
    slice_location: float = 0.0,
) -> list[Path]:
    """Write (T, H, W) frames as T single-frame MR Image Storage files ``IM0001.dcm``...

    16-bit unsigned with RescaleSlope/Intercept (float data reads back within 1/65535 of its
    range; integers within 0..65535 exactly). ``frame_times_ms`` become TriggerTime. A new
    directory is filled under a temporary name and renamed into place; in an existing one no
    file is overwritten. Returns the file paths in frame order.
    """
    from pydicom.uid import generate_uid

    directory = Path(directory)
    arr = _frames(frames, directory)
    n, rows, cols = arr.shape
    times = _times(frame_times_ms, n, directory)
    spacing = _spacing_ds(pixel_spacing_mm, directory)
    names = [f"IM{i + 1:04d}.dcm" for i in range(n)]
    for name in names:
        refuse_existing(directory / name)
    stored, slope, intercept = _quantise_u16(arr)
    study_uid, series_uid = generate_uid(), series_uid or generate_uid()
    blobs = []
    for i in range(n):
        ds = _dataset(MR_IMAGE_STORAGE, patient_id, study_uid, series_uid, rows, cols)
        ds.ImageType = ["DERIVED", "PRIMARY", "CINE"]
        ds.InstanceNumber = i + 1
        ds.PixelSpacing = spacing
        ds.SliceThickness = 8.0
        ds.SliceLocation = float(slice_location)
        ds.ImagePositionPatient = [0.0, 0.0, float(slice_location)]
        ds.CardiacNumberOfImages = n
        if times is not None:
            ds.TriggerTime = float(times[i])
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = slope, intercept, "US"
        ds.PixelData = np.ascontiguousarray(stored[i]).astype("<u2").tobytes()
        blobs.append(_dicom_bytes(ds))
    if not os.path.lexists(directory):

        def build(tmp_dir: Path) -> None:
            for name, blob in zip(names, blobs, strict=True):
                _write_bytes(blob)(tmp_dir / name)

        build_dir(directory, build, overwrite=False,
                  exists_error=lambda p: FileExistsError(f"{p} already exists; not overwriting it"))  # fmt: skip
        return [directory / name for name in names]
    return [_atomic(directory / name, _write_bytes(blob)) for name, blob in zip(names, blobs, strict=True)]


def _item(**attrs: Any) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    for key, value in attrs.items():
        setattr(item, key, value)
    return item


def write_cine_dicom_multiframe(
    frames: np.ndarray,
    path: str | os.PathLike,
    *,
    pixel_spacing_mm: Sequence[float] = (1.8, 1.8),
    frame_times_ms: Sequence[float] | np.ndarray | None = None,
    patient_id: str = "ANON",
    transfer_syntax: str = "explicit",
) -> Path:
    """Write (T, H, W) frames as one Enhanced MR Image Storage file.

    Shared functional groups carry the pixel spacing (PixelMeasures), orientation, position
    and the rescale (PixelValueTransformation); per-frame groups carry the frame content and,
    when ``frame_times_ms`` is given, CardiacSynchronization NominalCardiacTriggerDelayTime.
    ``transfer_syntax`` is one of :data:`TRANSFER_SYNTAXES` ("explicit", "rle", "jpeg2000"),
    all lossless. Returns the path written.
    """
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import generate_uid

    path = Path(path)
    if transfer_syntax not in TRANSFER_SYNTAXES:
        raise ValueError(f"transfer_syntax must be one of {sorted(TRANSFER_SYNTAXES)}, got {transfer_syntax!r}")
    arr = _frames(frames, path)
    n, rows, cols = arr.shape
    times = _times(frame_times_ms, n, path)
    spacing = _spacing_ds(pixel_spacing_mm, path)
    refuse_existing(path)
    stored, slope, intercept = _quantise_u16(arr)
    ds = _dataset(ENHANCED_MR_IMAGE_STORAGE, patient_id, generate_uid(), generate_uid(), rows, cols)
    ds.ImageType = ["DERIVED", "PRIMARY", "CINE", "NONE"]
    ds.InstanceNumber = 1
    ds.NumberOfFrames = n
    ds.AcquisitionDateTime = datetime.now().strftime("%Y%m%d%H%M%S")
    ds.PixelPresentation = "MONOCHROME"
    ds.VolumetricProperties = "VOLUME"
    ds.VolumeBasedCalculationTechnique = "NONE"
    ds.ComplexImageComponent = "MAGNITUDE"
    ds.AcquisitionContrast = "UNKNOWN"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.ContentQualification = "RESEARCH"
    ds.SharedFunctionalGroupsSequence = DicomSequence(
        [
            _item(
                PixelMeasuresSequence=DicomSequence([_item(PixelSpacing=spacing, SliceThickness=8.0)]),
                PlaneOrientationSequence=DicomSequence([_item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]),
                PlanePositionSequence=DicomSequence([_item(ImagePositionPatient=[0.0, 0.0, 0.0])]),
                PixelValueTransformationSequence=DicomSequence(
                    [_item(RescaleSlope=slope, RescaleIntercept=intercept, RescaleType="US")]
                ),
            )
        ]
    )
    per_frame = []
    for i in range(n):
        groups = {
            "FrameContentSequence": DicomSequence(
                [_item(FrameAcquisitionNumber=i + 1, TemporalPositionIndex=i + 1, DimensionIndexValues=[i + 1])]
            )
        }
        if times is not None:
            groups["CardiacSynchronizationSequence"] = DicomSequence(
                [_item(NominalCardiacTriggerDelayTime=float(times[i]))]
            )
        per_frame.append(_item(**groups))
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    pixels = np.ascontiguousarray(stored)
    if transfer_syntax == "explicit":
        ds.PixelData = pixels.astype("<u2").tobytes()
    else:
        try:
            ds.compress(TRANSFER_SYNTAXES[transfer_syntax], pixels)
        except (RuntimeError, ImportError) as exc:
            raise RuntimeError(
                f"cannot encode {transfer_syntax!r}: {exc} (JPEG 2000 needs pylibjpeg-openjpeg)"
            ) from exc
    return _atomic(path, _write_bytes(_dicom_bytes(ds)))


# --------------------------------------------------------------------- NIfTI, TIFF


def write_cine_nifti(
    frames: np.ndarray,
    path: str | os.PathLike,
    *,
    pixel_spacing_mm: Sequence[float],
    frame_time_ms: float | None = None,
) -> Path:
    """Write (T, H, W) frames as NIfTI-1 (X, Y, 1, T) (``.nii``, or gzipped ``.nii.gz``).

    Voxel ``(c, H-1-r, 0, t)`` holds frame ``t`` row ``r`` column ``c`` and the affine is
    ``diag(-col_mm, row_mm, 1)``: the first axis points to the patient's left, the second
    anterior, so radiological viewers (and :func:`read_cine`) show the frames as given.
    Units are mm and ms; ``frame_time_ms`` is pixdim[4]. Floats are stored as float32,
    integers in their own type (labels stay exact).
    """
    import gzip

    import nibabel as nib

    path = Path(path)
    if not path.name.lower().endswith((".nii", ".nii.gz")):
        raise ValueError(f"NIfTI file name must end in .nii or .nii.gz: {path}")
    arr = _frames(frames, path)
    row_mm, col_mm = _spacing_ds(pixel_spacing_mm, path)
    if frame_time_ms is not None and not (np.isfinite(frame_time_ms) and frame_time_ms > 0):
        raise CohortError(f"frame time must be a positive number of ms, got {frame_time_ms}", path=path)
    data = arr.astype(np.float32 if arr.dtype.kind == "f" else np.uint8 if arr.dtype.kind == "b" else arr.dtype)
    volume = np.ascontiguousarray(data[:, ::-1, :].transpose(2, 1, 0)[:, :, None, :])
    affine = np.diag([-col_mm, row_mm, 1.0, 1.0])
    img = nib.Nifti1Image(volume, affine)
    img.header.set_xyzt_units("mm", "msec" if frame_time_ms is not None else "unknown")
    img.header.set_zooms((col_mm, row_mm, 1.0, float(frame_time_ms) if frame_time_ms is not None else 1.0))
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    blob = img.to_bytes()
    if path.name.lower().endswith(".gz"):
        blob = gzip.compress(blob, compresslevel=6, mtime=0)
    return _atomic(path, _write_bytes(blob))


def write_cine_tiff(
    frames: np.ndarray,
    path: str | os.PathLike,
    *,
    pixel_spacing_mm: Sequence[float] | None = None,
    frame_time_ms: float | None = None,
) -> Path:
    """Write (T, H, W) frames as an ImageJ-compatible multi-page TIFF (axes TYX).

    uint8, uint16 and float32 are kept (other types become float32, or uint8/uint16 for
    integers that fit); the optional pixel spacing and frame interval go into the ImageJ
    metadata (unit mm, ``finterval``) and the resolution tags.
    """
    import tifffile

    path = Path(path)
    arr = _frames(frames, path)
    if arr.dtype.kind in "biu" and arr.min() >= 0 and arr.max() <= 65535:
        data = arr.astype(np.uint8 if arr.max() <= 255 else np.uint16)
    else:
        data = arr.astype(np.float32)
    metadata: dict[str, Any] = {"axes": "TYX"}
    kwargs: dict[str, Any] = {}
    if pixel_spacing_mm is not None:
        row_mm, col_mm = _spacing_ds(pixel_spacing_mm, path)
        metadata["unit"] = "mm"
        kwargs["resolution"] = (1.0 / col_mm, 1.0 / row_mm)
    if frame_time_ms is not None:
        if not (np.isfinite(frame_time_ms) and frame_time_ms > 0):
            raise CohortError(f"frame time must be a positive number of ms, got {frame_time_ms}", path=path)
        metadata["finterval"] = float(frame_time_ms) / 1000.0

    def write(tmp: Path) -> None:
        tifffile.imwrite(tmp, np.ascontiguousarray(data), imagej=True, metadata=metadata, **kwargs)

    return _atomic(path, write)
