"""Bring an :class:`EcgRecord` onto the model's grid: 12 standard leads, 500 Hz, 10 s, median beat."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ..cohort.ecg_processing import median_beat
from ..cohort.errors import CohortError
from ..cohort.schema import ECG_FS, ECG_MEDIAN_SAMPLES, ECG_RHYTHM_SAMPLES, LEADS
from .ecg_readers import LIMB_LEADS, MIN_SECONDS, check_ecg, normalise_lead_name
from .records import EcgRecord

__all__ = ["HIGHPASS_HZ", "PreparedEcg", "derive_limb_leads", "standardise_ecg"]

HIGHPASS_HZ = 0.05  # baseline-wander cut-off (zero-phase Butterworth); 0.05 Hz keeps the ST segment (AHA diagnostic band)
_MARGIN_S = 1.0  # extra signal kept past 10 s so the filters' edges fall outside the strip

#: Each limb lead as a combination of leads I and II (Einthoven and Goldberger).
_LIMB_IN_I_II = {
    "I": (1.0, 0.0),
    "II": (0.0, 1.0),
    "III": (-1.0, 1.0),
    "aVR": (-0.5, -0.5),
    "aVL": (1.0, -0.5),
    "aVF": (-0.5, 1.0),
}


@dataclass
class PreparedEcg:
    """An ECG on the model's grid: ``rhythm`` (12, 5000) and ``median`` (12, 600), float32 mV at 500 Hz.

    ``meta`` keeps the original sampling rate, leads, derived leads, duration and padding.
    """

    rhythm: np.ndarray
    median: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


def derive_limb_leads(signals: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """All six limb leads from the recorded ones (at least two), and the names derived.

    With I and II recorded the others follow exactly (III = II - I, aVR = -(I + II)/2,
    aVL = I - II/2, aVF = II - I/2); otherwise I and II are solved by least squares from
    the recorded limb leads first. Recorded leads are kept as they are.
    """
    recorded = [lead for lead in LIMB_LEADS if lead in signals]
    if len(recorded) < 2:
        raise ValueError(f"two limb leads are needed to derive the others, got {recorded}")
    if "I" in signals and "II" in signals:
        lead_i, lead_ii = signals["I"], signals["II"]
    else:
        a = np.array([_LIMB_IN_I_II[lead] for lead in recorded])  # (recorded, 2)
        b = np.stack([signals[lead] for lead in recorded])  # (recorded, n)
        lead_i, lead_ii = np.linalg.lstsq(a, b, rcond=None)[0]
    limb = {lead: signals[lead] if lead in signals else ci * lead_i + cii * lead_ii
            for lead, (ci, cii) in _LIMB_IN_I_II.items()}  # fmt: skip
    return limb, [lead for lead in LIMB_LEADS if lead not in signals]


def _resample_ratio(fs: float) -> Fraction:
    """500 / fs as a small rational (exact for integer rates)."""
    if abs(fs - round(fs)) < 1e-6:
        return Fraction(ECG_FS, round(fs))
    return Fraction(ECG_FS / fs).limit_denominator(1000)


def _highpass(x: np.ndarray) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, HIGHPASS_HZ, btype="highpass", fs=ECG_FS, output="sos")
    return sosfiltfilt(sos, x, axis=-1)


def standardise_ecg(ecg: EcgRecord, *, subject: object = None) -> PreparedEcg:
    """The 12 standard leads, resampled to 500 Hz, the first 10 s, baseline removed, and the median beat.

    Missing limb leads are derived from the recorded ones (see :func:`derive_limb_leads`);
    a strip shorter than 10 s (at least 2.5 s) is padded with its last value and
    ``meta["padded_s"]`` says by how much. Raises :class:`CohortError` naming the file and
    ``subject`` when the record is unusable or no median beat can be formed.
    """
    from scipy.signal import resample_poly

    path = ecg.source or None
    x = check_ecg(ecg.signals, ecg.fs, ecg.leads, path=path, subject=subject)
    fs = float(ecg.fs)
    leads = tuple(str(normalise_lead_name(lead)) for lead in ecg.leads)
    keep = min(x.shape[1], int(np.ceil((ECG_RHYTHM_SAMPLES / ECG_FS + _MARGIN_S) * fs)))
    by_lead = {lead: x[i, :keep].astype(np.float64) for i, lead in enumerate(leads)}
    limb, derived = derive_limb_leads(by_lead)
    strip = np.stack([limb[lead] if lead in limb else by_lead[lead] for lead in LEADS])
    ratio = _resample_ratio(fs)
    if ratio != 1:
        strip = resample_poly(strip, ratio.numerator, ratio.denominator, axis=-1, padtype="line")
    n_real = min(strip.shape[1], ECG_RHYTHM_SAMPLES, int(np.floor(x.shape[1] * ECG_FS / fs)))
    if n_real < MIN_SECONDS * ECG_FS:
        raise CohortError(
            f"ECG strip of {n_real / ECG_FS:.2f} s after resampling is too short; at least {MIN_SECONDS:g} s is needed",
            path=path,
            subject=subject,
        )
    strip = _highpass(strip)[:, :n_real]
    padded = ECG_RHYTHM_SAMPLES - n_real
    rhythm = np.pad(strip, ((0, 0), (0, padded)), mode="edge").astype(np.float32)
    try:
        median = median_beat(rhythm, fs=ECG_FS)
    except ValueError as exc:
        raise CohortError(f"cannot form a median beat: {exc}", path=path, subject=subject) from exc
    if median.shape != (len(LEADS), ECG_MEDIAN_SAMPLES) or not np.all(np.isfinite(median)):
        raise CohortError("the median beat is not finite", path=path, subject=subject)
    meta = {
        "source": ecg.source,
        "fs_original": fs,
        "leads_original": list(leads),
        "derived_leads": derived,
        "duration_s_original": ecg.duration_s,
        "padded_s": padded / ECG_FS,
        "resample": (ratio.numerator, ratio.denominator),
        "fs_effective": fs * float(ratio),
        "highpass_hz": HIGHPASS_HZ,
    }
    return PreparedEcg(rhythm=rhythm, median=median, meta=meta)
