"""ECG signal processing for synthetic and imported rhythm strips.

R-peak detection (band-pass, energy envelope across all leads, adaptive threshold,
refractory period, search-back), heart rate, the median beat (R-aligned, refined by
cross-correlation, PR-baseline corrected, sample-wise median), and QRS and QT intervals
measured on the median beat from the spatial velocity / magnitude of all leads.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_closing
from scipy.signal import butter, find_peaks, savgol_filter, sosfiltfilt

from .schema import ECG_FS, ECG_MEDIAN_R_INDEX, ECG_MEDIAN_SAMPLES

__all__ = ["detect_r_peaks", "heart_rate", "median_beat", "qrs_duration", "qt_interval"]

MIN_SECONDS = 1.5  # shortest strip the detector accepts
_MAX_AMPLITUDE = 1e6  # mV; larger samples are rejected as corrupt (and would overflow squares)
_BAND = (5.0, 30.0)  # Hz, QRS band of the detector
_REFRACTORY = 0.25  # s, no two R peaks closer than this
_INTEGRATION = 0.12  # s, moving window of the energy envelope
_THRESHOLD = 0.3  # fraction of the typical QRS energy a peak needs
_SEARCH_BACK = 1.6  # an RR longer than this times the median is searched again at half threshold
_MAX_LAG = 0.03  # s, largest cross-correlation shift of a beat against the template
#: Fractions of the peak spatial velocity that mark QRS onset and offset; the offset's is
#: higher because the ST segment slopes (steeply so in bundle branch block).
_ONSET_THRESHOLD = 0.05
_OFFSET_THRESHOLD = 0.1
_NOTCH = 0.016  # s, the longest velocity dip still counted as inside the QRS
_T_SMOOTH = 0.04  # s, Savitzky-Golay window smoothing the T magnitude and its slope
_T_SEARCH = 0.45  # s after the R peak within which the T peak is sought (before the next P/QRS)


def _as_leads(rhythm: np.ndarray, fs: int) -> np.ndarray:
    """``rhythm`` (leads, n) or one lead (n,) as a finite float64 2-D array, else ValueError."""
    x = np.asarray(rhythm, dtype=np.float64)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"ECG must be a (leads, samples) array, got shape {np.shape(rhythm)}")
    if fs < 2 * _BAND[1] + 1:
        raise ValueError(f"ECG sampling rate {fs} Hz is too low; at least {2 * _BAND[1] + 1:.0f} Hz needed")
    if x.shape[1] < MIN_SECONDS * fs:
        raise ValueError(
            f"ECG strip of {x.shape[1]} samples ({x.shape[1] / fs:.2f} s at {fs} Hz) is too short; "
            f"at least {MIN_SECONDS} s is needed"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("ECG contains NaN or infinite samples")
    if np.abs(x).max() > _MAX_AMPLITUDE:
        raise ValueError(f"ECG amplitude {np.abs(x).max():.3g} is implausible (above {_MAX_AMPLITUDE:g} mV)")
    return x


def _bandpass(x: np.ndarray, fs: int) -> np.ndarray:
    """Zero-phase QRS band-pass of every lead."""
    sos = butter(2, _BAND, btype="bandpass", fs=fs, output="sos")
    return sosfiltfilt(sos, x, axis=-1)


def _envelope(y: np.ndarray, fs: int) -> np.ndarray:
    """QRS energy: squared slope summed over leads, integrated over a moving window."""
    energy = np.sum(np.gradient(y, axis=-1) ** 2, axis=0)
    width = max(int(_INTEGRATION * fs), 1)
    return np.convolve(energy, np.ones(width) / width, mode="same")


def _search_back(peaks: np.ndarray, candidates: np.ndarray, env: np.ndarray, level: float, gap: int) -> np.ndarray:
    """Add the largest candidate above ``level`` inside every RR gap that is too long."""
    if len(peaks) < 2:
        return peaks
    limit = _SEARCH_BACK * np.median(np.diff(peaks))
    found = []
    for a, b in zip(peaks[:-1], peaks[1:]):
        if b - a > limit:
            inside = candidates[(candidates > a + gap) & (candidates < b - gap)]
            inside = inside[env[inside] > level]
            if len(inside):
                found.append(inside[np.argmax(env[inside])])
    return np.sort(np.concatenate([peaks, np.asarray(found, dtype=peaks.dtype)]))


def _refine(y: np.ndarray, peaks: np.ndarray, fs: int) -> np.ndarray:
    """Move each envelope peak to the nearby maximum of the band-passed spatial magnitude."""
    magnitude = np.sqrt(np.sum(y**2, axis=0))
    half = int(0.08 * fs)
    starts = np.maximum(peaks - half, 0)
    return np.unique([s + int(np.argmax(magnitude[s : p + half + 1])) for s, p in zip(starts, peaks)]).astype(np.int64)


def _detect(x: np.ndarray, y: np.ndarray, fs: int) -> np.ndarray:
    """R peaks of the raw ``x`` given its band-passed copy ``y``."""
    if np.abs(y).max() <= 1e-9 * max(np.abs(x).max(), 1e-12):  # flat line
        return np.zeros(0, dtype=np.int64)
    env = _envelope(y, fs)
    gap = int(_REFRACTORY * fs)
    candidates, _ = find_peaks(env, distance=gap)
    if len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    level = _THRESHOLD * np.percentile(env[candidates], 90)
    peaks = _search_back(candidates[env[candidates] > level], candidates, env, level / 2.0, gap)
    peaks = _refine(y, peaks, fs)
    return peaks[np.concatenate([[True], np.diff(peaks) >= gap])] if len(peaks) else peaks


def detect_r_peaks(rhythm: np.ndarray, fs: int = ECG_FS) -> np.ndarray:
    """Sample indices of the R peaks of a (leads, n) strip; empty when no QRS is found.

    All leads are combined (squared band-passed slope), so negative, notched or broad
    complexes are found as well as tall ones; the peak is the maximum of the spatial
    QRS magnitude near the energy peak.
    """
    x = _as_leads(rhythm, fs)
    return _detect(x, _bandpass(x, fs), fs)


def heart_rate(rhythm: np.ndarray, fs: int = ECG_FS) -> float:
    """Heart rate (beats/min) from the median RR interval of the strip."""
    peaks = detect_r_peaks(rhythm, fs)
    if len(peaks) < 2:
        raise ValueError(f"cannot measure heart rate: {len(peaks)} R peak(s) found, at least 2 needed")
    return float(60.0 * fs / np.median(np.diff(peaks)))


def _windows(x: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """(beats, leads, width) windows of ``x`` starting at ``starts``."""
    return x[:, starts[:, None] + np.arange(width)].transpose(1, 0, 2)


def _fitting(positions: np.ndarray, before: int, after: int, n: int) -> np.ndarray:
    """The positions whose window [p - before, p + after) lies inside n samples."""
    return positions[(positions - before >= 0) & (positions + after <= n)]


def _align(y: np.ndarray, peaks: np.ndarray, fs: int) -> np.ndarray:
    """Shift each peak by the lag that best matches its QRS to the median QRS template."""
    lag, before, after = int(_MAX_LAG * fs), int(0.08 * fs), int(0.12 * fs)
    peaks = _fitting(peaks, before + lag, after + lag, y.shape[1])
    if len(peaks) < 2:
        return peaks
    template = np.median(_windows(y, peaks - before, before + after), axis=0)
    segments = _windows(y, peaks - before - lag, before + after + 2 * lag)
    shifted = np.lib.stride_tricks.sliding_window_view(segments, before + after, axis=-1)
    score = np.einsum("bLsw,Lw->bs", shifted, template)  # (beats, lags)
    return peaks + np.argmax(score, axis=1) - lag


def _spatial_velocity(beat: np.ndarray, fs: int) -> np.ndarray:
    """Speed of the ECG vector over all leads (mV/s), smoothed over 10 ms."""
    velocity = np.sqrt(np.sum(np.gradient(beat, axis=-1) ** 2, axis=0)) * fs
    width = max(int(0.01 * fs), 1)
    return np.convolve(velocity, np.ones(width) / width, mode="same")


def _qrs_bounds(beat: np.ndarray, fs: int, r_index: int) -> tuple[int, int]:
    """QRS onset and offset samples: the run of high spatial velocity around the R peak.

    The velocity thresholds are fractions of its peak above the isoelectric floor; dips
    shorter than ``_NOTCH`` (notches, fragmented QRS) do not end the run.
    """
    v = _spatial_velocity(beat, fs)
    lo, hi = max(r_index - int(0.1 * fs), 0), min(r_index + int(0.1 * fs) + 1, len(v))
    core = lo + int(np.argmax(v[lo:hi]))
    floor = np.percentile(v, 10)
    bridge = np.ones(int(_NOTCH * fs) + 1, bool)

    def run(fraction: float) -> np.ndarray:
        above = binary_closing(v >= floor + fraction * (v[core] - floor), bridge)
        above[core] = True
        return ~above

    before, after = np.flatnonzero(run(_ONSET_THRESHOLD)[:core]), np.flatnonzero(run(_OFFSET_THRESHOLD)[core:])
    onset = int(before[-1]) + 1 if len(before) else 0
    offset = core + int(after[0]) - 1 if len(after) else len(v) - 1
    return onset, offset


def _median_at(x: np.ndarray, peaks: np.ndarray, fs: int, n_samples: int, r_index: int) -> np.ndarray:
    """Median of the beats around ``peaks``, each baseline-corrected on its PR segment."""
    beats = _windows(x, peaks - r_index, n_samples)
    beats = beats - beats.mean(axis=-1, keepdims=True)
    onset, _ = _qrs_bounds(np.median(beats, axis=0), fs, r_index)
    pr = slice(max(onset - int(0.02 * fs), 0), max(onset - int(0.004 * fs), 1))
    return np.median(beats - beats[:, :, pr].mean(axis=-1, keepdims=True), axis=0)


def median_beat(
    rhythm: np.ndarray,
    fs: int = ECG_FS,
    n_samples: int = ECG_MEDIAN_SAMPLES,
    r_index: int = ECG_MEDIAN_R_INDEX,
) -> np.ndarray:
    """The median beat (leads, n_samples) float32 with its R peak at sample ``r_index``.

    Beats are aligned on their R peaks, refined by cross-correlation of the QRS, corrected
    for baseline on the PR segment and combined by the sample-wise median; beats that do
    not fit inside the strip are skipped. Raises ValueError when fewer than 2 beats fit.
    """
    if not 0 <= r_index < n_samples:
        raise ValueError(f"r_index {r_index} must lie inside the {n_samples}-sample median beat")
    x = _as_leads(rhythm, fs)
    y = _bandpass(x, fs)
    peaks = _align(y, _detect(x, y, fs), fs)
    after = n_samples - r_index
    peaks = _fitting(peaks, r_index, after, x.shape[1])
    if len(peaks) < 2:
        raise ValueError(
            f"cannot form a median beat: {len(peaks)} complete beat(s) of {n_samples} samples "
            "in the strip, at least 2 needed (flat line or no QRS complexes?)"
        )
    median = _median_at(x, peaks, fs, n_samples, r_index)
    magnitude = np.sqrt(np.sum(median**2, axis=0))
    half = int(_MAX_LAG * fs)
    shift = int(np.argmax(magnitude[max(r_index - half, 0) : r_index + half + 1])) - min(half, r_index)
    recentred = _fitting(peaks + shift, r_index, after, x.shape[1])
    if shift and len(recentred) >= 2:
        median = _median_at(x, recentred, fs, n_samples, r_index)
    return median.astype(np.float32)


def qrs_duration(median: np.ndarray, fs: int = ECG_FS, r_index: int = ECG_MEDIAN_R_INDEX) -> float:
    """QRS duration (ms) of a median beat, from the spatial velocity of all its leads."""
    onset, offset = _qrs_bounds(np.asarray(median, dtype=np.float64), fs, r_index)
    return 1000.0 * (offset - onset) / fs


def qt_interval(median: np.ndarray, fs: int = ECG_FS, r_index: int = ECG_MEDIAN_R_INDEX) -> float:
    """QT interval (ms) of a median beat: QRS onset to T end by the tangent method.

    The T end is where the tangent at the steepest descent of the spatial T magnitude
    after its peak meets zero (the PR baseline); the T peak is sought within 0.45 s of
    the R peak, which suits heart rates up to about 130 beats/min.
    """
    beat = np.asarray(median, dtype=np.float64)
    onset, offset = _qrs_bounds(beat, fs, r_index)
    window, raw = int(_T_SMOOTH * fs) | 1, np.sqrt(np.sum(beat**2, axis=0))
    magnitude, slope = savgol_filter(raw, window, 2), savgol_filter(raw, window, 2, deriv=1)
    start, stop = offset + int(0.04 * fs), min(r_index + int(_T_SEARCH * fs), beat.shape[-1])
    if stop - start < 3:
        raise ValueError("the median beat ends before its T wave")
    peak = start + int(np.argmax(magnitude[start:stop]))
    tail = slice(peak, min(peak + int(0.25 * fs), beat.shape[-1]))
    steepest = peak + int(np.argmin(slope[tail]))
    if slope[steepest] >= 0.0:
        raise ValueError("no descending T wave found in the median beat")
    end = steepest - magnitude[steepest] / slope[steepest]
    return 1000.0 * (end - onset) / fs
