"""The decoded views show what the decoded heart measures, an atypical-input badge and the posterior uncertainty."""

from __future__ import annotations

import numpy as np
import pytest

from napari_latent.analysis.typicality import flip_cine, mains_hum
from napari_latent.widgets.views.decoded_views import DecodedViews
from napari_latent.widgets.views.semantics_overlay import UNCERTAINTY_LAYER


@pytest.fixture(scope="module")
def odd_session():
    """The demo model over 12 demo subjects, of which subject 5 was recorded oddly (mirrored cine, mains hum)."""
    from napari_latent.cohort import Cohort
    from napari_latent.cohort.synthetic import demo_cohort
    from napari_latent.explorer import Explorer

    demo = demo_cohort(200)
    idx = np.arange(12)
    mri = demo.read("mri", idx).astype(np.float32)
    ecg = demo.read("ecg_median", idx).astype(np.float32)
    mri[5], ecg[5] = flip_cine(mri[5]), mains_hum(ecg[5])
    cohort = Cohort.from_arrays(
        demo.subjects.iloc[idx].reset_index(drop=True), ecg_median=ecg, mri=mri, labels=demo.read("labels", idx)
    )
    return Explorer.open(cohort, "demo")


@pytest.fixture
def views(make_napari_viewer_proxy, odd_session, qtbot):
    viewer = make_napari_viewer_proxy()
    views = DecodedViews(odd_session, viewer)
    qtbot.addWidget(views.widget)
    yield views
    views.close()


def test_the_badge_appears_for_an_atypical_input_only(views, odd_session, qtbot) -> None:
    overlay = views.semantics
    assert odd_session.table["typicality"].iloc[5] >= 95
    with qtbot.waitSignal(overlay.assessed, timeout=20000):
        odd_session.focus(5)
    assert overlay.badge_visible and "atypical" in overlay.badge.text()
    with qtbot.waitSignal(overlay.assessed, timeout=20000):
        odd_session.focus(2)
    assert odd_session.table["typicality"].iloc[2] < 95
    assert not overlay.badge_visible


def test_measurements_of_the_edited_decode_are_shown_beside_the_recorded_values(views, odd_session, qtbot) -> None:
    overlay = views.semantics
    with qtbot.waitSignal(overlay.measured, timeout=20000):
        odd_session.focus(3)
    text = overlay.label.text()
    for name in ("EDV", "ESV", "EF", "QRS", "QT", "axis"):
        assert name in text
    recorded = odd_session.recorded(3)
    assert f"({recorded['lvedv']:.0f} mL)" in text
    assert not overlay.curve.pixmap().isNull()
    edv_before = overlay.last.values["lvedv"]
    direction = odd_session.direction("lvedv")
    with qtbot.waitSignal(overlay.measured, timeout=20000):
        odd_session.latent = odd_session.latent + direction.offset(30.0)
    # +30 mL on the slider moves the measured EDV the same way (one subject, a 12-subject calibration: loose)
    assert overlay.last.values["lvedv"] - edv_before > 10.0


def test_uncertainty_layer_and_ecg_band(views, odd_session, qtbot) -> None:
    overlay = views.semantics
    with qtbot.waitSignal(views.subject_shown, timeout=20000):
        odd_session.focus(1)
    with qtbot.waitSignal(overlay.uncertainty_shown, timeout=30000):
        overlay.toggle.setChecked(True)
    layer = views.viewer.layers[UNCERTAINTY_LAYER]
    assert layer.data.shape == (50, 96, 96) and layer.blending == "additive"
    np.testing.assert_array_equal(layer.translate, views.layers["reconstruction"].translate)
    assert {"uncertainty +2 SD", "uncertainty −2 SD"} <= set(views.ecg_plot.traces)
    overlay.toggle.setChecked(False)
    assert UNCERTAINTY_LAYER not in [lay.name for lay in views.viewer.layers]
