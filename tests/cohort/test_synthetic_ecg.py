"""Physiology of the synthetic ECG, checked with the ECG processing a real system would use."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from napari_latent.cohort.ecg_processing import (
    detect_r_peaks,
    heart_rate,
    median_beat,
    qrs_duration,
    qt_interval,
)
from napari_latent.cohort.schema import ECG_FS, ECG_MEDIAN_R_INDEX, ECG_MEDIAN_SAMPLES, LEADS
from napari_latent.cohort.synthetic.ecg import beat_times, synthesize_ecg
from napari_latent.cohort.synthetic.factors import SubjectFactors, sample_factors, subject_rng

SEED = 0
ECG_STREAM = 1
N_SUBJECTS = 40
N_LBBB = 6
LEAD = {name: i for i, name in enumerate(LEADS)}


def _ecg(seed: int, index: int) -> np.ndarray:
    return synthesize_ecg(sample_factors(seed, index), subject_rng(seed, index, ECG_STREAM))


def _lbbb_indices(n: int) -> list[int]:
    """The first ``n`` subject indices of the cohort that have left bundle branch block."""
    found, index = [], 0
    while len(found) < n:
        if sample_factors(SEED, index).lbbb:
            found.append(index)
        index += 1
    return found


@pytest.fixture(scope="module")
def cohort() -> list[tuple[int, SubjectFactors, np.ndarray, np.ndarray]]:
    """(index, factors, rhythm, median) of the first subjects plus a few with LBBB."""
    indices = list(range(N_SUBJECTS)) + _lbbb_indices(N_LBBB)
    out = []
    for i in indices:
        rhythm = _ecg(SEED, i)
        out.append((i, sample_factors(SEED, i), rhythm, median_beat(rhythm)))
    return out


def test_heart_rate_matches_factor(cohort):
    """Heart rate from the median detected RR is within 2 bpm of ``f.heart_rate``.

    The generator makes the mean RR of the strip exactly 60 / heart_rate; what is left is
    the subject's RR variability (``f.rr_sd``) seen through a median of ~10 intervals.
    """
    for i, f, rhythm, _ in cohort[:N_SUBJECTS]:
        assert heart_rate(rhythm) == pytest.approx(f.heart_rate, abs=2.0), f"subject {i}"


def test_detected_beats_are_the_true_beats(cohort):
    """Every beat is found once, at a fixed delay after its true QRS onset (RR to 6 ms).

    Complexes cut by the ends of the strip (within 0.1 s) may be found or not.
    """
    edge = int(0.1 * ECG_FS)
    for i, f, rhythm, _ in cohort:
        onsets = beat_times(f, subject_rng(SEED, i, ECG_STREAM)) * ECG_FS
        peaks = detect_r_peaks(rhythm)
        peaks = peaks[(peaks >= edge) & (peaks < rhythm.shape[1] - edge)]
        beat = np.searchsorted(onsets, peaks) - 1
        delay = peaks - onsets[beat]
        assert len(np.unique(beat)) == len(peaks), f"subject {i}: a beat detected twice"
        assert np.ptp(delay) <= 3, f"subject {i}: R peak jitters by {np.ptp(delay):.1f} samples"
        r_true = onsets + np.median(delay)
        visible = np.flatnonzero((r_true >= 1.5 * edge) & (r_true < rhythm.shape[1] - 1.5 * edge))
        assert set(visible) <= set(beat), f"subject {i}: missed beats {set(visible) - set(beat)}"


def test_limb_leads_obey_einthoven_and_goldberger(cohort):
    for i, _, x, _ in cohort[:10]:
        lead_i, lead_ii = x[LEAD["I"]], x[LEAD["II"]]
        atol = 4 * np.finfo(np.float32).eps * np.abs(x).max()
        np.testing.assert_allclose(lead_i + x[LEAD["III"]], lead_ii, rtol=0, atol=atol)
        np.testing.assert_allclose(x[LEAD["aVR"]], -(lead_i + lead_ii) / 2, rtol=0, atol=atol)
        np.testing.assert_allclose(x[LEAD["aVL"]], lead_i - lead_ii / 2, rtol=0, atol=atol)
        np.testing.assert_allclose(x[LEAD["aVF"]], lead_ii - lead_i / 2, rtol=0, atol=atol)
        assert x.dtype == np.float32 and x.shape == (12, 5000), f"subject {i}"


def test_qrs_is_wide_in_lbbb_and_tracks_the_factor(cohort):
    measured = np.array([qrs_duration(m) for *_, m in cohort])
    truth = np.array([f.qrs_duration for _, f, *_ in cohort])
    lbbb = np.array([f.lbbb for _, f, *_ in cohort])
    assert lbbb.sum() == N_LBBB
    assert measured[lbbb].min() > measured[~lbbb].max()
    assert measured[lbbb].mean() - measured[~lbbb].mean() > 40.0
    assert np.corrcoef(measured, truth)[0, 1] > 0.95
    assert np.corrcoef(measured[~lbbb], truth[~lbbb])[0, 1] > 0.85
    assert np.abs(measured - truth).max() < 25.0


def test_qt_ends_where_the_factor_says(cohort):
    """Tangent-method QT on the median beat matches ``f.qt`` (the cine's end-systole)."""
    for i, f, _, median in cohort:
        assert qt_interval(median) == pytest.approx(f.qt, abs=15.0), f"subject {i}"


def test_median_beat_has_its_r_peak_at_r_index(cohort):
    for i, _, _, median in cohort:
        assert median.shape == (12, ECG_MEDIAN_SAMPLES) and median.dtype == np.float32
        magnitude = np.sqrt(np.sum(median.astype(np.float64) ** 2, axis=0))
        assert np.argmax(magnitude) == ECG_MEDIAN_R_INDEX, f"subject {i}"


def _qrs(median: np.ndarray, lead: str) -> tuple[float, float]:
    """(largest positive, largest negative) deflection of the QRS of one lead."""
    q = median[LEAD[lead], ECG_MEDIAN_R_INDEX - 60 : ECG_MEDIAN_R_INDEX + 60]
    return float(q.max()), float(q.min())


def test_normal_morphology(cohort):
    """Upright QRS in II, V5, V6; negative in aVR; rS in V1; R grows from V1 to V4."""
    normal = [m for _, f, _, m in cohort if not (f.lbbb or f.prior_mi) and 0 < f.qrs_axis < 90]
    assert len(normal) > 25
    for m in normal:
        for lead in ("II", "V5", "V6"):
            up, down = _qrs(m, lead)
            assert up > 0.3 and up > -down, lead
        up, down = _qrs(m, "aVR")
        assert -down > up
        r_v1, s_v1 = _qrs(m, "V1")
        assert 0.03 < r_v1 < -s_v1
        assert _qrs(m, "V4")[0] > 2 * r_v1


def test_lbbb_morphology(cohort):
    """Deep broad S in V1, upright QRS in I and V6 without septal q, T discordant in V6."""
    for i, f, _, m in cohort:
        if not f.lbbb:
            continue
        r_v1, s_v1 = _qrs(m, "V1")
        assert -s_v1 > 3 * max(r_v1, 0.05), f"subject {i}"
        for lead in ("I", "V6"):
            up, down = _qrs(m, lead)
            assert up > 3 * max(-down, 0.05), f"subject {i} {lead}"
        t_v6 = m[LEAD["V6"], ECG_MEDIAN_R_INDEX + 60 : ECG_MEDIAN_R_INDEX + 200].mean()
        assert t_v6 < -0.05, f"subject {i}"


def test_lv_mass_raises_qrs_voltage(cohort):
    normal = [(f, m) for _, f, _, m in cohort if not f.lbbb]
    voltage = [np.sqrt(np.sum(m[:, ECG_MEDIAN_R_INDEX] ** 2)) for _, m in normal]
    mass = [f.lv_mass for f, _ in normal]
    assert np.corrcoef(np.log(mass), np.log(voltage))[0, 1] > 0.5


def test_same_seed_same_bytes_other_seed_differs():
    assert _ecg(3, 5).tobytes() == _ecg(3, 5).tobytes()
    assert not np.array_equal(_ecg(3, 5), _ecg(4, 5))
    assert not np.array_equal(_ecg(3, 5), _ecg(3, 6))


@pytest.mark.parametrize("func", [median_beat, heart_rate])
def test_flat_line_is_refused(func):
    with pytest.raises(ValueError, match="at least 2"):
        func(np.zeros((12, 5000), np.float32))


@pytest.mark.parametrize("func", [detect_r_peaks, median_beat, heart_rate])
def test_too_short_or_invalid_strip_is_refused(func):
    with pytest.raises(ValueError, match="too short"):
        func(np.zeros((12, 100), np.float32))
    bad = _ecg(SEED, 0)
    bad[3, 100] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        func(bad)


def test_median_beat_needs_two_complete_beats():
    one_beat = _ecg(SEED, 0)[:, : int(1.6 * ECG_FS)]
    with pytest.raises(ValueError, match="complete beat"):
        median_beat(one_beat)


def _check_processing(x: np.ndarray) -> None:
    """detect_r_peaks and median_beat either return a sane result or raise ValueError."""
    try:
        peaks = detect_r_peaks(x)
    except ValueError:
        return
    assert peaks.ndim == 1 and np.all(np.diff(peaks) > 0)
    assert np.all((peaks >= 0) & (peaks < x.shape[-1]))
    try:
        median = median_beat(x)
    except ValueError:
        return
    assert median.shape == (x.shape[0], ECG_MEDIAN_SAMPLES) and median.dtype == np.float32


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    leads=st.integers(1, 12),
    seconds=st.floats(0.0, 6.0),
    scale=st.floats(1e-9, 1e4),
    kind=st.sampled_from(["noise", "spikes", "sine", "steps"]),
)
def test_processing_survives_random_signals(seed, leads, seconds, scale, kind):
    rng = np.random.default_rng(seed)
    n = int(seconds * ECG_FS)
    t = np.arange(n) / ECG_FS
    if kind == "noise":
        x = rng.standard_normal((leads, n))
    elif kind == "spikes":
        x = (rng.random((leads, n)) < rng.uniform(0.0, 0.01)) * rng.standard_normal((leads, n))
    elif kind == "sine":
        x = np.sin(2 * np.pi * rng.uniform(0.1, 60.0, (leads, 1)) * t)
    else:
        x = np.cumsum(rng.random((leads, n)) < 0.002, axis=1).astype(float)
    _check_processing(scale * x)


@settings(max_examples=30, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 3), st.integers(0, 1500)),
        elements=st.floats(allow_nan=False, allow_infinity=False),
    )
)
def test_processing_survives_arbitrary_finite_arrays(x):
    _check_processing(x)
