"""On-canvas overlays of the embedding scatter, drawn in the view's pixel frame.

They do not pan or zoom: a legend (category swatches with counts, or a colour bar with its
limits) in the top-right corner, a title in the top-left, a hover label beside the cursor
and a centred message when there is nothing to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from vispy import scene
from vispy.color import get_colormap
from vispy.visuals.text.text import FontManager
from vispy.visuals.transforms import STTransform

__all__ = ["BOX_COLOUR", "TEXT_COLOUR", "Legend", "LegendEntry", "TextOverlays", "font_manager"]

BOX_COLOUR = (0.09, 0.10, 0.12, 0.82)
BORDER_COLOUR = (0.42, 0.45, 0.5, 0.9)
TEXT_COLOUR = (0.92, 0.93, 0.95, 1.0)
DIM_TEXT = (0.68, 0.71, 0.76, 1.0)
_FONT = 8.5
_ROW = 17.0
_PAD = 8.0
_CHAR_W = 6.6  # approximate advance of one character at _FONT, px


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: label, RGBA colour, subjects in the category and how many are selected."""

    label: str
    colour: tuple[float, float, float, float]
    count: int
    selected: int | None = None


def _box(parent) -> scene.visuals.Rectangle:
    return scene.visuals.Rectangle(
        center=(0, 0), width=20, height=20, color=BOX_COLOUR, border_color=BORDER_COLOUR, radius=4, parent=parent
    )


def font_manager() -> FontManager:
    """One glyph cache for all the text of one canvas (vispy makes one per Text otherwise)."""
    return FontManager()


def _text(parent, fonts: FontManager | None, **kwargs) -> scene.visuals.Text:
    kwargs = {"color": TEXT_COLOUR, "font_size": _FONT, "anchor_x": "left", "anchor_y": "center", **kwargs}
    return scene.visuals.Text(parent=parent, font_manager=fonts, **kwargs)


def _overlay(*visuals, order: int) -> None:
    for i, visual in enumerate(visuals):
        visual.set_gl_state("translucent", depth_test=False)
        visual.order = order + i
        visual.visible = False


class Legend:
    """The colour-by legend: categorical swatches or a continuous colour bar."""

    def __init__(self, view: scene.ViewBox, fonts: FontManager | None = None):
        self._view = view
        self._box = _box(view)
        self._title = _text(view, fonts, bold=True)
        self._swatches = scene.visuals.Markers(parent=view)
        self._labels = _text(view, fonts)
        self._counts = _text(view, fonts, anchor_x="right", color=DIM_TEXT)
        self._bar = scene.visuals.Image(np.zeros((2, 1, 4), np.float32), parent=view, interpolation="linear")
        self._bar.transform = STTransform()
        self._bar_edge = scene.visuals.Line(color=BORDER_COLOUR, width=1.0, parent=view)
        _overlay(
            self._box, self._title, self._swatches, self._bar, self._bar_edge, self._labels, self._counts, order=20
        )
        self._kind = "none"
        self._title_text = ""
        self._entries: list[LegendEntry] = []
        self._limits: tuple[float, float] | None = None

    @property
    def kind(self) -> str:
        """``"categorical"``, ``"continuous"`` or ``"none"``."""
        return self._kind

    @property
    def entries(self) -> list[LegendEntry]:
        """The categorical rows shown (empty for a continuous or no legend)."""
        return list(self._entries)

    @property
    def size(self) -> tuple[float, float]:
        """Width and height of the legend box in pixels ((0, 0) when there is none)."""
        if self._kind == "none":
            return 0.0, 0.0
        return float(self._box.width), float(self._box.height)

    @property
    def limits(self) -> tuple[float, float] | None:
        """The colour bar's (low, high) for a continuous column."""
        return self._limits

    def clear(self) -> None:
        self._kind, self._entries, self._limits, self._title_text = "none", [], None, ""
        self._show(False)

    def set_categorical(self, title: str, entries: Sequence[LegendEntry]) -> None:
        """Swatches, labels and counts (``selected / count`` while a selection exists)."""
        self._kind, self._title_text, self._entries, self._limits = "categorical", title, list(entries), None
        self._title.text = title
        self._labels.text = [e.label for e in self._entries]
        self._counts.text = [_count_text(e) for e in self._entries]
        self.place()

    def update_counts(self, entries: Sequence[LegendEntry]) -> None:
        """New counts for the same categories (cheap: text only)."""
        if self._kind == "categorical" and len(entries) == len(self._entries):
            width = max((len(_count_text(e)) for e in self._entries), default=1)
            self._entries = list(entries)
            self._counts.text = [_count_text(e) for e in self._entries]
            if max((len(_count_text(e)) for e in self._entries), default=1) != width:
                self.place()  # the box grows or shrinks with the widest count; else the layout stands

    def set_continuous(self, title: str, colormap: str, limits: tuple[float, float]) -> None:
        """A vertical colour bar from ``limits[0]`` (bottom) to ``limits[1]`` (top)."""
        self._kind, self._title_text, self._entries, self._limits = "continuous", title, [], limits
        ramp = get_colormap(colormap).map(np.linspace(1.0, 0.0, 128)).astype(np.float32)
        self._bar.set_data(ramp.reshape(128, 1, 4))
        self._title.text = title
        self._labels.text = [_number(limits[1]), _number(limits[0])]
        self._counts.text = []
        self.place()

    def place(self) -> None:
        """Lay the legend out in the top-right corner of the view."""
        if self._kind == "none":
            self._show(False)
            return
        self._show(True)
        width = float(self._view.width)
        if self._kind == "categorical":
            self._place_categorical(width)
        else:
            self._place_continuous(width)

    def _place_categorical(self, width: float) -> None:
        n = len(self._entries)
        label_w = _CHAR_W * max((len(e.label) for e in self._entries), default=1)
        count_w = _CHAR_W * max((len(_count_text(e)) for e in self._entries), default=1)
        inner = max(14.0 + label_w + 12.0 + count_w, _CHAR_W * len(self._title_text) + 4.0)
        box_w, box_h = inner + 2 * _PAD, _PAD * 2 + _ROW * (n + 1)
        left, top = width - box_w - 10.0, 10.0
        self._frame(left, top, box_w, box_h)
        ys = top + _PAD + _ROW * (np.arange(n) + 1.5)
        self._swatches.set_data(
            pos=np.column_stack([np.full(n, left + _PAD + 5.0), ys]).astype(np.float32),
            face_color=np.asarray([e.colour[:3] + (1.0,) for e in self._entries], np.float32),
            edge_width=0.0, size=10.0,
        )  # fmt: skip
        self._labels.pos = np.column_stack([np.full(n, left + _PAD + 16.0), ys])
        self._counts.pos = np.column_stack([np.full(n, left + box_w - _PAD), ys])
        self._bar.visible = self._bar_edge.visible = False

    def _place_continuous(self, width: float) -> None:
        bar_w, bar_h = 14.0, 120.0
        label_w = _CHAR_W * max(len(t) for t in self._labels.text)
        inner = max(bar_w + 8.0 + label_w, _CHAR_W * len(self._title_text) + 4.0)
        box_w, box_h = inner + 2 * _PAD, _PAD * 2 + _ROW + bar_h + 6.0
        left, top = width - box_w - 10.0, 10.0
        self._frame(left, top, box_w, box_h)
        x0, y0 = left + _PAD, top + _PAD + _ROW + 4.0
        self._bar.transform.scale = (bar_w, bar_h / 128.0)
        self._bar.transform.translate = (x0, y0)
        self._bar_edge.set_data(
            pos=np.float32([(x0, y0), (x0 + bar_w, y0), (x0 + bar_w, y0 + bar_h), (x0, y0 + bar_h), (x0, y0)])
        )
        self._labels.pos = np.float32([(x0 + bar_w + 8.0, y0 + 5.0), (x0 + bar_w + 8.0, y0 + bar_h - 5.0)])
        self._swatches.visible = self._counts.visible = False

    def _frame(self, left: float, top: float, box_w: float, box_h: float) -> None:
        self._box.center = (left + box_w / 2, top + box_h / 2)
        self._box.width, self._box.height = box_w, box_h
        self._title.pos = (left + _PAD, top + _PAD + _ROW / 2)

    def _show(self, visible: bool) -> None:
        for visual in (self._box, self._title, self._swatches, self._labels, self._counts, self._bar, self._bar_edge):
            visual.visible = visible


def _count_text(entry: LegendEntry) -> str:
    return f"{entry.count:,}" if entry.selected is None else f"{entry.selected:,} / {entry.count:,}"


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1e4 else f"{value:,.0f}"


class TextOverlays:
    """Title (top-left), hover label (beside the cursor) and a centred message."""

    def __init__(self, view: scene.ViewBox, fonts: FontManager | None = None):
        self._view = view
        self._title = _text(view, fonts, bold=True, anchor_y="bottom")
        self._subtitle = _text(view, fonts, color=DIM_TEXT, anchor_y="bottom")
        self._hover_box = _box(view)
        self._hover = _text(view, fonts, anchor_y="bottom", line_height=1.25)
        self._message = _text(view, fonts, anchor_x="center", color=DIM_TEXT, font_size=10)
        _overlay(self._title, self._subtitle, self._hover_box, self._hover, self._message, order=40)
        self._hover_at: tuple[float, float] | None = None

    def set_title(self, title: str, subtitle: str = "") -> None:
        self._title.text, self._subtitle.text = title, subtitle
        self._title.pos, self._subtitle.pos = (12.0, 10.0), (12.0, 28.0)
        self._title.visible, self._subtitle.visible = bool(title), bool(subtitle)

    def set_message(self, message: str) -> None:
        """A centred message (e.g. why nothing is drawn); empty hides it."""
        self._message.text = message
        self._message.visible = bool(message)
        self.place()

    def set_hover(self, text: str, at: tuple[float, float] | None) -> None:
        """Show ``text`` beside the view pixel position ``at`` (None hides it)."""
        self._hover_at = at if text else None
        self._hover.text = text
        self.place()

    def place(self) -> None:
        width, height = float(self._view.width), float(self._view.height)
        self._message.pos = (width / 2, height / 2)
        visible = self._hover_at is not None
        self._hover.visible = self._hover_box.visible = visible
        if not visible:
            return
        lines = self._hover.text.split("\n")
        box_w = _CHAR_W * max(len(line) for line in lines) + 2 * _PAD
        box_h = 15.0 * len(lines) + 2 * _PAD - 2.0
        x, y = self._hover_at[0] + 16.0, self._hover_at[1] + 16.0
        if x + box_w > width - 6.0:
            x = self._hover_at[0] - box_w - 16.0 if self._hover_at[0] - box_w - 16.0 > 4.0 else width - box_w - 6.0
        if y + box_h > height - 6.0:
            y = max(4.0, self._hover_at[1] - box_h - 12.0)
        self._hover_box.center = (x + box_w / 2, y + box_h / 2)
        self._hover_box.width, self._hover_box.height = box_w, box_h
        self._hover.pos = (x + _PAD, y + _PAD - 1.0)
