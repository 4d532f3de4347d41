"""Fixtures shared by the docked-view tests."""

from __future__ import annotations

import pytest

from napari_latent.widgets.views.decoded_views import DecodedViews


@pytest.fixture
def views(make_napari_viewer_proxy, explorer, qtbot) -> DecodedViews:
    """The decoded views of the ``explorer`` fixture in a napari viewer, closed afterwards."""
    viewer = make_napari_viewer_proxy()
    views = DecodedViews(explorer, viewer)
    qtbot.addWidget(views.widget)
    yield views
    views.close()
