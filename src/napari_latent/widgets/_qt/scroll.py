"""Let a tall widget scroll inside its dock instead of forcing the main window taller.

napari's main window is at least as tall as the sum of its docks' minimum heights, so one
tall form (a training form, a stack of sliders) can push the window past the screen and
clip it. :func:`scroll_contents` moves a widget's layout into a vertical scroll area inside
the same widget: the widget object stays the one that is docked (and that tests and
scripts reach), only its minimum height shrinks.
"""

from __future__ import annotations

from qtpy.QtCore import QSize, Qt
from qtpy.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

__all__ = ["scroll_contents", "MIN_SCROLL_HEIGHT"]

#: Minimum height of a scrolled widget (about three form rows): seven such docks and the
#: bottom ECG still fit a 1080-pixel screen.
MIN_SCROLL_HEIGHT = 80


class _ScrollArea(QScrollArea):
    """A scroll area that asks for its contents' full size (Qt caps it at 36 × 24 lines)."""

    def sizeHint(self) -> QSize:
        inner = self.widget()
        if inner is None:
            return super().sizeHint()
        hint = inner.sizeHint()
        return QSize(hint.width() + self.verticalScrollBar().sizeHint().width(), hint.height())


def scroll_contents(
    widget: QWidget, *, min_height: int = MIN_SCROLL_HEIGHT, min_width: int | None = None
) -> QScrollArea:
    """Move ``widget``'s layout into a scroll area inside ``widget`` and return the area.

    The area scrolls vertically when the dock is shorter than the contents. It keeps the
    contents' minimum width (nothing clipped sideways) unless ``min_width`` is given, then
    it scrolls sideways too below that width. Calling it twice is harmless.
    """
    existing = getattr(widget, "_scroll_area", None)
    if existing is not None:
        return existing
    inner = QWidget()
    inner.setObjectName(f"{type(widget).__name__}Contents")
    layout = widget.layout()
    if layout is not None:
        inner.setLayout(layout)  # Qt takes the layout (and its widgets) off ``widget``
    area = _ScrollArea()
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setWidget(inner)
    bar = area.verticalScrollBar().sizeHint().width()
    area.setMinimumWidth(min_width if min_width is not None else inner.minimumSizeHint().width() + bar)
    area.setMinimumHeight(min(min_height, max(inner.minimumSizeHint().height(), 1)))
    outer = QVBoxLayout(widget)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)
    widget._scroll_area = area
    return area
