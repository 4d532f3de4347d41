"""What the shipped demo model decodes is physiology: group prototypes and EF traversals."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.analysis.cine_metrics import ef_from_cine, lv_region


@pytest.fixture(scope="module")
def session():
    from napari_latent.cohort.synthetic import demo_cohort
    from napari_latent.explorer import Explorer

    cohort = demo_cohort(200)  # shared with the scripting guide's test through the session cache
    ex = Explorer.open(cohort, "demo")
    ex.add_group("infarct", "prior_mi")
    ex.add_group("healthy", "not (prior_mi or hypertension or lbbb or atrial_enlargement)")
    return ex, lv_region(cohort.read("labels", slice(0, 100)))


def test_image_ef_tracks_the_true_ef_on_real_cines(session):
    ex, region = session
    cines = ex.cohort.read("mri", slice(0, 100)).astype(np.float32)
    measured = [ef_from_cine(c, region) for c in cines]
    assert np.corrcoef(measured, ex.table["ef"][:100])[0, 1] > 0.7


def test_infarct_prototype_has_a_lower_ef_than_the_healthy_one(session):
    ex, region = session
    assert len(ex.group("infarct")) >= 5
    ef_infarct = ef_from_cine(ex.decode(ex.group_mean("infarct"))["mri"], region)
    ef_healthy = ef_from_cine(ex.decode(ex.group_mean("healthy"))["mri"], region)
    assert ef_infarct < ef_healthy - 0.03


def test_moving_along_the_ef_direction_raises_measured_ef_monotonically(session):
    ex, region = session
    direction = ex.direction("ef")
    z0 = ex.group_mean("healthy")
    steps = np.linspace(-0.3, 0.3, 7)  # EF units
    measured = [ef_from_cine(ex.decode(z0 + direction.offset(v))["mri"], region) for v in steps]
    assert np.all(np.diff(measured) > 0), measured
