"""Synthetic 12-lead resting ECG from a 3-D heart-vector (dipole) model.

Each beat is a sum of Gaussian waves (P, Q, R, S, T), each with its own 3-D direction,
amplitude, width and timing, in Frank coordinates (X left, Y inferior, Z posterior). The
heart vector is projected onto I, II and V1-V6 with the Dower matrix; III, aVR, aVL and aVF
are then derived from I and II, so Einthoven's and Goldberger's relations hold exactly.
All timings and directions are functions of one :class:`SubjectFactors`; ``rng`` only adds
beat-to-beat variability, baseline wander and noise. The T wave ends (as the tangent method
reads it) exactly at QRS onset + ``f.qt``, where the cine places end-systole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import ECG_FS, ECG_RHYTHM_SAMPLES
from .factors import SubjectFactors

__all__ = ["DOWER", "T_END_SIGMAS", "synthesize_ecg", "beat_times"]

#: Dower matrix (Dower, Machado & Osborne 1980): rows I, II, V1..V6; columns Frank X, Y, Z.
DOWER = np.array(
    [
        [0.632, -0.235, 0.059],  # I
        [0.235, 1.066, -0.132],  # II
        [-0.515, 0.157, -0.917],  # V1
        [0.044, 0.164, -1.387],  # V2
        [0.882, 0.098, -1.277],  # V3
        [1.213, 0.127, -0.601],  # V4
        [1.125, 0.127, -0.086],  # V5
        [0.831, 0.076, 0.230],  # V6
    ]
)

#: The T wave ends this many (descending) widths after its peak: where the tangent at its
#: steepest descent meets the baseline, as the tangent method of QT measurement reads it.
T_END_SIGMAS = 2.0
_REF_LV_MASS = 120.0  # g, LV mass of a typical subject of the cohort
_REF_BMI = 26.5  # kg/m^2, BMI of a typical subject of the cohort
_MARGIN = 0.25  # s, the part of a beat's window before its P wave and after its T wave


@dataclass(frozen=True)
class _Waves:
    """The waves of one beat; times in s from QRS onset, vectors in mV (Frank X, Y, Z)."""

    centre: np.ndarray  # (W,)
    sigma_up: np.ndarray  # (W,) width before the peak
    sigma_down: np.ndarray  # (W,) width after the peak
    vector: np.ndarray  # (W, 3) amplitude times direction


_Wave = tuple[float, float, float, np.ndarray]  # centre, sigma up, sigma down, vector


def _unit(v: np.ndarray | list[float]) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _frontal(axis_deg: float, posterior: float) -> np.ndarray:
    """Unit vector with Z = ``posterior`` * X whose frontal axis, read from I and aVF, is ``axis_deg``.

    Fixing the horizontal-plane orientation (Z/X) makes the Dower rows of I and aVF
    (= II - I/2) a 2x2 linear system in X and Y, solved exactly.
    """
    rows = np.array([DOWER[0], DOWER[1] - DOWER[0] / 2.0])  # I, aVF
    a = np.radians(axis_deg)
    x, y = np.linalg.solve(rows[:, :2] + np.outer(rows[:, 2], [posterior, 0.0]), [np.cos(a), np.sin(a)])
    return _unit([x, y, posterior * x])


def _voltage(f: SubjectFactors) -> float:
    """QRS voltage scale: grows with LV mass, falls with body mass index (insulation)."""
    return float((f.lv_mass / _REF_LV_MASS) ** 0.6 * (_REF_BMI / f.bmi) ** 0.4)


def _p_waves(f: SubjectFactors) -> list[_Wave]:
    """Right- then left-atrial components; larger atria give a wider, taller, more bifid P."""
    pr = f.pr_interval / 1000.0
    dur = min(0.1 * f.atrial_scale**0.7, pr - 0.035)  # P duration, s
    onset = -pr
    amp = 0.11 * f.atrial_scale**0.8
    la = amp * (0.9 + 0.6 * max(f.atrial_scale - 1.0, 0.0))
    return [
        (onset + 0.35 * dur, 0.16 * dur, 0.16 * dur, amp * _unit([0.35, 1.0, -0.45])),
        (onset + 0.62 * dur, 0.17 * dur, 0.17 * dur, la * _unit([0.8, 0.55, 0.65])),
    ]


def _normal_qrs(f: SubjectFactors, volt: float) -> list[_Wave]:
    """Septal q (right-anterior), main R, terminal S (right-superior-posterior)."""
    d = f.qrs_duration / 1000.0
    rv = f.rv_scale - 1.0
    r_dir = _unit(_frontal(f.qrs_axis, 0.8) + 1.6 * rv * np.array([-0.4, 0.2, -1.0]))
    q_dir = _unit([-0.5, 0.3, -1.0])
    r_amp = 1.45 * volt
    q_amp = 0.17 * volt
    s_amp = 0.5 * volt * (1.0 + 2.0 * max(rv, 0.0))
    if f.prior_mi:  # anterior scar: initial forces point away from it, anterior R is lost
        q_dir = _unit([-0.3, -0.2, 1.0])
        q_amp = 0.45 * volt
        r_dir = _unit(r_dir + np.array([0.0, 0.0, 0.45]))
        r_amp *= 0.8
    return [
        (0.18 * d, 0.07 * d, 0.07 * d, q_amp * q_dir),
        (0.46 * d, 0.11 * d, 0.11 * d, r_amp * r_dir),
        (0.76 * d, 0.085 * d, 0.085 * d, s_amp * _unit([-0.55, -0.25, 0.75])),
    ]


def _lbbb_qrs(f: SubjectFactors, volt: float) -> list[_Wave]:
    """Septum activated left to right: no septal q, two broad leftward-posterior humps."""
    d = f.qrs_duration / 1000.0
    r1 = _unit(_frontal(f.qrs_axis + 10.0, 1.0))
    r2 = _unit(_frontal(f.qrs_axis - 10.0, 1.5))
    return [
        (0.33 * d, 0.13 * d, 0.13 * d, 1.2 * volt * r1),
        (0.64 * d, 0.13 * d, 0.13 * d, 1.3 * volt * r2),
    ]


def _t_wave(f: SubjectFactors, qrs: list[_Wave]) -> _Wave:
    """Asymmetric T (slow rise, faster fall) that ends exactly at QRS onset + QT."""
    qt = f.qt / 1000.0
    down = 0.22 * qt / T_END_SIGMAS
    peak = qt - T_END_SIGMAS * down
    if f.lbbb:  # secondary repolarisation change: T discordant to the QRS, early ST shift
        direction = -_unit(sum(w[3] for w in qrs))
        amp, up = 0.45, 0.55 * (peak - f.qrs_duration / 1000.0)
    else:
        direction = _frontal(0.5 * f.qrs_axis + 20.0, -0.35)
        amp, up = 0.32, 1.6 * down
        if f.prior_mi:  # persistent T inversion over the anterior scar
            direction = _unit(direction + np.array([0.0, 0.0, 0.8]))
    return (peak, up, down, amp * direction)


def _beat_waves(f: SubjectFactors) -> _Waves:
    """All waves of one beat of this subject (LBBB raises QRS voltage by a third)."""
    volt = _voltage(f)
    qrs = _lbbb_qrs(f, volt * 1.35) if f.lbbb else _normal_qrs(f, volt)
    waves = _p_waves(f) + qrs + [_t_wave(f, qrs)]
    centre, up, down, vec = zip(*waves)
    return _Waves(np.array(centre), np.array(up), np.array(down), np.array(vec))


def beat_times(f: SubjectFactors, rng: np.random.Generator) -> np.ndarray:
    """QRS onset times (s) of every beat touching the 10 s strip, including ones before it.

    RR intervals vary by ``f.rr_sd`` (respiratory sinus arrhythmia plus random jitter) around
    a mean of exactly ``60 / f.heart_rate``; the strip starts at a random phase of the cycle.
    This draws the first numbers of ``rng`` exactly as :func:`synthesize_ecg` does.
    """
    rr = f.rr
    duration = ECG_RHYTHM_SAMPLES / ECG_FS
    start = -rng.random() * rr - _MARGIN - f.qt / 1000.0
    end = duration + f.pr_interval / 1000.0 + _MARGIN
    n = int(np.ceil((end - start) / rr)) + 2
    phase, f_resp = rng.uniform(0.0, 2.0 * np.pi), rng.uniform(0.18, 0.33)
    rsa = np.sqrt(1.2) * np.sin(2.0 * np.pi * f_resp * rr * np.arange(n) + phase)
    z = rsa + np.sqrt(0.4) * rng.standard_normal(n)
    intervals = rr * (1.0 + f.rr_sd * (z - z.mean()))
    onsets = start + np.concatenate([[0.0], np.cumsum(intervals[:-1])])
    return onsets[onsets < end]


def _heart_vector(f: SubjectFactors, onsets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The heart vector (3, n) of all beats, evaluated per beat on a local window."""
    waves = _beat_waves(f)
    first = -f.pr_interval / 1000.0 - _MARGIN
    width = int(np.ceil((f.qt / 1000.0 + _MARGIN - first) * ECG_FS))
    start = np.floor((onsets + first) * ECG_FS).astype(int)  # (K,)
    idx = start[:, None] + np.arange(width)  # (K, L) sample indices
    dt = idx[None] / ECG_FS - onsets[None, :, None] - waves.centre[:, None, None]  # (W, K, L)
    sigma = np.where(dt < 0.0, waves.sigma_up[:, None, None], waves.sigma_down[:, None, None])
    shape = np.exp(-0.5 * (dt / sigma) ** 2)
    # respiration modulates QRS-T amplitude by 4 %
    breath = 1.0 + 0.04 * np.sin(2.0 * np.pi * rng.uniform(0.18, 0.33) * onsets + rng.uniform(0, 2 * np.pi))
    beats = np.einsum("wkl,wc,k->ckl", shape, waves.vector, breath)  # (3, K, L)
    inside = (idx >= 0) & (idx < ECG_RHYTHM_SAMPLES)
    return np.stack(
        [np.bincount(idx[inside], beats[c][inside], minlength=ECG_RHYTHM_SAMPLES) for c in range(3)]
    )


def _wander_and_noise(rng: np.random.Generator, n_leads: int) -> np.ndarray:
    """Baseline wander (respiration + slow drift), white noise and 50 Hz mains, (n_leads, n)."""
    t = np.arange(ECG_RHYTHM_SAMPLES) / ECG_FS
    freqs = np.array([rng.uniform(0.15, 0.35), rng.uniform(0.03, 0.1)])
    amps = rng.uniform(0.0, 1.0, (n_leads, 2)) * np.array([0.08, 0.12])
    phases = rng.uniform(0.0, 2.0 * np.pi, (n_leads, 2))
    wander = np.einsum("lk,lkn->ln", amps, np.sin(2.0 * np.pi * freqs[None, :, None] * t + phases[..., None]))
    mains = rng.uniform(0.0, 0.012) * np.sin(2.0 * np.pi * 50.0 * t + rng.uniform(0.0, 2.0 * np.pi))
    white = rng.uniform(0.004, 0.015) * rng.standard_normal((n_leads, ECG_RHYTHM_SAMPLES))
    return wander + white + mains * rng.uniform(0.3, 1.0, (n_leads, 1))


def synthesize_ecg(f: SubjectFactors, rng: np.random.Generator) -> np.ndarray:
    """The 10 s, 500 Hz, 12-lead rhythm strip (12, 5000) float32 in mV, leads in ``LEADS`` order."""
    onsets = beat_times(f, rng)
    independent = DOWER @ _heart_vector(f, onsets, rng) + _wander_and_noise(rng, len(DOWER))
    i, ii = independent[:2].astype(np.float32)
    limb = np.stack([i, ii, ii - i, -(i + ii) / np.float32(2), i - ii / np.float32(2), ii - i / np.float32(2)])
    return np.concatenate([limb, independent[2:].astype(np.float32)])
