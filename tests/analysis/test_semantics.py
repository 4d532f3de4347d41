"""Latent semantics of the shipped demo model: calibrated directions, measurements, typicality, uncertainty."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.analysis import typicality as ood


@pytest.fixture(scope="module")
def ex():
    from napari_latent.cohort.synthetic import demo_cohort
    from napari_latent.explorer import Explorer

    return Explorer.open(demo_cohort(200), "demo")


@pytest.fixture(scope="module")
def held_out(ex):
    """The demo model's held-out subjects within this cohort (from its checkpoint's split)."""
    import json

    val = ex.model.info["data"]["val_indices"]
    val = np.asarray(json.loads(val) if isinstance(val, str) else val)
    return val[val < len(ex.cohort)]


@pytest.mark.parametrize("column", ["lvedv", "ef"])
def test_the_slider_moves_the_measured_decoded_heart_by_its_label(ex, held_out, column):
    direction = ex.direction(column)
    assert direction.method == "calibrated" and direction.measure in ("edv", "ef")
    sd = float(ex.table[column].std())
    measured = []
    for i in held_out[:12]:
        z = ex.latents()[i]
        lo = ex.measure(ex.decode(z + direction.offset(-sd))).values[column]
        hi = ex.measure(ex.decode(z + direction.offset(+sd))).values[column]
        measured.append((hi - lo) / (2 * sd))
    # the decoded heart changes by the label (in the table's units through the cohort's own relation)
    assert 0.6 < np.median(measured) < 1.4, measured
    assert 0.7 <= direction.faithfulness <= 1.3
    probe = ex.direction(column, method="probe")  # the probe's gradient barely moves the decoder
    z = ex.latents()[held_out[0]]
    moved = ex.measure(ex.decode(z + probe.offset(sd))).values[column] - ex.measure(ex.decode(z)).values[column]
    assert abs(moved) < 0.3 * sd


def test_measurements_of_reconstructions_follow_the_recorded_values(ex, held_out):
    rows = held_out[:20]
    got = [ex.measure(ex.reconstruct(int(i))).values for i in rows]
    recorded = [ex.recorded(int(i)) for i in rows]
    for column, r_min in (("lvedv", 0.85), ("qt", 0.85)):
        a, b = [g[column] for g in got], [r[column] for r in recorded]
        assert np.corrcoef(a, b)[0, 1] > r_min, (column, a, b)
    m = ex.measure(ex.reconstruct(int(rows[0])))
    assert m.area_curve.shape == (50,) and m.area_curve.max() > m.area_curve.min() > 0


def test_assess_separates_out_of_distribution_inputs_from_held_out_subjects(ex, held_out):
    ecg = ex.cohort.read("ecg_median", held_out[:30]).astype(np.float32)
    mri = ex.cohort.read("mri", held_out[:30]).astype(np.float32)
    typical = ex.assess(ecg=ecg, mri=mri)
    assert np.mean(typical.typical) >= 0.85
    one = ex.assess(ecg=ecg[0])
    assert 0 <= one.percentile <= 100 and isinstance(one.typical, bool)
    ood_sets = {
        "wrong lead order": dict(ecg=ood.wrong_lead_order(ecg[:10])),
        "50 Hz mains": dict(ecg=ood.mains_hum(ecg[:10])),
        "amplitude x3": dict(ecg=3 * ecg[:10]),
        "rotated cine": dict(mri=ood.rotate_cine(mri[:10])),
        "non-cardiac image": dict(mri=np.stack([ood.non_cardiac_cine(k) for k in range(5)])),
    }
    for name, kwargs in ood_sets.items():
        assert np.mean(~ex.assess(**kwargs).typical) >= 0.9, name


def test_every_subject_has_a_typicality_for_colouring_and_selection(ex):
    col = ex.table["typicality"]
    assert col.notna().all() and col.between(0, 100).all()
    assert len(ex.select("typicality >= 95")) < 0.2 * len(ex.cohort)


def test_posterior_uncertainty_of_a_subject_and_of_a_translation(ex):
    u = ex.uncertainty(3, samples=8)
    assert u.std["mri"].shape == (50, 96, 96) and u.std["ecg"].shape == (12, 600)
    assert u.std["mri"].max() > 0 and (u.std["mri"] >= 0).all()
    again = ex.uncertainty(3, samples=8)
    np.testing.assert_array_equal(u.std["mri"], again.std["mri"])  # a fixed seed: the same picture
    s = ex.cohort.subject(3)
    translation = ex.uncertainty(ecg=np.asarray(s.ecg_median, np.float32), samples=8)
    assert translation.space == "ecg" and translation.std["mri"].shape == (50, 96, 96)
    assert np.isfinite(translation.std["mri"]).all() and translation.std["mri"].max() > 0
    assert not np.allclose(translation.std["mri"], u.std["mri"])  # a different posterior, a different picture
