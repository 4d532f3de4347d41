"""Write a multi-lead ECG (mV) as a DICOM waveform, WFDB record, CSV or NumPy file.

Writers never overwrite: an existing destination raises :class:`FileExistsError` naming it.
Each file is written under a temporary name beside the destination and then moved into
place, so a failed write leaves nothing half-written behind.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from .._atomic import publish_file, refuse_existing, write_new_file
from ..cohort.errors import CohortError
from ..cohort.schema import LEADS
from .ecg_readers import MAX_FS, MIN_FS, _map_leads

__all__ = ["write_ecg_csv", "write_ecg_dicom", "write_ecg_npy", "write_ecg_wfdb"]

#: DICOM CID 3001 code (MDC) and code meaning of each standard lead.
_DICOM_LEADS = {
    "I": ("2:1", "Lead I"),
    "II": ("2:2", "Lead II"),
    "III": ("2:61", "Lead III"),
    "aVR": ("2:62", "aVR, augmented voltage, right"),
    "aVL": ("2:63", "aVL, augmented voltage, left"),
    "aVF": ("2:64", "aVF, augmented voltage, foot"),
    **{f"V{i}": (f"2:{i + 2}", f"Lead V{i}") for i in range(1, 7)},
}
_TWELVE_LEAD_SOP = "1.2.840.10008.5.1.4.1.1.9.1.1"
_GENERAL_ECG_SOP = "1.2.840.10008.5.1.4.1.1.9.1.2"


def _prepare(
    signals_mV: np.ndarray, leads: Sequence[str], fs: float, path: Path
) -> tuple[np.ndarray, tuple[str, ...], float]:
    """Check the array against ``leads`` and ``fs``; (leads, samples) float64, lead names, fs."""
    x = np.asarray(signals_mV, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != len(leads) or x.shape[1] < 1:
        raise CohortError(f"signals of shape {x.shape} do not match the {len(leads)} leads given", path=path)
    if not np.all(np.isfinite(x)):
        raise CohortError("signals contain NaN or infinite values", path=path)
    if not np.isfinite(fs) or not MIN_FS <= fs <= MAX_FS:
        raise CohortError(f"sampling rate {fs:g} Hz is out of range ({MIN_FS:g} to {MAX_FS:g} Hz)", path=path)
    return x, _map_leads(list(leads), path, None), float(fs)


def _write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then move it into place."""

    def to_file(tmp: Path) -> None:
        with open(tmp, "xb") as fh:  # default permissions, unlike mkstemp's 0600
            write(fh)

    return write_new_file(path, to_file)


def write_ecg_npy(signals_mV: np.ndarray, path: str | os.PathLike, *, leads: Sequence[str] = LEADS) -> Path:
    """Write the (leads, samples) array in mV as float32 ``.npy`` (read back with ``lead_order=leads``)."""
    x, _, _ = _prepare(signals_mV, leads, float(MIN_FS), Path(path))
    return _write_atomic(path, lambda fh: np.save(fh, x.astype(np.float32), allow_pickle=False))


def write_ecg_csv(
    signals_mV: np.ndarray, path: str | os.PathLike, *, fs: float = 500, leads: Sequence[str] = LEADS
) -> Path:
    """Write a CSV: header ``time_s`` and the lead names, one row a sample, values in mV."""
    x, names, fs = _prepare(signals_mV, leads, fs, Path(path))
    table = np.column_stack([np.arange(x.shape[1]) / fs, x.T])

    def write(fh: IO[bytes]) -> None:
        np.savetxt(fh, table, fmt="%.9g", delimiter=",", header=",".join(["time_s", *names]), comments="")

    return _write_atomic(path, write)


def write_ecg_dicom(
    signals_mV: np.ndarray,
    path: str | os.PathLike,
    *,
    fs: float = 500,
    leads: Sequence[str] = LEADS,
    patient_id: str = "ANON",
    sensitivity_uV: float = 1.0,
) -> Path:
    """Write a DICOM ECG waveform: one RHYTHM group of 16-bit samples, ``sensitivity_uV`` per step.

    12-lead ECG Waveform Storage when the recording fits that IOD (200-1000 Hz, at most 13
    channels and 16384 samples), General ECG Waveform Storage otherwise. Channels carry
    CID 3001 lead codes and meanings; values are quantised to ``sensitivity_uV``.
    """
    dst = Path(path)
    x, names, fs = _prepare(signals_mV, leads, fs, dst)
    if not np.isfinite(sensitivity_uV) or sensitivity_uV <= 0:
        raise CohortError(f"sensitivity_uV must be positive, got {sensitivity_uV!r}", path=dst)
    digital = np.round(x * 1000.0 / sensitivity_uV)
    if np.abs(digital).max() > 32767:
        raise CohortError(
            f"amplitude {np.abs(x).max():.4g} mV does not fit 16 bits at {sensitivity_uV:g} uV per step; "
            "pass a larger sensitivity_uV",
            path=dst,
        )
    ds = _ecg_dataset(digital.astype("<i2"), names, fs, patient_id, sensitivity_uV)
    return _write_atomic(dst, lambda fh: ds.save_as(fh, enforce_file_format=True))


def _ecg_dataset(digital: np.ndarray, leads: Sequence[str], fs: float, patient_id: str, sensitivity_uV: float) -> Any:
    """The pydicom Dataset of an ECG waveform from (leads, samples) int16 values."""
    import datetime

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    n_leads, n_samples = digital.shape
    twelve = 200 <= fs <= 1000 and n_leads <= 13 and n_samples <= 16384
    sop_class, sop_instance = (_TWELVE_LEAD_SOP if twelve else _GENERAL_ECG_SOP), generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    now = datetime.datetime.now()
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_instance
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientID, ds.PatientName = str(patient_id), str(patient_id)
    ds.Modality, ds.Manufacturer = "ECG", "napari-latent"
    ds.StudyDate = ds.ContentDate = ds.AcquisitionDateTime = now.strftime("%Y%m%d")
    ds.ContentTime, ds.SeriesNumber, ds.InstanceNumber = now.strftime("%H%M%S"), 1, 1

    def code(value: str, scheme: str, meaning: str) -> Dataset:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
        return item

    channels = []
    for lead in leads:
        ch = Dataset()
        value, meaning = _DICOM_LEADS[lead]
        ch.ChannelLabel = lead
        ch.ChannelSourceSequence = DicomSequence([code(value, "MDC", meaning)])
        ch.ChannelSensitivity = f"{sensitivity_uV:.10g}"[:16]
        ch.ChannelSensitivityUnitsSequence = DicomSequence([code("uV", "UCUM", "microvolt")])
        ch.ChannelSensitivityCorrectionFactor, ch.ChannelBaseline, ch.ChannelSampleSkew = "1", "0", "0"
        ch.WaveformBitsStored = 16
        channels.append(ch)
    group = Dataset()
    group.MultiplexGroupTimeOffset = "0"
    group.WaveformOriginality = "ORIGINAL"
    group.NumberOfWaveformChannels, group.NumberOfWaveformSamples = n_leads, n_samples
    group.SamplingFrequency = f"{fs:.10g}"[:16]
    group.MultiplexGroupLabel = "RHYTHM"
    group.ChannelDefinitionSequence = DicomSequence(channels)
    group.WaveformBitsAllocated, group.WaveformSampleInterpretation = 16, "SS"
    group.WaveformData = np.ascontiguousarray(digital.T).tobytes()  # sample-interleaved
    ds.WaveformSequence = DicomSequence([group])
    return ds


def write_ecg_wfdb(
    signals_mV: np.ndarray, record_path: str | os.PathLike, *, fs: float = 500, leads: Sequence[str] = LEADS
) -> Path:
    """Write a WFDB record (``.hea`` + ``.dat``, format 16, mV at 1 uV resolution); returns the header path.

    The gain drops below 1000 steps/mV only where the amplitude would not fit 16 bits.
    """
    import wfdb

    record = Path(record_path)
    if record.suffix.lower() in {".hea", ".dat"}:
        record = record.with_suffix("")
    x, names, fs = _prepare(signals_mV, leads, fs, record)
    if not re.fullmatch(r"[-\w]+", record.name):
        raise CohortError("WFDB record names may hold only letters, digits, '_' and '-'", path=record)
    header, data = record.with_name(record.name + ".hea"), record.with_name(record.name + ".dat")
    refuse_existing(header, data)
    peak = float(np.abs(x).max())
    gain = 1000.0 if peak * 1000.0 <= 32000 else float(np.floor(32000.0 / peak))
    if gain < 1:
        raise CohortError(f"amplitude {peak:.4g} mV is too large for a 16-bit WFDB record", path=record)
    tmpdir = Path(tempfile.mkdtemp(dir=record.parent, prefix=f".{record.name}.", suffix=".tmp"))
    try:
        wfdb.wrsamp(
            record.name,
            fs=int(fs) if fs == int(fs) else fs,
            units=["mV"] * len(names),
            sig_name=list(names),
            p_signal=x.T,
            fmt=["16"] * len(names),
            adc_gain=[gain] * len(names),
            baseline=[0] * len(names),
            write_dir=str(tmpdir),
        )
        publish_file(tmpdir / data.name, data)
        try:
            publish_file(tmpdir / header.name, header)
        except BaseException:
            data.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return header
