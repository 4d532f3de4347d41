"""A subject's cine and labels as napari layer data tuples (no Qt)."""

from __future__ import annotations

from typing import Any

from ...cohort.cohort import Subject
from ...cohort.schema import LABELS, MRI_FRAMES, MRI_PIXEL_SPACING_MM

LayerData = tuple[Any, dict[str, Any], str]

#: One colour per label value, close to the usual cardiac segmentation palette.
LABEL_COLORS = {
    0: "transparent",
    1: "#e6413c",  # LV blood pool
    2: "#46b450",  # myocardium
    3: "#3c78e6",  # RV
    4: "#f0c83c",  # LA
    5: "#b45ad2",  # RA
}


def cine_layer_kwargs(name: str, *, cycle_s: float | None = None) -> dict[str, Any]:
    """Layer keyword arguments shared by every cine layer: mm scale, time axis, grey colormap."""
    frame_s = (cycle_s / MRI_FRAMES) if cycle_s else 1.0
    return {
        "name": name,
        "scale": (frame_s, MRI_PIXEL_SPACING_MM, MRI_PIXEL_SPACING_MM),
        "axis_labels": ("t", "y", "x"),
        "units": ("s" if cycle_s else "pixel", "mm", "mm"),
        "colormap": "gray",
        "contrast_limits": (0.0, 1.0),
    }


def subject_layers(subject: Subject, *, prefix: str = "") -> list[LayerData]:
    """Image layer of the cine and, when present, a labels layer over it."""
    rr = subject.row.get("heart_rate")
    cycle_s = 60.0 / float(rr) if rr else None
    name = f"{prefix}{subject.subject_id} cine"
    meta = {"subject_id": subject.subject_id, "subject_index": subject.index}
    image_kw = {**cine_layer_kwargs(name, cycle_s=cycle_s), "metadata": meta}
    layers: list[LayerData] = [(subject.mri.astype("float32"), image_kw, "image")]
    if subject.labels is not None:
        label_kw = {
            "name": f"{prefix}{subject.subject_id} labels",
            "scale": image_kw["scale"],
            "axis_labels": image_kw["axis_labels"],
            "units": image_kw["units"],
            "opacity": 0.4,
            "colormap": _label_colormap(),
            "metadata": {**meta, "label_names": dict(LABELS)},
        }
        layers.append((subject.labels, label_kw, "labels"))
    return layers


def _label_colormap():
    from napari.utils.colormaps import DirectLabelColormap

    return DirectLabelColormap(color_dict={**LABEL_COLORS, None: "transparent"})
