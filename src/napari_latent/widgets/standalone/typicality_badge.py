"""Is a file the user opened like anything the model was trained on? A badge says so.

A cine or ECG read from a file is judged against a model's own held-out subjects
(:func:`~napari_latent.analysis.semantics.assess_with`): the model of an Explorer docked in
the same viewer when it carries reference statistics, else the shipped demo model. The work
(loading the model, bringing a cine to the model's grid, encoding) runs off the Qt thread.

* ECG files: a :class:`TypicalityBadge` in the ECG file view's top row.
* Cine files: the verdict goes into the image layer's ``metadata["typicality"]``, and while an
  atypical file cine is the active layer, a red line on the canvas says so.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QLabel

from .._qt.canvas_text import canvas_text
from .._qt.worker import start_worker

__all__ = ["TypicalityBadge", "assess_cine_layer", "explorer_model", "verdict"]

_ATYPICAL_STYLE = "background:#b3261e; color:white; padding:1px 6px; border-radius:3px; font-weight:bold"
_TYPICAL_STYLE = "color:#2e7d32; padding:1px 6px"
_OVERLAY_COLOUR = (1.0, 0.42, 0.36, 1.0)
#: Marks the canvas text as this module's, so it never hides text someone else put there.
_OVERLAY_MARK = "⚠ "


def explorer_model(viewer: Any) -> Any:
    """The model of an Explorer docked in ``viewer`` that can judge typicality, or None."""
    from ...analysis.reference import reference_of

    window = getattr(viewer, "window", None)
    for widget in dict(getattr(window, "dock_widgets", {}) or {}).values():
        explorer = getattr(widget, "explorer", None) or getattr(getattr(widget, "views", None), "explorer", None)
        model = getattr(explorer, "model", None)
        if model is not None and (reference_of(model) or {}).get("typicality"):
            return model
    return None


def _judge(model: Any, *, ecg: np.ndarray | None = None, mri: np.ndarray | None = None) -> tuple[Any, str]:
    """Worker thread: ``(Typicality, whose model)``; the demo model when ``model`` is None."""
    from ...analysis.semantics import assess_with

    whose = "the Explorer's model"
    if model is None:
        from ...model.checkpoint import load_demo_model

        model, whose = load_demo_model(), "the demo model"
    return assess_with(model, ecg=ecg, mri=mri), whose


def verdict(typicality: Any, whose: str) -> str:
    """One line for a person: typical or not, for which model, and how unusual."""
    pct = float(typicality.percentile)
    if typicality.typical:
        return f"typical for {whose} (more unusual than {pct:.0f}% of its held-out subjects)"
    if pct >= 100.0:
        return f"atypical for {whose}: more unusual than every one of its held-out subjects"
    return f"atypical for {whose}: more unusual than {pct:.1f}% of its held-out subjects"


class TypicalityBadge(QLabel):
    """A label that says whether an input is typical for the model; hidden until judged.

    :meth:`assess` judges off the Qt thread; :attr:`assessed` ``(typicality, whose)`` fires
    on the Qt thread with the verdict shown.
    """

    assessed = Signal(object, str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.typicality: Any = None
        self.setVisible(False)
        self.setToolTip(
            "judged against the model's own held-out subjects (latent density and reconstruction error):\n"
            "decodes and translations of an atypical input deserve less trust"
        )

    @property
    def atypical(self) -> bool:
        """Whether the judged input was found atypical (False before a verdict)."""
        return self.typicality is not None and not bool(self.typicality.typical)

    def assess(self, viewer: Any, *, ecg: np.ndarray | None = None, mri: np.ndarray | None = None) -> Any:
        """Judge ``ecg`` (12, 600) and/or ``mri`` (50, 96, 96) for the viewer's Explorer model or the demo model."""
        return start_worker(
            _judge, explorer_model(viewer), ecg=ecg, mri=mri,
            returned=lambda result: self._show(*result),
            error_prefix="Could not judge how typical the input is",
        )  # fmt: skip

    def _show(self, typicality: Any, whose: str) -> None:
        try:
            self.isVisible()
        except RuntimeError:  # the dock was closed while the model judged: nobody to tell
            return
        self.typicality = typicality
        atypical = not bool(typicality.typical)
        self.setText(("⚠ " if atypical else "✓ ") + verdict(typicality, whose))
        self.setStyleSheet(_ATYPICAL_STYLE if atypical else _TYPICAL_STYLE)
        self.setVisible(True)
        self.assessed.emit(typicality, whose)


def assess_cine_layer(viewer: Any, series: Any, name: str) -> Any:
    """Judge a cine read from a file; the verdict lands in layer ``name``'s metadata and on the canvas."""
    model = explorer_model(viewer)

    def work() -> tuple[Any, str]:
        from ...io.cine_preprocess import preprocess_cine

        mri = np.asarray(preprocess_cine(series).mri, np.float32)
        return _judge(model, mri=mri)

    def done(result: tuple[Any, str]) -> None:
        typicality, whose = result
        if name in viewer.layers:
            viewer.layers[name].metadata["typicality"] = {
                "percentile": float(typicality.percentile), "typical": bool(typicality.typical),
                "model": whose, "verdict": verdict(typicality, whose),
            }  # fmt: skip
        _follow_active_layer(viewer)
        _show_active(viewer)

    return start_worker(work, returned=done, error_prefix=f"Could not judge how typical {name} is")


def _follow_active_layer(viewer: Any) -> None:
    """Update the canvas line whenever another layer becomes active (connected once per viewer)."""
    model = getattr(viewer, "__wrapped__", viewer)
    if model in _following:
        return
    _following.add(model)
    viewer.layers.selection.events.active.connect(lambda _event=None: _show_active(viewer))


#: Viewers whose active layer the canvas line follows.
_following: weakref.WeakSet = weakref.WeakSet()


def _show_active(viewer: Any) -> None:
    """Show the active layer's verdict on the canvas when it is atypical; else hide our line."""
    overlay = canvas_text(viewer)
    layer = viewer.layers.selection.active
    info = layer.metadata.get("typicality") if layer is not None else None
    if info and not info.get("typical", True):
        overlay.text = f"{_OVERLAY_MARK}{layer.name}: {info['verdict']}"
        overlay.color = _OVERLAY_COLOUR
        overlay.visible = True
    elif str(overlay.text).startswith(_OVERLAY_MARK):
        overlay.visible = False
        overlay.text = ""
