"""The synthetic 4-chamber cine: physiology read back from its labels, image sanity, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.cohort.schema import LABELS, MRI_FRAMES, MRI_PIXEL_SPACING_MM, MRI_SIZE
from napari_latent.cohort.synthetic.cine import (
    ef_from_labels,
    es_frame,
    filling_fraction,
    lv_area_curve,
    lv_length_curve,
    lv_volume_curve,
    synthesize_cine,
)
from napari_latent.cohort.synthetic.factors import SubjectFactors, sample_factors, subject_rng

N_SUBJECTS = 60


def _render(seed: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    return synthesize_cine(sample_factors(seed, index), subject_rng(seed, index, stream=2))


@pytest.fixture(scope="module")
def cohort() -> list[tuple[SubjectFactors, np.ndarray, np.ndarray]]:
    """(factors, cine, labels) of the first subjects of seed 0."""
    return [(sample_factors(0, i), *_render(0, i)) for i in range(N_SUBJECTS)]


def _perimeter(mask: np.ndarray) -> np.ndarray:
    """Boundary length (pixel edges) of a (frames, rows, cols) mask per frame."""
    return (mask[:, 1:] != mask[:, :-1]).sum(axis=(1, 2)) + (mask[:, :, 1:] != mask[:, :, :-1]).sum(axis=(1, 2))


def _cyclic_offset(a: int, b: int, n: int = MRI_FRAMES) -> int:
    return abs((a - b + n // 2) % n - n // 2)


def test_shapes_dtypes_and_range(cohort):
    for _, cine, labels in cohort[:10]:
        assert cine.shape == labels.shape == (MRI_FRAMES, MRI_SIZE, MRI_SIZE)
        assert cine.dtype == np.float32 and labels.dtype == np.uint8
        assert np.isfinite(cine).all() and cine.min() >= 0.0 and cine.max() <= 1.0
        assert set(np.unique(labels)) <= set(LABELS)


def test_all_labels_present_at_end_diastole(cohort):
    for _, _, labels in cohort:
        assert set(np.unique(labels[0])) == set(LABELS)


def test_same_seed_and_index_give_identical_bytes():
    a, b = _render(3, 17), _render(3, 17)
    assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
    assert _render(3, 18)[0].tobytes() != a[0].tobytes()


def test_ef_from_labels_tracks_true_ef(cohort):
    measured = np.array([ef_from_labels(labels) for _, _, labels in cohort])
    true = np.array([f.ef for f, _, _ in cohort])
    assert np.corrcoef(measured, true)[0, 1] > 0.95
    assert np.abs(measured - true).mean() < 0.03


def test_label_volume_matches_lvedv(cohort):
    ratio = np.array([lv_volume_curve(labels)[0] / f.lvedv for f, _, labels in cohort])
    assert 0.9 < ratio.mean() < 1.1 and ratio.std() < 0.03


def test_end_systole_at_qt_over_rr(cohort):
    for f, _, labels in cohort:
        assert _cyclic_offset(int(np.argmin(lv_volume_curve(labels))), es_frame(f)) <= 2


def test_es_frame_from_qt_and_rr():
    f = sample_factors(0, 5)
    assert es_frame(f) == round(MRI_FRAMES * (f.qt / 1000.0) / f.rr)


def test_filling_fraction_is_smooth_and_periodic():
    f = sample_factors(0, 1)
    t = np.linspace(0.0, 1.0, 2001)
    s = filling_fraction(f, t)
    assert s[0] == pytest.approx(1.0) and s[-1] == pytest.approx(1.0)
    assert s.min() == pytest.approx(0.0, abs=1e-4) and 0.0 <= s.min() and s.max() <= 1.0
    assert abs(t[np.argmin(s)] - es_frame(f) / MRI_FRAMES) < 1.0 / MRI_FRAMES
    assert np.abs(np.diff(s)).max() < 0.01  # no jumps


def test_myocardial_area_constant_and_wall_thickens(cohort):
    for f, _, labels in cohort:
        myo = (labels == 2).sum(axis=(1, 2)).astype(float)
        assert myo.std() / myo.mean() < 0.1
        thickness = myo / _perimeter(labels == 1)
        es = es_frame(f)
        assert thickness[es] > thickness[0]


def test_atria_fill_while_ventricles_empty(cohort):
    for f, _, labels in cohort:
        es = es_frame(f)
        for label in (4, 5):
            area = (labels == label).sum(axis=(1, 2))
            assert area[es] > area[0]
        rv = (labels == 3).sum(axis=(1, 2))
        assert rv[es] < rv[0]


def test_hypertension_thickens_the_myocardium(cohort):
    myo = np.array([(labels[0] == 2).sum() for _, _, labels in cohort]) * MRI_PIXEL_SPACING_MM**2
    htn = np.array([f.hypertension for f, _, _ in cohort])
    assert 0 < htn.sum() < len(htn)
    assert myo[htn].mean() > myo[~htn].mean()


def test_cycle_loops_smoothly(cohort):
    for _, _, labels in cohort:
        area = lv_area_curve(labels)
        assert abs(area[-1] - area[0]) / area[0] < 0.03
        assert np.abs(np.diff(area)).max() / area.max() < 0.1


def test_intensities_blood_bright_myocardium_by_contrast(cohort):
    for f, cine, labels in cohort[:10]:
        blood = np.median(cine[labels == 1])
        assert 0.75 < blood < 0.95
        assert np.median(cine[labels == 2]) / blood == pytest.approx(f.mri_contrast, abs=0.06)


def test_area_length_on_a_hand_made_mask():
    labels = np.zeros((1, 40, 40), dtype=np.uint8)
    labels[0, 5:25, 10:20] = 1  # LV: 20 rows tall, 10 wide
    labels[0, 25:32, 11:19] = 4  # LA below, touching along row 24/25
    assert lv_area_curve(labels, 2.0)[0] == 200 * 4.0
    length = lv_length_curve(labels, 2.0)[0]  # mitral midpoint (24.5, 14.5) to corner (5, 10) + 1/2 px
    assert length == pytest.approx(2.0 * (np.hypot(19.5, 4.5) + 0.5))
    assert lv_volume_curve(labels, 2.0)[0] == pytest.approx(8 * 800.0**2 / (3 * np.pi * length) / 1000)
