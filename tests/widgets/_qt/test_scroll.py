"""A tall widget scrolls inside its dock instead of making napari's window taller."""

from __future__ import annotations

from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

from napari_latent.widgets._qt.scroll import MIN_SCROLL_HEIGHT, scroll_contents


def _tall_form() -> QWidget:
    widget = QWidget()
    layout = QVBoxLayout(widget)
    widget.rows = [QLabel(f"row {i}") for i in range(40)]
    for row in widget.rows:
        row.setMinimumHeight(20)
        layout.addWidget(row)
    return widget


def test_scroll_contents_keeps_the_widget_and_shrinks_its_minimum_height(qtbot):
    widget = _tall_form()
    qtbot.addWidget(widget)
    tall = widget.minimumSizeHint().height()
    area = scroll_contents(widget)
    assert tall > 600 and widget.minimumSizeHint().height() <= MIN_SCROLL_HEIGHT + 10
    assert scroll_contents(widget) is area  # twice is harmless
    assert all(row.window() is widget for row in widget.rows)  # the same widgets, now in the area
    widget.resize(300, 200)
    widget.show()
    qtbot.waitExposed(widget)
    assert area.verticalScrollBar().maximum() > 0  # the rest is a scroll away
    area.ensureWidgetVisible(widget.rows[-1])
    assert widget.rows[-1].visibleRegion().boundingRect().height() > 0
