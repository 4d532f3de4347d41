"""The Qt controls around the scatter canvas: tools, colour-by, style and projection.

A plain widget with child controls and no behaviour of its own: :class:`EmbeddingScatter`
connects them. Keeping them here keeps the widget module about the Explorer wiring.
"""

from __future__ import annotations

from collections.abc import Sequence

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from ..._qt.progress import set_progress
from .compute import METHOD_LABELS

__all__ = ["NO_COLUMN", "ScatterControls"]

#: The colour-by entry meaning "one colour for all".
NO_COLUMN = "(none)"

_TOOL_TIPS = {
    "pan": "Pan and zoom (P). Drag pans, wheel zooms, click focuses a subject.\n"
    "Shift/Alt + drag: lasso that adds to / subtracts from the selection.",
    "lasso": "Lasso selection (L). Shift adds, Alt or Ctrl subtracts; Esc clears.",
    "box": "Box selection (B). Shift adds, Alt or Ctrl subtracts; Esc clears.",
}

_TOOL_HINTS = {
    "pan": "Drag pans, wheel zooms, click focuses · Shift/Alt-drag lassos",
    "lasso": "Draw around points · Shift adds, Alt/Ctrl subtracts · Esc clears",
    "box": "Drag a box · Shift adds, Alt/Ctrl subtracts · Esc clears",
}


def _slider(minimum: float, maximum: float, value: float, decimals: int, tip: str) -> QLabeledDoubleSlider:
    slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
    slider.setRange(minimum, maximum)
    slider.setDecimals(decimals)
    slider.setValue(value)
    slider.setToolTip(tip)
    slider.setMinimumWidth(90)
    return slider


class ScatterControls:
    """Builds the controls and lays them out around a canvas widget."""

    def __init__(self, parent: QWidget, methods: Sequence[str]):
        self.space = QComboBox(parent)
        self.space.setToolTip("Latent space shown")
        self.tools = QButtonGroup(parent)
        self.tools.setExclusive(True)
        self.tool_buttons: dict[str, QPushButton] = {}
        for name in ("pan", "lasso", "box"):
            button = QPushButton(name.capitalize(), parent, checkable=True, toolTip=_TOOL_TIPS[name])
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            self.tools.addButton(button)
            self.tool_buttons[name] = button
        self.tool_buttons["pan"].setChecked(True)
        self.reset = QPushButton("Reset view", parent, toolTip="Fit all points (R, or double-click the map)")
        self.clear = QPushButton("Clear", parent, toolTip="Clear the selection (Esc)")
        self.density = QCheckBox("Density", parent)
        self.density.setToolTip("Draw the density of the points (with contours) under fainter points:\n"
                                "counts no longer depend on which point was drawn last")
        self.clusters = QToolButton(parent, text="Clusters ")
        self.clusters.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.clusters.setToolTip("Find clusters (HDBSCAN) and label each with the phenotypes that set it apart;\n"
                                 "click a label to select its cluster")
        menu = QMenu(self.clusters)
        self.find_on_map = menu.addAction("Find clusters on this map")
        self.find_in_latents = menu.addAction("Find clusters in the latent space")
        menu.addSeparator()
        self.clusters_to_groups = menu.addAction("Make a group of each cluster")
        self.hide_clusters = menu.addAction("Hide the clusters")
        self.clusters.setMenu(menu)
        self.colour_by = QComboBox(parent)
        self.colour_by.setToolTip("Colour points by a column of the subjects table")
        self.colour_by.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.size = _slider(1.0, 20.0, 6.0, 1, "Marker diameter (screen pixels)")
        self.opacity = _slider(0.05, 1.0, 0.85, 2, "Marker opacity")
        self.method = QComboBox(parent)
        for method in methods:
            self.method.addItem(METHOD_LABELS.get(method, method), method)
        self.method.setToolTip("Projection of the latent space to 2-D")
        self.perplexity = QDoubleSpinBox(
            parent, minimum=2.0, maximum=500.0, value=30.0, decimals=0, prefix="perplexity "
        )
        self.perplexity.setToolTip("t-SNE perplexity (lowered automatically for small cohorts)")
        self.compute = QPushButton("Compute", parent)
        self.compute.setToolTip("Compute the projection (t-SNE streams its layout while it optimises)")
        self.progress = QProgressBar(parent, textVisible=False, maximumHeight=10)
        self.cancel = QPushButton("Cancel", parent)
        self.cancel.setToolTip("Stop the projection and keep the current map")
        self.status = QLabel(parent)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.set_running(False)

    def layout(self, parent: QWidget, canvas: QWidget) -> QVBoxLayout:
        """Lay out: tool row, canvas, style row, projection row, status line."""
        tools = QHBoxLayout()
        tools.setSpacing(4)
        tools.addWidget(self.space)
        for button in self.tool_buttons.values():
            tools.addWidget(button)
        tools.addWidget(self.reset)
        tools.addWidget(self.clear)
        tools.addStretch(1)
        tools.addWidget(QLabel("Colour by", parent))
        tools.addWidget(self.colour_by)

        style = QHBoxLayout()
        style.addWidget(QLabel("Size", parent))
        style.addWidget(self.size, 1)
        style.addSpacing(8)
        style.addWidget(QLabel("Opacity", parent))
        style.addWidget(self.opacity, 1)
        style.addWidget(self.density)
        style.addWidget(self.clusters)

        projection = QHBoxLayout()
        projection.addWidget(QLabel("Map", parent))
        projection.addWidget(self.method)
        projection.addWidget(self.perplexity)
        projection.addWidget(self.compute)
        projection.addWidget(self.progress, 1)
        projection.addWidget(self.cancel)
        projection.addStretch(0)

        layout = QVBoxLayout(parent)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(tools)
        layout.addWidget(canvas, 1)
        layout.addLayout(style)
        layout.addLayout(projection)
        layout.addWidget(self.status)
        return layout

    def set_running(self, running: bool) -> None:
        """Show the progress bar and Cancel while a projection runs."""
        self.progress.setVisible(running)
        self.cancel.setVisible(running)
        self.compute.setEnabled(not running)
        if running:
            self.progress.setRange(0, 0)

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            set_progress(self.progress, done, total)

    def set_columns(self, columns: Sequence[str], current: str | None) -> None:
        """Fill the colour-by combo without emitting its change signal."""
        self.colour_by.blockSignals(True)
        self.colour_by.clear()
        self.colour_by.addItems([NO_COLUMN, *columns])
        self.colour_by.setCurrentText(current or NO_COLUMN)
        self.colour_by.blockSignals(False)

    def show_colour_by(self, column: str | None) -> None:
        """Show ``column`` in the colour-by combo without emitting its change signal."""
        self.colour_by.blockSignals(True)
        self.colour_by.setCurrentText(column or NO_COLUMN)
        self.colour_by.blockSignals(False)

    def set_spaces(self, spaces: Sequence[str], current: str) -> None:
        """Fill the latent-space combo (the current one is listed even without embeddings)."""
        self.space.blockSignals(True)
        self.space.clear()
        self.space.addItems(list(dict.fromkeys([*spaces, current])))
        self.space.setCurrentText(current)
        self.space.blockSignals(False)

    def show_tool(self, tool: str) -> None:
        """Check the tool's button and show how to use it."""
        self.tool_buttons[tool].setChecked(True)
        self.status.setText(_TOOL_HINTS[tool])

    @staticmethod
    def sync(slider: QLabeledDoubleSlider, value: float) -> None:
        """Move a slider to ``value`` without emitting its change signal."""
        if abs(slider.value() - value) > 1e-6:
            slider.blockSignals(True)
            slider.setValue(value)
            slider.blockSignals(False)

    def show_method(self, method: str) -> None:
        """Show ``method`` in the projection combo (if it is one of its choices)."""
        index = self.method.findData(method)
        if index >= 0:
            self.method.setCurrentIndex(index)

    def method_changed(self) -> None:
        self.perplexity.setVisible(self.method.currentData() == "tsne")
