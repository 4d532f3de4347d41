"""A folder of realistic example files to try the importer on, made from the demo generator.

``write_example_folder(folder, n)`` writes each demo subject's cine and ECG in a mix of
the formats users have, a phenotype table with units in its headers, and the manifest::

    manifest.csv          subject_id, mri, ecg, labels (paths relative to the folder)
    phenotypes.csv        subject_id, age (years), sex, BMI [kg/m^2], conditions (yes/no)
    mri/ID/IM0001.dcm...  a DICOM series of single-frame files     (subjects 0, 3, 6, ...)
    mri/ID.dcm            one enhanced multi-frame DICOM file      (subjects 1, 4, 7, ...)
    mri/ID.nii.gz         NIfTI, x-y-t                             (subjects 2, 5, 8, ...)
    labels/ID.nii.gz      the cine's labels (0 background, 1 LV, 2 myocardium, 3 RV, 4 LA, 5 RA)
    ecg/ID.dcm | ID.hea + ID.dat | ID.csv    DICOM 12-lead waveform, WFDB (1000 Hz) or CSV
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import build_dir
from ..cohort.errors import CohortError
from ..cohort.schema import ECG_FS, LEADS, MRI_PIXEL_SPACING_MM

__all__ = ["CINE_FORMATS", "ECG_FORMATS", "example_formats", "write_example_folder"]

CINE_FORMATS = ("dicom-series", "dicom-multiframe", "nifti")
ECG_FORMATS = ("dicom", "wfdb", "csv")
WFDB_FS = 1000  # the WFDB records are upsampled, as some ECG systems record


def example_formats(index: int) -> tuple[str, str]:
    """(cine format, ECG format) of example subject ``index``: every combination within 9 subjects."""
    return CINE_FORMATS[index % 3], ECG_FORMATS[(index + index // 3) % 3]


def _frame_times_ms(heart_rate: float, n_frames: int) -> np.ndarray:
    return np.arange(n_frames) * (60000.0 / heart_rate) / n_frames


def _write_cine(fmt: str, frames: np.ndarray, root: Path, sid: str, heart_rate: float) -> str:
    from .cine_writers import write_cine_dicom_multiframe, write_cine_dicom_series, write_cine_nifti

    spacing = (MRI_PIXEL_SPACING_MM, MRI_PIXEL_SPACING_MM)
    times = _frame_times_ms(heart_rate, len(frames))
    if fmt == "dicom-series":
        rel = f"mri/{sid}"
        write_cine_dicom_series(frames, root / rel, pixel_spacing_mm=spacing, frame_times_ms=times, patient_id=sid)
    elif fmt == "dicom-multiframe":
        rel = f"mri/{sid}.dcm"
        write_cine_dicom_multiframe(frames, root / rel, pixel_spacing_mm=spacing, frame_times_ms=times, patient_id=sid)
    else:
        rel = f"mri/{sid}.nii.gz"
        write_cine_nifti(frames, root / rel, pixel_spacing_mm=spacing, frame_time_ms=float(times[1] - times[0]))
    return rel


def _write_labels(labels: np.ndarray, root: Path, sid: str, heart_rate: float) -> str:
    from .cine_writers import write_cine_nifti

    rel = f"labels/{sid}.nii.gz"
    spacing = (MRI_PIXEL_SPACING_MM, MRI_PIXEL_SPACING_MM)
    times = _frame_times_ms(heart_rate, len(labels))
    write_cine_nifti(labels, root / rel, pixel_spacing_mm=spacing, frame_time_ms=float(times[1] - times[0]))
    return rel


def _write_ecg(fmt: str, rhythm: np.ndarray, root: Path, sid: str) -> str:
    from .ecg_writers import write_ecg_csv, write_ecg_dicom, write_ecg_wfdb

    if fmt == "dicom":
        rel = f"ecg/{sid}.dcm"
        write_ecg_dicom(rhythm, root / rel, fs=ECG_FS, leads=LEADS, patient_id=sid)
    elif fmt == "wfdb":
        from scipy.signal import resample_poly

        rel = f"ecg/{sid}.hea"
        upsampled = resample_poly(rhythm.astype(np.float64), WFDB_FS // ECG_FS, 1, axis=-1)
        write_ecg_wfdb(upsampled, root / "ecg" / sid, fs=WFDB_FS, leads=LEADS)
    else:
        rel = f"ecg/{sid}.csv"
        write_ecg_csv(rhythm, root / rel, fs=ECG_FS, leads=LEADS)
    return rel


def _yes_no(value: object) -> str:
    return "yes" if bool(value) else "no"


def write_example_folder(directory: str | os.PathLike, n: int = 12, *, seed: int = 0) -> Path:
    """Write ``n`` demo subjects as user files into ``directory``; returns the manifest path.

    The folder must not exist or be empty; it is written beside it and renamed into
    place, so a failure leaves nothing behind.
    """
    from ..cohort.synthetic.generate import generate_subject

    target = Path(directory).expanduser().absolute()
    if n < 1:
        raise CohortError(f"n must be at least 1, got {n}", path=target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CohortError(
            "exists and is not an empty directory; example files are only written into a new folder", path=target
        )

    def build(tmp: Path) -> None:
        for sub in ("mri", "labels", "ecg"):
            (tmp / sub).mkdir(parents=True)
        manifest, phenotypes = [], []
        for i in range(n):
            row, arrays = generate_subject(seed, i)
            sid, hr = str(row["subject_id"]), float(row["heart_rate"])
            cine_fmt, ecg_fmt = example_formats(i)
            manifest.append(
                {
                    "subject_id": sid,
                    "mri": _write_cine(cine_fmt, np.asarray(arrays["mri"], dtype=np.float32), tmp, sid, hr),
                    "ecg": _write_ecg(ecg_fmt, np.asarray(arrays["ecg_rhythm"]), tmp, sid),
                    "labels": _write_labels(np.asarray(arrays["labels"]), tmp, sid, hr),
                }
            )
            phenotypes.append(
                {
                    "subject_id": sid,
                    "age (years)": row["age"],
                    "sex": row["sex"],
                    "BMI [kg/m^2]": row["bmi"],
                    "hypertension": _yes_no(row["hypertension"]),
                    "prior_mi": _yes_no(row["prior_mi"]),
                    "lbbb": _yes_no(row["lbbb"]),
                    "atrial_enlargement": _yes_no(row["atrial_enlargement"]),
                }
            )
        pd.DataFrame(manifest).to_csv(tmp / "manifest.csv", index=False)
        pd.DataFrame(phenotypes).to_csv(tmp / "phenotypes.csv", index=False)

    build_dir(target, build, overwrite=True, exists_error=FileExistsError)  # empty or absent, checked above
    return target / "manifest.csv"
