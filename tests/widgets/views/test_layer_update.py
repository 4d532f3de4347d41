"""Cheap layer updates: same-shaped decodes are copied into the layer's own array, never into the caller's."""

from __future__ import annotations

import numpy as np

from napari_latent.widgets.plots.layer_update import replace_in_place


def test_a_new_subject_replaces_the_layers_in_place_and_leaves_the_cohort_alone(views, explorer, qtbot) -> None:
    with qtbot.waitSignal(views.subject_shown, timeout=30000):
        explorer.focus(0)
    first = explorer.cohort.subject(0).mri.astype(np.float32)
    layer = views.layers["original"]
    buffer = layer.data
    with qtbot.waitSignal(views.subject_shown, timeout=30000):
        explorer.focus(1)
    assert views.layers["original"] is layer and layer.data is buffer  # updated in place
    np.testing.assert_allclose(layer.data, explorer.cohort.subject(1).mri.astype(np.float32))
    np.testing.assert_array_equal(explorer.cohort.subject(0).mri.astype(np.float32), first)  # the cohort is untouched
    assert tuple(layer.contrast_limits) == (0.0, 1.0)  # fixed, not re-derived from the data


def test_the_edited_layer_follows_the_latent_and_its_thumbnail_catches_up(views, explorer, qtbot) -> None:
    with qtbot.waitSignal(views.edited_shown, timeout=30000):
        explorer.focus(0)
    layer = views.layers["edited"]
    thumbnail = np.array(layer.thumbnail)
    z = explorer.latent.copy()
    z[:] += 2.5
    with qtbot.waitSignal(views.edited_shown, timeout=30000):
        explorer.latent = z
    np.testing.assert_allclose(layer.data, explorer.decode(z)["mri"], atol=1e-5)
    qtbot.waitUntil(lambda: not np.array_equal(layer.thumbnail, thumbnail), timeout=5000)


def test_replace_in_place_refuses_what_it_cannot_update(make_napari_viewer_proxy) -> None:
    viewer = make_napari_viewer_proxy()
    image = viewer.add_image(np.zeros((4, 8, 8), np.float32))
    assert replace_in_place(image, np.ones((4, 8, 8), np.float32)) and image.data.max() == 1.0
    assert not replace_in_place(image, np.ones((5, 8, 8), np.float32))  # another shape
    assert not replace_in_place(image, np.ones((4, 8, 8), np.float64))  # another dtype
    labels = viewer.add_labels(np.zeros((4, 8, 8), np.uint8))
    assert not replace_in_place(labels, np.ones((4, 8, 8), np.uint8))  # labels keep napari's own path
