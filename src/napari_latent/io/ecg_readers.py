"""Read a 12-lead ECG from DICOM waveforms, WFDB records, CSV or NumPy into an :class:`EcgRecord`.

Every reader checks what it reads (leads, sampling rate, duration, size, units, finite and
non-flat samples) and reports problems as :class:`CohortError` naming the file and subject.
Format libraries (pydicom, wfdb) are imported inside the functions that need them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..cohort.errors import CohortError
from ..cohort.schema import LEADS
from .records import EcgRecord

__all__ = [
    "CHEST_LEADS",
    "LEAD_CODES",
    "SamplingRateUnknownError",
    "LIMB_LEADS",
    "MAX_FS",
    "MAX_SECONDS",
    "MIN_FS",
    "MIN_SECONDS",
    "check_ecg",
    "normalise_lead_name",
    "read_ecg",
]

MIN_FS, MAX_FS = 100.0, 20_000.0  # Hz
MIN_SECONDS = 2.5  # shortest strip accepted
MAX_SECONDS = 600.0  # longest recording read (refused before allocation)
MAX_FILE_BYTES = 1 << 30  # no ECG file worth reading is larger
MAX_CHANNELS = 64
MAX_MV_AMPLITUDE = 50.0  # typical lead amplitude above this is microvolts labelled as mV
MIN_MV_AMPLITUDE = 0.005  # typical lead amplitude below this is mislabelled or empty
MAX_MV_SAMPLE = 1000.0  # no sample of a surface ECG comes near this
FLAT_MV = 1e-6  # a lead whose peak-to-peak is below this is flat

LIMB_LEADS = LEADS[:6]
CHEST_LEADS = LEADS[6:]

#: Lead codes of DICOM CID 3001 (ISO/IEEE 11073 MDC "2:n", its numeric form 131072 + n, and the
#: older SCPECG "5.6.3-9-n"), for the 12 standard leads and their "derived" variants.
_MDC_NUMBERS = {
    "I": (1, 31), "II": (2, 32), "V1": (3, 33), "V2": (4, 34), "V3": (5, 35), "V4": (6, 36),
    "V5": (7, 37), "V6": (8, 38), "III": (61, 111), "aVR": (62, 112), "aVL": (63, 113), "aVF": (64, 114),
}  # fmt: skip
LEAD_CODES: dict[str, str] = {}
for _lead, _numbers in _MDC_NUMBERS.items():
    for _n in _numbers:
        LEAD_CODES.update({f"2:{_n}": _lead, str(131072 + _n): _lead, f"5.6.3-9-{_n}": _lead})

_NAMES = {lead.lower(): lead for lead in LEADS}
_NAMES.update({f"c{i}": f"V{i}" for i in range(1, 7)})  # IEC chest-lead names
_NAMES.update({"di": "I", "dii": "II", "diii": "III"})  # European limb-lead names
_UNITS_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3}
_ECG_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.9.1.1": "12-lead ECG Waveform Storage",
    "1.2.840.10008.5.1.4.1.1.9.1.2": "General ECG Waveform Storage",
    "1.2.840.10008.5.1.4.1.1.9.1.3": "Ambulatory ECG Waveform Storage",
}
_CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
_TIME_COLUMN = re.compile(r"^(t|time|times|timesec|seconds|sec|s|ms|timems|ts|tms)$")
_INDEX_COLUMN = re.compile(r"^(sample|samples|index|idx|n|unnamed0|)$")


class SamplingRateUnknownError(CohortError):
    """The file does not say its sampling rate (a CSV without a time column): the caller must give it.

    napari asks for the rate in a dialog; scripts pass ``fs=``; an import manifest has an
    ``ecg_fs`` column.
    """


def normalise_lead_name(name: object) -> str | None:
    """The standard lead name ("I" ... "V6") for a label, code or spelling; None if unknown.

    Accepts case variants ("AVR", "i"), "Lead aVR", "MDC_ECG_LEAD_AVR", IEC chest names (C1),
    European limb names (DI), CID 3001 code values ("2:62", "131134", "5.6.3-9-62") and
    code meanings ("aVR, augmented voltage, right").
    """
    text = str(name).strip().strip("\"'").strip()
    if text in LEAD_CODES:
        return LEAD_CODES[text]
    key = text.lower()
    key = key.removeprefix("mdc_ecg_lead_")
    key = re.split(r"[,(]", key, maxsplit=1)[0]
    key = re.sub(r"\b(derived|lead|ecg)\b", "", key)
    key = re.sub(r"[\s_.]+", "", key)
    return _NAMES.get(key)


def _error(message: str, path: object, subject: object) -> CohortError:
    return CohortError(message, path=path, subject=subject)


def _unit_factor(unit: object, path: object, subject: object, *, what: str = "unit") -> float:
    key = str(unit).strip().lower()
    if key not in _UNITS_TO_MV:
        raise _error(f"unknown ECG {what} {unit!r}; expected mV, uV (µV) or V", path, subject)
    return _UNITS_TO_MV[key]


def _check_fs(fs: object, path: object, subject: object) -> float:
    try:
        value = float(fs)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise _error(f"sampling rate {fs!r} is not a number", path, subject) from exc
    if not np.isfinite(value) or not MIN_FS <= value <= MAX_FS:
        raise _error(
            f"sampling rate {value:g} Hz is out of range; an ECG needs {MIN_FS:g} to {MAX_FS:g} Hz", path, subject
        )
    return value


def _check_duration(n_samples: int, fs: float, path: object, subject: object) -> None:
    """Refuse too short or (before allocating it) too long a recording."""
    seconds = n_samples / fs
    if seconds > MAX_SECONDS:
        raise _error(
            f"recording of {n_samples} samples at {fs:g} Hz ({seconds:.4g} s) is longer than the "
            f"{MAX_SECONDS:g} s limit; refusing to read it",
            path,
            subject,
        )
    if seconds < MIN_SECONDS:
        raise _error(
            f"ECG strip of {n_samples} samples at {fs:g} Hz ({seconds:.2f} s) is too short; "
            f"at least {MIN_SECONDS:g} s is needed",
            path,
            subject,
        )


def _map_leads(labels: Sequence[object], path: object, subject: object) -> tuple[str, ...]:
    """Standard names for ``labels``; unknown or duplicate names are listed in the error."""
    names = [normalise_lead_name(label) for label in labels]
    unknown = [str(label) for label, name in zip(labels, names) if name is None]
    if unknown:
        raise _error(
            f"unknown lead name(s) {', '.join(map(repr, unknown))}; expected the 12 standard leads {', '.join(LEADS)}",
            path,
            subject,
        )
    seen: dict[str, list[str]] = {}
    for label, name in zip(labels, names):
        seen.setdefault(str(name), []).append(str(label))
    duplicates = {name: found for name, found in seen.items() if len(found) > 1}
    if duplicates:
        listed = "; ".join(f"{name} ({', '.join(map(repr, found))})" for name, found in duplicates.items())
        raise _error(f"duplicate lead(s): {listed}", path, subject)
    return tuple(str(n) for n in names)


def _check_independent_leads(leads: Sequence[str], path: object, subject: object) -> None:
    limb = [lead for lead in leads if lead in LIMB_LEADS]
    missing = [lead for lead in CHEST_LEADS if lead not in leads]
    if len(limb) < 2 or missing:
        need = ([f"{2 - len(limb)} more limb lead(s)"] if len(limb) < 2 else []) + missing
        raise _error(
            f"fewer than 8 independent leads: have {', '.join(leads) or 'none'}; missing {', '.join(need)} "
            "(a 12-lead ECG needs V1-V6 and two limb leads, e.g. I and II)",
            path,
            subject,
        )


def _robust_amplitude(signals: np.ndarray) -> float:
    """Median over leads of the 1-99 percentile range (mV), on at most ~100k samples a lead."""
    step = max(signals.shape[1] // 100_000, 1)
    lo, hi = np.percentile(signals[:, ::step], [1, 99], axis=1)
    return float(np.median(hi - lo))


def check_ecg(
    signals: np.ndarray, fs: float, leads: Sequence[str], *, path: object = None, subject: object = None,
    unit_hint: str = "",
) -> np.ndarray:  # fmt: skip
    """Validate a (leads, samples) strip in mV and return it as float32.

    Checks: 2-D with one row per lead, known unique leads including 8 independent ones,
    sampling rate and duration in range, finite samples, no flat lead, plausible mV amplitude.
    """
    x = np.asarray(signals)
    if x.ndim != 2 or x.shape[0] != len(leads):
        raise _error(f"ECG signals of shape {x.shape} do not match the {len(leads)} lead(s) given", path, subject)
    leads = _map_leads(leads, path, subject)
    _check_independent_leads(leads, path, subject)
    fs = _check_fs(fs, path, subject)
    _check_duration(x.shape[1], fs, path, subject)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        rows, cols = np.nonzero(bad)
        names = sorted({leads[r] for r in rows}, key=LEADS.index)
        raise _error(
            f"ECG contains {bad.sum()} NaN or infinite sample(s) in lead(s) {', '.join(names)} "
            f"(first at sample {cols.min()})",
            path,
            subject,
        )
    flat = [lead for lead, ptp in zip(leads, np.ptp(x, axis=1)) if ptp < FLAT_MV]
    if len(flat) == len(leads):
        raise _error("ECG is a flat line (all leads constant); no signal was recorded", path, subject)
    if flat:
        raise _error(f"lead(s) {', '.join(flat)} are flat (constant); electrode off?", path, subject)
    amplitude = _robust_amplitude(x)
    if amplitude > MAX_MV_AMPLITUDE:
        raise _error(
            f"typical lead amplitude {amplitude:.4g} mV is implausible for an ECG (expected below "
            f"{MAX_MV_AMPLITUDE:g} mV); the data look like microvolts labelled as mV"
            + (f" - {unit_hint}" if unit_hint else ""),
            path,
            subject,
        )
    if amplitude < MIN_MV_AMPLITUDE:
        raise _error(
            f"typical lead amplitude {amplitude:.3g} mV is implausibly small for an ECG; wrong units?"
            + (f" - {unit_hint}" if unit_hint else ""),
            path,
            subject,
        )
    peak = np.abs(x).max(axis=1)
    if peak.max() > MAX_MV_SAMPLE:
        worst = int(np.argmax(peak))
        raise _error(
            f"lead {leads[worst]} has a sample of {x[worst, np.argmax(np.abs(x[worst]))]:.4g} mV at sample "
            f"{int(np.argmax(np.abs(x[worst])))}, beyond any ECG (limit {MAX_MV_SAMPLE:g} mV); corrupt data or wrong units?",
            path,
            subject,
        )
    return x.astype(np.float32, copy=False)


def read_ecg(
    path: str | os.PathLike,
    *,
    lead_order: Sequence[str] | None = None,
    fs: float | None = None,
    unit: str = "mV",
    subject: object = None,
) -> EcgRecord:
    """Read an ECG file into an :class:`EcgRecord` (signals in mV, the file's own rate and leads).

    Formats, by suffix and content: DICOM ECG waveform (``.dcm`` or any file with the DICOM
    preamble), WFDB (``.hea``/``.dat`` or the record name), CSV/TSV (lead names in the header,
    or ``lead_order=``; an optional time column sets ``fs``) and NumPy ``.npy`` (needs
    ``lead_order=`` and ``fs=``). ``unit`` ("mV", "uV", "V") applies to CSV and NumPy; DICOM and
    WFDB carry their own units and rate (a given ``fs`` must agree). Raises :class:`CohortError`
    naming the file and ``subject`` for anything unreadable or implausible.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in {".hea", ".dat"} or (not p.exists() and p.with_name(p.name + ".hea").is_file()):
        return _read_wfdb(p, fs=fs, subject=subject)
    if not p.exists():
        raise _error("file not found", p, subject)
    if not p.is_file():
        raise _error("not a file (a directory?); expected an ECG file", p, subject)
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _error(f"file of {size} bytes is too large for an ECG; refusing to read it", p, subject)
    if size == 0:
        raise _error("file is empty", p, subject)
    if suffix in _CSV_SUFFIXES:
        return _read_csv(p, lead_order=lead_order, fs=fs, unit=unit, subject=subject)
    if suffix == ".npy":
        return _read_npy(p, lead_order=lead_order, fs=fs, unit=unit, subject=subject)
    if suffix in {".dcm", ".dicom", ""} or _has_dicom_preamble(p):
        return _read_dicom(p, fs=fs, subject=subject)
    raise _error(
        f"unrecognised ECG file type {suffix!r}; expected DICOM (.dcm), WFDB (.hea/.dat), CSV or .npy", p, subject
    )


def _has_dicom_preamble(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(132)[128:] == b"DICM"


def _check_fs_agrees(given: float | None, found: float, path: object, subject: object) -> None:
    if given is not None and abs(float(given) - found) > 0.01 * found:
        raise _error(f"fs={given:g} Hz was given but the file records {found:g} Hz", path, subject)


# --- DICOM -----------------------------------------------------------------------------------


def _read_dicom(path: Path, *, fs: float | None, subject: object) -> EcgRecord:
    try:
        import pydicom
    except ImportError as exc:  # pragma: no cover - pydicom is a dependency
        raise _error("reading DICOM needs pydicom (pip install pydicom)", path, subject) from exc
    try:
        ds = pydicom.dcmread(path, force=True)
        return _dicom_record(ds, path, fs, subject)
    except CohortError:
        raise
    except Exception as exc:  # corrupt files raise anything from struct.error to MemoryError
        raise _error(f"not a readable DICOM ECG file ({type(exc).__name__}: {exc})", path, subject) from exc


def _dicom_record(ds: Any, path: Path, fs_given: float | None, subject: object) -> EcgRecord:
    sop = str(ds.get("SOPClassUID", "") or "")
    if "WaveformSequence" not in ds or (sop and sop not in _ECG_SOP_CLASSES):
        kind = getattr(ds.get("SOPClassUID"), "name", "") or sop or "unknown"
        raise _error(f"not a DICOM ECG waveform (SOP class: {kind}; no ECG Waveform Sequence)", path, subject)
    if ds.original_encoding[1] is False:
        raise _error("big-endian DICOM waveforms are not supported; convert to little endian", path, subject)
    groups = list(ds.WaveformSequence)
    if not groups:
        raise _error("DICOM Waveform Sequence is empty", path, subject)
    index = _rhythm_group(groups)
    group = groups[index]
    label = str(group.get("MultiplexGroupLabel", "") or "")
    where = f"waveform group {index}" + (f" ({label})" if label else "")
    for keyword in ("NumberOfWaveformChannels", "NumberOfWaveformSamples", "SamplingFrequency",
                    "WaveformBitsAllocated", "WaveformSampleInterpretation", "WaveformData",
                    "ChannelDefinitionSequence"):  # fmt: skip
        if keyword not in group or group.get(keyword) in (None, ""):
            raise _error(f"{where} lacks {keyword}", path, subject)
    n_channels, n_samples = int(group.NumberOfWaveformChannels), int(group.NumberOfWaveformSamples)
    fs = _check_fs(group.SamplingFrequency, path, subject)
    _check_fs_agrees(fs_given, fs, path, subject)
    if not 1 <= n_channels <= MAX_CHANNELS or n_samples < 1:
        raise _error(f"{where} declares {n_channels} channels x {n_samples} samples", path, subject)
    _check_duration(n_samples, fs, path, subject)
    bits, kind = int(group.WaveformBitsAllocated), str(group.WaveformSampleInterpretation)
    if (bits, kind) not in {(8, "SB"), (16, "SS"), (32, "SL"), (8, "UB"), (16, "US"), (32, "UL")}:
        raise _error(f"{where}: unsupported sample format {bits} bits {kind!r} (expected 16-bit SS)", path, subject)
    expected, found = n_samples * n_channels * bits // 8, len(group.WaveformData)
    if found < expected:
        raise _error(
            f"{where} is truncated: {found} bytes of waveform data, {expected} declared "
            f"({n_channels} channels x {n_samples} samples x {bits} bits)",
            path,
            subject,
        )
    channels = list(group.ChannelDefinitionSequence)
    if len(channels) != n_channels:
        raise _error(f"{where} defines {len(channels)} channels but declares {n_channels}", path, subject)
    labels = [_channel_label(ch, i) for i, ch in enumerate(channels)]
    leads = _map_leads(labels, path, subject)
    scale = np.array([_channel_to_mv(ch, lead, path, subject) for ch, lead in zip(channels, leads)])
    data = np.asarray(ds.waveform_array(index), dtype=np.float64)  # (samples, channels), sensitivity units
    signals = (data * scale).T
    x = check_ecg(signals, fs, leads, path=path, subject=subject, unit_hint="check ChannelSensitivityUnitsSequence")
    meta = {"format": "dicom", "sop_class": _ECG_SOP_CLASSES.get(sop, sop), "group": label, "labels": labels}
    return EcgRecord(signals=x, fs=fs, leads=leads, source=str(path), meta=meta)


def _rhythm_group(groups: list[Any]) -> int:
    """Index of the multiplex group labelled RHYTHM, else of the longest one."""
    for i, group in enumerate(groups):
        if "RHYTHM" in str(group.get("MultiplexGroupLabel", "") or "").upper():
            return i

    def seconds(group: Any) -> float:
        try:
            return float(group.NumberOfWaveformSamples) / float(group.SamplingFrequency)
        except (AttributeError, TypeError, ValueError, ZeroDivisionError):
            return -1.0

    return max(range(len(groups)), key=lambda i: seconds(groups[i]))


def _channel_label(channel: Any, index: int) -> str:
    """The channel's code value if it is a known lead code, else its meaning or label."""
    candidates = []
    for source in channel.get("ChannelSourceSequence", None) or []:
        candidates += [source.get("CodeValue", None), source.get("CodeMeaning", None)]
    candidates.append(channel.get("ChannelLabel", None))
    candidates = [str(c) for c in candidates if c not in (None, "")]
    for candidate in candidates:
        if normalise_lead_name(candidate) is not None:
            return candidate
    return candidates[0] if candidates else f"channel {index + 1} (unlabelled)"


def _channel_to_mv(channel: Any, lead: str, path: object, subject: object) -> float:
    """Factor from the value ``waveform_array`` gives (sensitivity units) to mV."""
    units = channel.get("ChannelSensitivityUnitsSequence", None) or []
    if "ChannelSensitivity" not in channel or not units:
        raise _error(f"channel {lead} has no ChannelSensitivity and units; cannot scale it to mV", path, subject)
    sensitivity = float(channel.ChannelSensitivity) * float(
        channel.get("ChannelSensitivityCorrectionFactor", 1.0) or 1.0
    )
    if not np.isfinite(sensitivity) or sensitivity == 0:
        raise _error(f"channel {lead} has an invalid sensitivity {sensitivity!r}", path, subject)
    code = units[0].get("CodeValue", None) or units[0].get("CodeMeaning", "")
    return _unit_factor(code, path, subject, what=f"sensitivity unit of channel {lead}")


# --- WFDB ------------------------------------------------------------------------------------

_WFDB_BYTES = {"8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2, "212": 1.5, "310": 4 / 3, "311": 4 / 3}


def _read_wfdb(path: Path, *, fs: float | None, subject: object) -> EcgRecord:
    record = path.with_suffix("") if path.suffix.lower() in {".hea", ".dat"} else path
    header = record.with_name(record.name + ".hea")
    if not header.is_file():
        raise _error("WFDB header (.hea) not found", header, subject)
    if header.stat().st_size > 1 << 20:
        raise _error("WFDB header is larger than 1 MiB; not a header", header, subject)
    try:
        import wfdb
    except ImportError as exc:
        raise _error("reading WFDB records needs wfdb (pip install 'napari-latent[io]')", header, subject) from exc
    try:
        head = wfdb.rdheader(str(record))
    except Exception as exc:
        raise _error(f"unreadable WFDB header ({type(exc).__name__}: {exc})", header, subject) from exc
    if not hasattr(head, "sig_name") or hasattr(head, "seg_name"):
        raise _error("multi-segment WFDB records are not supported", header, subject)
    if not head.n_sig or not head.sig_name:
        raise _error("WFDB header declares no signals", header, subject)
    if head.n_sig > MAX_CHANNELS:
        raise _error(f"WFDB header declares {head.n_sig} signals; at most {MAX_CHANNELS}", header, subject)
    fs_file = _check_fs(head.fs, header, subject)
    _check_fs_agrees(fs, fs_file, header, subject)
    leads = _map_leads(head.sig_name, header, subject)
    _check_independent_leads(leads, header, subject)
    scale = np.array([_unit_factor(u, header, subject, what=f"unit of signal {n}") for u, n in zip(head.units, leads)])
    n_samples = _wfdb_samples(head, record, header, subject)
    _check_duration(n_samples, fs_file, header, subject)
    try:
        rec = wfdb.rdrecord(str(record), physical=True)
        signals = np.asarray(rec.p_signal, dtype=np.float64).T * scale[:, None]
    except CohortError:
        raise
    except Exception as exc:
        raise _error(f"unreadable WFDB signal file ({type(exc).__name__}: {exc})", header, subject) from exc
    x = check_ecg(signals, fs_file, leads, path=header, subject=subject, unit_hint="check the units in the header")
    meta = {"format": "wfdb", "labels": list(head.sig_name), "units": list(head.units)}
    return EcgRecord(signals=x, fs=fs_file, leads=leads, source=str(header), meta=meta)


def _wfdb_samples(head: Any, record: Path, header: Path, subject: object) -> int:
    """Samples per signal, checked against the signal files' sizes before anything is read."""
    files = list(dict.fromkeys(head.file_name or []))
    if not files:
        raise _error("WFDB header names no signal file", header, subject)
    counts = []
    for name in files:
        if Path(name).name != name:
            raise _error(f"WFDB signal file {name!r} must lie beside the header", header, subject)
        dat = record.parent / name
        if not dat.is_file():
            raise _error(f"WFDB signal file {name} named in the header is missing", header, subject)
        fmts = [f for f, fn in zip(head.fmt, head.file_name) if fn == name]
        spf = [s or 1 for s, fn in zip(head.samps_per_frame or [1] * len(head.file_name), head.file_name) if fn == name]
        if any(f not in _WFDB_BYTES for f in fmts):
            raise _error(f"unsupported WFDB format(s) {fmts}", header, subject)
        per_sample = sum(_WFDB_BYTES[f] * s for f, s in zip(fmts, spf))
        offset = max(int(o or 0) for o, fn in zip(head.byte_offset or [0] * len(files), head.file_name) if fn == name)
        available = int((dat.stat().st_size - offset) // per_sample) if per_sample else 0
        declared = available if head.sig_len is None else int(head.sig_len)
        if declared > MAX_SECONDS * float(head.fs):
            _check_duration(declared, float(head.fs), header, subject)
        if available < declared:
            raise _error(
                f"WFDB signal file {name} is truncated: holds {available} samples, header declares {declared}",
                header,
                subject,
            )
        counts.append(declared)
    return min(counts)


# --- CSV -------------------------------------------------------------------------------------


def _count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            count += block.count(b"\n")
    return count + 1


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(
    path: Path, *, lead_order: Sequence[str] | None, fs: float | None, unit: str, subject: object
) -> EcgRecord:
    import pandas as pd

    factor = _unit_factor(unit, path, subject)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            first = fh.readline()
    except (UnicodeDecodeError, OSError) as exc:
        raise _error(f"not a readable text CSV file ({exc})", path, subject) from exc
    sep = "\t" if path.suffix.lower() == ".tsv" else max([",", ";", "\t"], key=first.count)
    if first.count(sep) == 0 and first.strip() and len(first.split()) > 1:
        sep = r"\s+"
    fields = [f.strip() for f in (first.split() if sep == r"\s+" else first.split(sep))]
    has_header = not all(_is_number(f) for f in fields if f)
    if not has_header and lead_order is None:
        raise _error(
            "the CSV has no header row of lead names: add one (I, II, III, aVR, aVL, aVF, V1-V6), or give the "
            "lead order (an ecg_lead_order column in an import manifest; lead_order= in Python)",
            path,
            subject,
        )
    if fs is not None:
        fs = _check_fs(fs, path, subject)
        rows = _count_lines(path)
        if rows > MAX_SECONDS * fs + 10:
            _check_duration(rows, fs, path, subject)
    elif _count_lines(path) > MAX_SECONDS * MAX_FS + 10:
        raise _error(f"CSV has more than {MAX_SECONDS * MAX_FS:.0f} rows; refusing to read it", path, subject)
    try:
        table = pd.read_csv(path, sep=sep, header=0 if has_header else None, dtype=str, encoding="utf-8-sig", na_filter=False,
                            engine="python" if sep == r"\s+" else "c", skip_blank_lines=True)  # fmt: skip
    except Exception as exc:
        raise _error(f"unreadable CSV ({type(exc).__name__}: {exc})", path, subject) from exc
    if has_header:
        columns = [str(c).strip() for c in table.columns]
    else:
        columns = list(map(str, lead_order or []))
        if table.shape[1] != len(columns):
            raise _error(f"CSV has {table.shape[1]} columns but lead_order names {len(columns)} leads", path, subject)
    values = _numeric_columns(table, columns, path, subject)
    time_cols = [c for c in columns if _TIME_COLUMN.match(re.sub(r"[^a-z0-9]", "", c.lower()))]
    skip = set(time_cols) | {c for c in columns if _INDEX_COLUMN.match(re.sub(r"[^a-z0-9]", "", c.lower()))}
    lead_cols = [c for c in columns if c not in skip]
    if time_cols:
        fs_time = _fs_from_time(values[time_cols[0]], time_cols[0], path, subject)
        _check_fs_agrees(fs, fs_time, path, subject)
        fs = fs if fs is not None else fs_time
    if not lead_cols:
        raise _error(
            f"no lead columns found (expected {', '.join(LEADS)}); the columns are {columns[:20]}", path, subject
        )
    if fs is None:
        raise SamplingRateUnknownError(
            "the CSV has no time column, so its sampling rate is unknown: give the sampling rate in Hz "
            "(napari asks for it when you open the file; an import manifest takes it in an ecg_fs column; "
            "in Python read_ecg(path, fs=...)), or add a time column in seconds",
            path=path,
            subject=subject,
        )
    leads = _map_leads(lead_cols, path, subject)
    signals = np.stack([values[c] for c in lead_cols]) * factor if lead_cols else np.zeros((0, 0))
    x = check_ecg(signals, fs, leads, path=path, subject=subject, unit_hint=f"pass unit='uV' (was {unit!r})")
    meta = {"format": "csv", "labels": lead_cols, "unit": unit, "time_column": time_cols[0] if time_cols else None}
    return EcgRecord(signals=x, fs=float(fs), leads=leads, source=str(path), meta=meta)


def _numeric_columns(table: Any, columns: list[str], path: Path, subject: object) -> dict[str, np.ndarray]:
    """Each column as float64; text in a number cell is reported with its row and column."""
    values = {}
    for name, (_, column) in zip(columns, table.items()):
        cells = column.to_numpy(dtype=object)
        try:
            values[name] = np.asarray(cells, dtype=np.float64)
        except (TypeError, ValueError):
            for row, cell in enumerate(cells):
                if not _is_number(str(cell)):
                    what = "an empty cell" if not str(cell).strip() else f"text {str(cell)[:40]!r}"
                    raise _error(
                        f"column {name!r} holds {what} in data row {row + 1} where a number belongs", path, subject
                    ) from None
            raise _error(f"column {name!r} is not numeric", path, subject) from None
    return values


def _fs_from_time(t: np.ndarray, name: str, path: Path, subject: object) -> float:
    """Sampling rate from a uniformly spaced time column in seconds or milliseconds."""
    if len(t) < 2 or not np.all(np.isfinite(t)):
        raise _error(f"time column {name!r} is too short or not finite", path, subject)
    dt = np.diff(t)
    step = float(np.median(dt))
    if step <= 0 or np.max(np.abs(dt - step)) > 0.05 * step:
        raise _error(f"time column {name!r} is not uniformly increasing; cannot infer fs", path, subject)
    key = re.sub(r"[^a-z]", "", name.lower())
    in_ms = "ms" in key or (key in {"t", "time"} and step >= 0.05)  # unitless: s steps <= 0.01, ms >= 0.05
    fs = (1000.0 if in_ms else 1.0) / step
    return float(round(fs)) if abs(fs - round(fs)) < 1e-3 * fs else fs


# --- NumPy -----------------------------------------------------------------------------------


def _read_npy(
    path: Path, *, lead_order: Sequence[str] | None, fs: float | None, unit: str, subject: object
) -> EcgRecord:
    if lead_order is None or fs is None:
        raise _error("a NumPy ECG needs lead_order= (lead names) and fs= (Hz)", path, subject)
    factor = _unit_factor(unit, path, subject)
    fs = _check_fs(fs, path, subject)
    leads = _map_leads(list(lead_order), path, subject)
    _check_independent_leads(leads, path, subject)
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        raise _error(f"not a readable .npy array ({type(exc).__name__}: {exc})", path, subject) from exc
    if not isinstance(arr, np.ndarray) or arr.ndim != 2:
        raise _error(f"expected a 2-D (leads, samples) array, got shape {getattr(arr, 'shape', '?')}", path, subject)
    if arr.dtype.kind not in "iuf":
        raise _error(f"expected a numeric array, got dtype {arr.dtype}", path, subject)
    n = len(leads)
    if arr.shape[0] == n and arr.shape[1] != n:
        samples_axis = 1
    elif arr.shape[1] == n and arr.shape[0] != n:
        samples_axis = 0
    else:
        raise _error(f"array of shape {arr.shape} does not have one axis of {n} leads (lead_order)", path, subject)
    _check_duration(arr.shape[samples_axis], fs, path, subject)
    try:
        signals = np.array(arr if samples_axis == 1 else arr.T, dtype=np.float64) * factor
    except Exception as exc:
        raise _error(f"unreadable .npy data ({type(exc).__name__}: {exc})", path, subject) from exc
    x = check_ecg(signals, fs, leads, path=path, subject=subject, unit_hint=f"pass unit='uV' (was {unit!r})")
    meta = {"format": "npy", "unit": unit, "transposed": samples_axis == 0}
    return EcgRecord(signals=x, fs=fs, leads=leads, source=str(path), meta=meta)
