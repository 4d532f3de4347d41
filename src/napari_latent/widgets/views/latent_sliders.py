"""Latent sliders: one draggable dot per latent dimension, phenotype directions, traversal.

The view of the Latent Space Explorer paper: every dimension of the current latent is a dot
on a horizontal track (shared axis in posterior-SD units) over a faint band with the
cohort's 5–95 % range of that dimension and a tick at the focused subject's own value.
Dragging a dot calls ``explorer.set_latent_dimension``; the decoded views follow.

Rows are ordered by variance across the cohort or by a probe's importance for a phenotype
(probe computed in a worker). Phenotype-direction sliders move the latent along
``explorer.direction(column)`` from the reset point, labelled in the phenotype's units.
"Play" animates the selected dimension or direction back and forth with a QTimer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QPoint, QTimer, Signal
from qtpy.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ...analysis.directions import Direction, order_by_importance, order_by_variance
from .._qt.binding import bind
from .._qt.notify import notify_error
from .decode_worker import BackgroundJobs
from .direction_sliders import DirectionPanel, DirectionSlider, direction_range
from ..plots.latent_tracks import ROW_H, DotTracks, TrackAxis, nice_limit

if TYPE_CHECKING:
    from ...explorer import Explorer

__all__ = ["LatentSliders"]

PLAY_INTERVAL_MS = 40
PLAY_PERIOD_S = 4.0  # one full back-and-forth sweep


class LatentSliders(QWidget):
    """Drag the current latent dimension by dimension or along phenotype directions.

    Signals: ``order_changed(order)`` when the rows are re-ordered, ``direction_added(column)``
    when a direction slider is ready (its probe runs in a worker).
    """

    order_changed = Signal(object)
    direction_added = Signal(str)

    def __init__(self, explorer: Explorer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explorer = explorer
        self._order_mode, self._order_column = "variance", None
        self._own_change = False
        self._target: tuple[str, Any] | None = None  # ("dim", d) or ("direction", column)
        self._play: dict[str, Any] | None = None
        self._jobs = BackgroundJobs()
        self._connected = False
        self._build()
        self._connect()
        self._on_embeddings(explorer.embeddings)
        self._on_groups(explorer.groups)

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        self.order_combo = QComboBox()
        self.order_combo.addItems(["variance", "importance"])
        self.order_combo.setToolTip(
            "order the rows by variance across the cohort, or by a probe's importance for a column"
        )
        self.column_combo = QComboBox(enabled=False)
        self.column_combo.setToolTip("the phenotype whose probe weights order the rows")
        self.order_combo.currentTextChanged.connect(
            lambda mode: self.set_order(mode, self.column_combo.currentText() or None)
        )
        self.column_combo.activated.connect(lambda _i: self.set_order("importance", self.column_combo.currentText()))
        top = QHBoxLayout()
        top.addWidget(QLabel("Order by"))
        top.addWidget(self.order_combo)
        top.addWidget(self.column_combo, 1)

        self.tracks = DotTracks()
        self.tracks.dragged.connect(self.drag)
        self.tracks.clicked.connect(self._select_dimension)
        self.tracks.released.connect(self._select_dimension)
        self.tracks.reset_requested.connect(self._reset_dimension)
        self.axis = TrackAxis(self.tracks)
        self.scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.tracks)
        self.scroll.setMinimumHeight(8 * ROW_H)
        self.status = QLabel()
        self.status.setWordWrap(True)

        self.direction_panel = DirectionPanel()
        self.direction_panel.add_requested.connect(self.add_direction)

        self.reset_button = QPushButton("Reset to subject", clicked=lambda: self.reset())
        self.group_combo = QComboBox()
        self.group_combo.setToolTip("a group whose mean latent to reset to")
        self.group_button = QPushButton(
            "Group mean", clicked=lambda: self.reset(self.group_combo.currentText() or None)
        )
        self.play_button = QPushButton("▶ Play", checkable=True)
        self.play_button.toggled.connect(lambda on: self.play() if on else self.stop())
        actions = QHBoxLayout()
        for w in (self.reset_button, self.group_combo, self.group_button, self.play_button):
            actions.addWidget(w)
        actions.insertStretch(3, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.axis)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.status)
        layout.addLayout(actions)
        layout.addWidget(self.direction_panel)

    def _connect(self) -> None:
        ev = self.explorer.events
        # deleted with its dock (no closeEvent): the binding stops listening without touching Qt objects
        self._binding = bind(self, [(getattr(ev, signal), slot) for signal, slot in self._slots()])
        self._connected = True

    def _slots(self) -> list[tuple[str, Callable]]:
        return [
            ("latent", self._on_latent),
            ("focus", self._on_focus),
            ("embeddings", self._on_embeddings),
            ("groups", self._on_groups),
            ("model", self._on_model),
        ]

    # ------------------------------------------------------------------ public API
    @property
    def order(self) -> np.ndarray:
        """The latent dimensions shown, top to bottom."""
        return self.tracks.order

    @property
    def directions(self) -> dict[str, Direction]:
        """The phenotype directions with a slider, by column."""
        return {c: s.direction for c, s in self._rows.items()}

    @property
    def busy(self) -> bool:
        """Whether a probe for an ordering or a direction is still running."""
        return self._jobs.busy

    @property
    def _rows(self) -> dict[str, DirectionSlider]:
        return self.direction_panel.rows

    @property
    def playing(self) -> bool:
        return self._play is not None

    def set_order(self, mode: str, column: str | None = None) -> None:
        """Order rows by ``"variance"`` or by probe ``"importance"`` for ``column`` (worker)."""
        if mode not in ("variance", "importance"):
            raise ValueError(f"order must be 'variance' or 'importance', not {mode!r}")
        self._order_mode, self._order_column = mode, column
        self._sync_combo(self.order_combo, mode)
        self.column_combo.setEnabled(mode == "importance")
        if mode == "importance" and column:
            self._sync_combo(self.column_combo, column)
        self._update_order()

    def drag(self, dim: int, value: float) -> None:
        """What dragging dot ``dim`` to ``value`` does: set that dimension of the current latent."""
        if self.explorer.latent is None:
            return
        self._target = ("dim", int(dim))
        self.tracks.set_selected(int(dim))
        self._as_own(lambda: self.explorer.set_latent_dimension(int(dim), float(value)))

    def dot_position(self, dim: int) -> QPoint:
        """Centre of dimension ``dim``'s dot in :attr:`tracks` coordinates (scrolled into view)."""
        pos = self.tracks.dot_position(dim)
        self.scroll.ensureVisible(pos.x(), pos.y(), 0, ROW_H)
        return pos

    def add_direction(self, column: str) -> None:
        """Add a slider along ``explorer.direction(column)``; ``direction_added`` when ready."""
        if not column or column in self._rows or not self.explorer.embeddings:
            return
        info = self.explorer.cohort.columns.get(column)
        unit = info.unit if info is not None and info.unit not in ("", "1") else None
        job = lambda: self.explorer.direction(column, unit=unit)
        self._jobs.start(f"direction:{column}", job, self._direction_ready, f"Direction of {column}")

    def remove_direction(self, column: str) -> None:
        """Remove a direction slider (the latent stays where it is)."""
        if self.direction_panel.remove_row(column) is not None and self._target == ("direction", column):
            self._target = None

    def set_direction_value(self, column: str, delta: float) -> None:
        """Move the latent so the direction of ``column`` stands at ``delta`` target units from the reset point."""
        slider = self._rows[column]
        if self.explorer.latent is None:
            return
        step = slider.direction.offset(float(delta) - slider.delta)
        slider.set_delta(delta)
        self._target = ("direction", column)
        self._as_own(lambda: setattr(self.explorer, "latent", self.explorer.latent + step))

    def direction_value(self, column: str) -> float:
        """Where the direction slider of ``column`` stands, in target units."""
        return self._rows[column].delta

    def reset(self, to: str | int | None = None) -> None:
        """Reset the latent to the focused subject (default), a subject or a group's mean."""
        self.stop(restore=False)
        try:
            self.explorer.reset_latent(to)
        except (RuntimeError, KeyError) as exc:
            notify_error(str(exc))

    def play(self, target: tuple[str, Any] | None = None) -> None:
        """Animate the latent back and forth along a dimension or a direction until :meth:`stop`."""
        target = target or self._target or (("dim", int(self.order[0])) if len(self.order) else None)
        if target is None or self.explorer.latent is None:
            self.play_button.setChecked(False)
            return
        self.stop()
        kind, key = target
        if kind == "dim":
            start = self.explorer.latent.copy()
            lo, hi = np.percentile(self.explorer.latents()[:, key], [5, 95])
            amplitude = max(float(hi - lo), 1e-3)
        else:
            start, amplitude = self._rows[key].delta, self._rows[key].half_range
        self._play = {
            "target": target,
            "start": start,
            "amplitude": amplitude,
            "phase": 0.0,
            "timer": QTimer(self, interval=PLAY_INTERVAL_MS),
        }
        self._play["timer"].timeout.connect(self._tick)
        self._play["timer"].start()
        self._set_play_button(True)

    def stop(self, restore: bool = True) -> None:
        """Stop the traversal; with ``restore`` the latent goes back to where it started."""
        play, self._play = self._play, None
        self._set_play_button(False)
        if play is None:
            return
        play["timer"].stop()
        kind, key = play["target"]
        if restore and kind == "dim" and self.explorer.latent is not None:
            self.drag(key, float(play["start"][key]))
        elif restore and kind == "direction" and key in self._rows:
            self.set_direction_value(key, play["start"])

    def close(self) -> bool:
        self._shutdown()
        return super().close()

    # ------------------------------------------------------------------ explorer events
    def _on_latent(self, z: np.ndarray | None) -> None:
        self.tracks.set_values(z)
        if not self._own_change:  # moved by someone else: a new reset point
            self.stop(restore=False)
            for slider in self._rows.values():
                slider.set_delta(0.0)
        self._enable()

    def _on_focus(self, index: int | None) -> None:
        fused = self.explorer.embeddings.get("fused")
        self.tracks.set_reference(None if index is None or fused is None else fused[index])
        self._enable()

    def _on_embeddings(self, embeddings: dict[str, np.ndarray]) -> None:
        fused = embeddings.get("fused") if embeddings else None
        if fused is None:
            self.tracks.set_band(None, None)
            self.tracks.set_order(np.zeros(0, dtype=np.int64))
            self._fill_columns()
            self._enable()
            return
        lo, hi = np.percentile(fused, [5, 95], axis=0)
        extreme = np.percentile(np.abs(fused), 99.5, axis=0).max()
        self.tracks.set_band(lo, hi)
        self.tracks.set_limit(nice_limit(1.2 * float(extreme)))
        self.axis.update()
        self._on_focus(self.explorer.focused)
        self.tracks.set_values(self.explorer.latent)
        self._fill_columns()
        self._update_order()
        for column in list(self._rows):  # directions of the old latents are stale
            self.remove_direction(column)
            self.add_direction(column)
        self._enable()

    def _on_groups(self, groups: list) -> None:
        current = self.group_combo.currentText()
        self.group_combo.clear()
        self.group_combo.addItems([g.name for g in groups])
        self._sync_combo(self.group_combo, current)
        self._enable()

    def _on_model(self, _model: object) -> None:
        self.stop(restore=False)
        self._on_embeddings(self.explorer.embeddings)

    # ------------------------------------------------------------------ internals
    def _as_own(self, change: Callable[[], None]) -> None:
        """Run a latent change of ours (it keeps the direction sliders where they are)."""
        self._own_change = True
        try:
            change()
        except (RuntimeError, ValueError) as exc:
            notify_error(str(exc))
        finally:
            self._own_change = False

    def _update_order(self) -> None:
        fused = self.explorer.embeddings.get("fused")
        if fused is None:
            return
        column = self._order_column
        if self._order_mode == "importance" and column:
            job = lambda: order_by_importance(self.explorer.probe(column))
            self._jobs.start("order", job, self._order_ready, f"Probe importance for {column}")
            return
        self._order_ready(order_by_variance(fused))

    def _order_ready(self, order: np.ndarray) -> None:
        self.tracks.set_order(order)
        what = (
            "variance across the cohort" if self._order_mode == "variance" else f"importance for {self._order_column}"
        )
        self.status.setText(f"{len(order)} dimensions · ordered by {what}")
        self.order_changed.emit(self.order)

    def _direction_ready(self, direction: Direction) -> None:
        column = direction.name
        if column in self._rows:
            return
        half = direction_range(self.explorer.table[column], direction.kind)
        slider = DirectionSlider(column, direction, half)
        slider.moved.connect(self.set_direction_value)
        slider.touched.connect(lambda c: setattr(self, "_target", ("direction", c)))
        slider.remove_requested.connect(self.remove_direction)
        self.direction_panel.add_row(slider)
        self._enable()
        self.direction_added.emit(column)

    def _select_dimension(self, dim: int) -> None:
        self._target = ("dim", int(dim))
        self.tracks.set_selected(int(dim))
        self._set_play_button(self.playing)

    def _reset_dimension(self, dim: int) -> None:
        fused, focus = self.explorer.embeddings.get("fused"), self.explorer.focused
        if fused is not None and focus is not None:
            self.drag(dim, float(fused[focus, dim]))

    def _tick(self) -> None:
        play = self._play
        if play is None:
            return
        play["phase"] += PLAY_INTERVAL_MS / 1000.0 / PLAY_PERIOD_S
        wave = float(np.sin(2 * np.pi * play["phase"]))
        kind, key = play["target"]
        if kind == "dim":
            self.drag(key, float(play["start"][key]) + wave * play["amplitude"])
        else:
            limit = play["amplitude"]
            self.set_direction_value(key, float(np.clip(play["start"] + wave * limit, -limit, limit)))

    def _set_play_button(self, on: bool) -> None:
        self.play_button.blockSignals(True)
        self.play_button.setChecked(on)
        self.play_button.blockSignals(False)
        what = (
            ""
            if self._target is None
            else (f" z{self._target[1]}" if self._target[0] == "dim" else f" {self._target[1]}")
        )
        self.play_button.setText(("■ Stop" if on else "▶ Play") + what)

    def _enable(self) -> None:
        has_latent = self.explorer.latent is not None
        self.reset_button.setEnabled(self.explorer.focused is not None and bool(self.explorer.embeddings))
        self.group_button.setEnabled(self.group_combo.count() > 0 and bool(self.explorer.embeddings))
        self.play_button.setEnabled(has_latent)
        self.direction_panel.set_enabled(has_latent)
        if not self.explorer.embeddings:
            self.status.setText("No latents yet: load a model and embed the cohort.")
        elif not has_latent:
            self.status.setText("Focus a subject (or reset to a group mean) to edit its latent.")
        elif self.status.text().startswith(("No latents", "Focus a subject")):
            self._order_ready(self.order)

    def _fill_columns(self) -> None:
        table = self.explorer.table
        columns = [c for c in table.columns if c != "subject_id" and table[c].nunique(dropna=True) >= 2]
        for combo in (self.column_combo, self.direction_panel.column_combo):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(columns)
            self._sync_combo(combo, current)
            combo.blockSignals(False)

    @staticmethod
    def _sync_combo(combo: QComboBox, text: str | None) -> None:
        i = combo.findText(text or "")
        if i >= 0 and combo.currentIndex() != i:
            combo.blockSignals(True)
            combo.setCurrentIndex(i)
            combo.blockSignals(False)

    def _shutdown(self) -> None:
        """Stop the animation, ignore pending worker results and disconnect from the explorer."""
        self.stop(restore=False)
        self._jobs.cancel_all()
        if self._connected:
            self._binding.disconnect()
            self._connected = False

    def closeEvent(self, event) -> None:
        self._shutdown()
        super().closeEvent(event)

